"""A call in which nothing was said (issue 15, item 12e): an hour of silence transcribes to no words,
and the real analyze handler must say "no speech" — no language, no sentiment, no outcome, no risk —
in the stored analysis, on the call record, in the CallAnalyzed event and through the API."""

from __future__ import annotations

import json
from typing import Any

from callsight.auth.tokens import Role
from callsight.models.analysis import CallAnalysis
from callsight.models.call import CallStatus
from callsight.models.messages import AnalyzeRequest
from callsight.resources import ANALYZE_QUEUE
from callsight.storage.analyses import AnalysisStore
from callsight.storage.queues import StageQueue
from chalice.test import Client

from tests.analysis_fixtures import build_transcript
from tests.audio_factory import pcm_wav
from tests.integration.conftest import Stack
from tests.integration.test_analyze_pipeline import listen, received
from tests.integration.test_api import bearer, client, get

__all__ = ["client"]  # the fixture, imported for this module's tests


def silent_call(env: Stack) -> Any:
    """An ingested call whose transcript (an hour long, as Whisper returns silence) has no words,
    analysed by the real analyze handler through its queue."""
    call = env.ingest("in-204-+79031234561-20261120-113001-1.1.wav", pcm_wav(seconds=1))
    transcript = build_transcript([], "en", 2, call_id=call.call_id).model_copy(update={"duration_s": 3600.0})
    assert transcript.words == []
    key, version = env.transcribed(call.call_id, transcript)
    request = AnalyzeRequest(
        call_id=call.call_id, transcript_bucket=f"{env.settings.prefix}-transcripts", transcript_key=key,
        transcript_version_id=version, language="en",
    )  # fmt: skip
    StageQueue(ANALYZE_QUEUE, env.settings).send(request, correlation_id=call.call_id)
    runner = env.runner(stages=("analyze",))
    assert runner.drain(max_seconds=60)
    assert runner.stats["analyze"].failed == 0
    return call


def test_silence_is_analysed_as_no_speech(env: Stack) -> None:
    taps = listen(env)
    call = silent_call(env)
    after = env.calls.get(call.call_id)
    assert after is not None and after.status is CallStatus.ANALYZED
    summary = after.analysis
    assert summary is not None and summary.no_speech
    assert summary.language is None and summary.outcome is None and summary.purpose is None
    assert summary.sentiment_overall is None and summary.sentiment_customer is None
    assert summary.sentiment_trend is None and summary.risk_score is None
    assert after.tags == [] and summary.metrics.duration_s == 3600.0 and summary.metrics.speech_s == 0
    assert any("no speech" in warning for warning in summary.warnings)

    document = AnalysisStore(env.settings).get(summary.analysis_key, summary.analysis_version_id)
    assert isinstance(document, CallAnalysis) and document.no_speech
    assert document.language is None and document.sentiment is None and document.outcome is None
    assert document.risk is None and document.categories == [] and document.checkpoints == {}

    [event] = received(env, taps["events-tap"])
    detail = event["detail"]
    assert detail["no_speech"] is True and detail["language"] is None and detail["sentiment"] is None
    assert received(env, taps["alerts-tap"]) == []


def test_the_api_says_no_speech(env: Stack, client: Client) -> None:
    call = silent_call(env)
    for headers in (bearer(env, Role.ADMIN), bearer(env, Role.AGENT, agent_id="204")):
        status, detail = get(client, f"/calls/{call.call_id}", headers)
        assert status == 200, detail
        assert detail["no_speech"] is True and detail["status"] == "ANALYZED"
        assert detail["language"] is None and detail["outcome"] is None and detail["sentiment"] is None
        assert detail["risk_score"] is None and detail["purpose"] is None
        status, page = get(client, "/calls", headers)
        [item] = page["items"]
        assert item["no_speech"] is True and item["language"] is None and item["sentiment"] is None
    assert get(client, "/calls?outcome=none", bearer(env, Role.ADMIN))[1]["items"] == []
    status, stats = get(client, "/stats?since=2026-11-20&until=2026-11-20", bearer(env, Role.ADMIN))
    assert status == 200 and stats["calls"] == 1 and stats["missed_call_rate"] == 1.0
    assert stats["outcomes"] == {} and stats["sentiment_per_day"] == {}, json.dumps(stats)


def test_a_silent_recording_goes_through_the_real_pipeline_as_no_speech(env: Stack) -> None:
    """Two minutes of digital silence, uploaded: ingest → Whisper (base, CPU) → analyze."""
    env.put("in-204-+79031234561-20261120-113001-7.1.wav", pcm_wav(seconds=120, tone_hz=0.0))
    runner = env.runner(stages=("ingest", "transcribe", "analyze"))
    assert runner.drain(max_seconds=300)
    [call] = env.all_calls()
    assert call.status is CallStatus.ANALYZED, (call.status, call.status_detail)
    assert call.transcription is not None and call.transcription.word_count == 0
    assert call.analysis is not None and call.analysis.no_speech and call.analysis.language is None
