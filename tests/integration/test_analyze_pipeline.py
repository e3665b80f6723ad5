"""The analyze stage on the embedded emulator: transcript in S3 → real analyze handler → ANALYZED call,
analysis document, search-index items, a CallAnalyzed event on the bus and alerts on SNS."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from callsight.analysis.languages import language_pack
from callsight.models.analysis import CallAnalysis
from callsight.models.call import CallRecord, CallStatus, SourceObject
from callsight.models.messages import AnalyzeRequest
from callsight.models.transcript import LanguageSource, SpeakerAttribution, TranscriptionFacts
from callsight.resources import ALERTS_TOPIC, ANALYZE_QUEUE, EVENT_BUS
from callsight.storage import aws
from callsight.storage.analyses import AnalysisStore
from callsight.storage.queues import StageQueue
from callsight.storage.tables import SearchEntryItem
from callsight.storage.transcripts import TranscriptStore

from tests.analysis_fixtures import build_transcript
from tests.integration.conftest import Stack

RU_CALL = [
    {"speaker": "agent", "start": 0.0, "end": 3.0, "text": "Магазин Электроника, здравствуйте, меня зовут Антон."},
    {"speaker": "customer", "start": 3.5, "end": 9.0, "text": "Телевизор за сорок девять тысяч рублей, это слишком дорого, что за херня."},
    {"speaker": "customer", "start": 9.5, "end": 14.0, "text": "Мой номер заказа семь два ноль пять один, телефон девять ноль три, один два три, четыре пять, шесть семь."},
    {"speaker": "agent", "start": 14.5, "end": 18.0, "text": "Я уточню цену и перезвоню. Спасибо за звонок!"},
]  # fmt: skip


def listen(env: Stack) -> dict[str, str]:
    """SQS queues subscribed to the event bus and the alerts topic, so the test sees what went out."""
    urls = {
        name: env.sqs.create_queue(QueueName=env.settings.name(name))["QueueUrl"]
        for name in ("events-tap", "alerts-tap")
    }
    arns = {
        name: env.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        for name, url in urls.items()
    }
    events: Any = aws.client("events", env.settings)
    bus = env.settings.name(EVENT_BUS)
    events.put_rule(Name="tap", EventBusName=bus, EventPattern=json.dumps({"source": ["callsight"]}))
    events.put_targets(Rule="tap", EventBusName=bus, Targets=[{"Id": "q", "Arn": arns["events-tap"]}])
    sns: Any = aws.client("sns", env.settings)
    topic = sns.create_topic(Name=ALERTS_TOPIC.physical(env.settings))["TopicArn"]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arns["alerts-tap"], Attributes={"RawMessageDelivery": "true"}
    )
    return urls


def received(env: Stack, url: str) -> list[dict[str, Any]]:
    """Every message that arrives within a second of the last one. SNS and EventBridge deliver
    asynchronously (on AWS and LocalStack, unlike moto), so one receive may return only the first."""
    bodies: list[dict[str, Any]] = []
    while batch := env.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages", []
    ):
        bodies += [json.loads(m["Body"]) for m in batch]
    return bodies


def transcribed_call(
    env: Stack, turns: list[dict[str, Any]], language: str = "ru", channels: int = 2
) -> tuple[CallRecord, AnalyzeRequest]:
    call_id = str(uuid.uuid4())
    transcript = build_transcript(turns, language, channels, call_id=call_id)
    store = TranscriptStore(env.settings)
    key, version = store.put(transcript)
    now = datetime.now(UTC)
    facts = TranscriptionFacts(
        transcript_bucket=store.bucket, transcript_key=key, transcript_version_id=version, language=language,
        language_source=LanguageSource.CALL_HINT, model_id="fixture@0", device="cpu", compute_type="int8",
        real_time_factor=0.1, processing_s=1.0, word_count=len(transcript.words),
        speaker_attribution=SpeakerAttribution.CHANNEL, transcribed_at=now,
    )  # fmt: skip
    record = CallRecord(
        call_id=call_id, status=CallStatus.TRANSCRIBED, source=SourceObject(bucket=env.bucket, key=f"recordings/{call_id}.wav"),
        transcription=facts, agent_id="204", queue="600", started_at=now, created_at=now, updated_at=now,
    )  # fmt: skip
    env.calls.create(record)
    request = AnalyzeRequest(
        call_id=call_id,
        transcript_bucket=store.bucket,
        transcript_key=key,
        transcript_version_id=version,
        language=language,
    )
    return record, request


def test_a_transcribed_call_is_analysed_indexed_announced_and_alerted(env: Stack) -> None:
    taps = listen(env)
    call, request = transcribed_call(env, RU_CALL)
    StageQueue(ANALYZE_QUEUE, env.settings).send(request, correlation_id=call.call_id)
    runner = env.runner(stages=("analyze",))
    assert runner.drain(max_seconds=60)
    assert runner.stats["analyze"].failed == 0

    after = env.calls.get(call.call_id)
    assert after is not None and after.status is CallStatus.ANALYZED
    assert {"price_complaint", "callback_request", "profanity"} <= set(after.tags)
    summary = after.analysis
    assert summary is not None and summary.outcome == "callback"
    assert summary.sentiment_customer is not None and summary.sentiment_customer < 0
    phone = next(e for e in summary.entities if e.type == "phone")
    assert phone.display == "+7903*****67" and phone.lookup_hash  # masked, with the erasure lookup hash

    document = AnalysisStore(env.settings).get(summary.analysis_key, summary.analysis_version_id)
    assert isinstance(document, CallAnalysis) and document.call_id == call.call_id
    raw = json.dumps(document.model_dump(mode="json"), ensure_ascii=False)
    assert "+79031234567" not in raw and "9031234567" not in raw, "unmasked PII in the stored analysis"

    russian = language_pack("ru")
    assert russian is not None
    price_entries = list(
        SearchEntryItem.query(f"ru#{russian.stem('дорого')}")
    )  # a search stems its terms alike
    assert [e.call_id for e in price_entries] == [call.call_id]
    assert price_entries[0].speakers == {"customer"} and 3.5 <= price_entries[0].offsets[0] <= 9.0
    assert [e.call_id for e in SearchEntryItem.query("ru#72051")] == [
        call.call_id
    ]  # order number said as words

    [event] = received(env, taps["events-tap"])
    assert event["detail-type"] == "CallAnalyzed" and event["source"] == "callsight"
    assert event["detail"]["call_id"] == call.call_id and "profanity" in event["detail"]["tags"]
    assert "Телевизор" not in json.dumps(event, ensure_ascii=False)
    alerts = {a["alert"]: a for a in received(env, taps["alerts-tap"])}
    assert "profanity" in alerts and alerts["profanity"]["call_id"] == call.call_id


def test_redelivery_and_reanalysis_keep_one_set_of_index_entries(env: Stack) -> None:
    call, request = transcribed_call(env, RU_CALL)
    queue = StageQueue(ANALYZE_QUEUE, env.settings)
    queue.send(request)
    queue.send(request)  # delivered twice
    assert env.runner(stages=("analyze",)).drain(max_seconds=60)
    after = env.calls.get(call.call_id)
    assert after is not None and after.status is CallStatus.ANALYZED
    assert [h.status for h in after.status_history].count(CallStatus.ANALYZED) == 1
    entries = list(SearchEntryItem.by_call.query(call.call_id))
    assert entries and len(entries) == len({e.term_key for e in entries})


def test_an_unusable_transcript_fails_the_call_with_the_reason(env: Stack) -> None:
    call, request = transcribed_call(env, RU_CALL)
    store = TranscriptStore(env.settings)
    broken = store.get(request.transcript_key, request.transcript_version_id).model_copy(
        update={"duration_s": -1.0}
    )
    _, version = store.put(broken)
    StageQueue(ANALYZE_QUEUE, env.settings).send(
        request.model_copy(update={"transcript_version_id": version})
    )
    assert env.runner(stages=("analyze",)).drain(max_seconds=60)
    after = env.calls.get(call.call_id)
    assert after is not None and after.status is CallStatus.FAILED
    assert after.status_reason == "transcript_invalid" and "not plausible" in (after.status_detail or "")
    assert env.drain_queue("analyze-dlq") == []


def test_a_missing_transcript_is_retried_then_failed_and_dead_lettered(env: Stack) -> None:
    call, request = transcribed_call(env, RU_CALL)
    StageQueue(ANALYZE_QUEUE, env.settings).send(
        request.model_copy(update={"transcript_key": "transcripts/nope.json", "transcript_version_id": None})
    )
    assert env.runner(visibility_timeout_s=0, stages=("analyze",)).drain(max_seconds=60)
    after = env.calls.get(call.call_id)
    assert after is not None and after.status is CallStatus.FAILED and after.status_reason == "analysis_error"
    assert len(env.drain_queue("analyze-dlq")) == 1


@pytest.mark.parametrize(("language", "channels"), [("de", 2), ("ru", 1)])
def test_unsupported_language_and_mono_are_analysed_with_warnings(
    env: Stack, language: str, channels: int
) -> None:
    call, request = transcribed_call(env, RU_CALL, language=language, channels=channels)
    StageQueue(ANALYZE_QUEUE, env.settings).send(request)
    assert env.runner(stages=("analyze",)).drain(max_seconds=60)
    after = env.calls.get(call.call_id)
    assert after is not None and after.status is CallStatus.ANALYZED and after.analysis is not None
    assert after.analysis.warnings
    if channels == 1:
        assert after.analysis.metrics.unavailable and after.analysis.sentiment_customer is None


def test_a_rate_alert_fires_once_when_its_hourly_count_is_reached(env: Stack) -> None:
    from callsight.analysis.analyzer import Analyzer
    from callsight.analysis.rules import parse_rules
    from callsight.stages.analyze.service import AnalyzeService

    rules = parse_rules(
        "version: rate-test\nrules:\n  - id: price_complaint\n    any: [{phrases: ['@price_complaint']}]\n"
        "alerts:\n  - id: price_spike\n    when: {tag: price_complaint, at_least_per_hour: 2}\n"
    )
    service = AnalyzeService(env.settings, Analyzer(rules, "RU", lambda phone: phone[-4:]))
    taps = listen(env)
    sent = []
    for _ in range(3):
        _, request = transcribed_call(env, RU_CALL)
        sent.append(service.handle(request).alerts)
    assert sent == [[], ["price_spike"], []]  # once, when the second call of the hour arrives
    [alert] = received(env, taps["alerts-tap"])
    assert alert["alert"] == "price_spike" and "2 calls tagged price_complaint this hour" in alert["reason"]


def test_a_broken_rule_file_stops_the_function_at_start(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    rules = tmp_path / "rules.yaml"
    rules.write_text("version: broken\nrules:\n  - id: a\n    any:\n      - {phrases: [x], speaker: boss}\n")
    script = "from callsight.local.runner import load_handler; load_handler('analyze')"
    env = dict(os.environ, CALLSIGHT_ANALYSIS_RULES=str(rules))
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert f"{rules}:5: rules.0.any.0.speaker" in result.stderr


def test_phone_and_card_numbers_never_become_search_terms(env: Stack) -> None:
    call, request = transcribed_call(
        env,
        [
            {
                "speaker": "customer",
                "start": 0,
                "end": 6,
                "text": "Номер заказа 72051, телефон 9031234567, карта 4111111111111111.",
            }
        ],
    )
    StageQueue(ANALYZE_QUEUE, env.settings).send(request)
    assert env.runner(stages=("analyze",)).drain(max_seconds=60)
    terms = {e.term_key for e in SearchEntryItem.by_call.query(call.call_id)}
    assert "ru#72051" in terms
    assert not [t for t in terms if "903123" in t or "411111" in t]


def test_a_call_without_the_recording_notice_alerts_unless_the_deployment_turned_it_off(env: Stack) -> None:
    """RU_CALL never says the call is recorded: the checkpoint is reported as not met and the
    ``recording_notice_missing`` alert reaches SNS; a deployment whose IVR plays the notice before the
    recording starts sets CALLSIGHT_ALERTS_DISABLED and gets the checkpoint but no alert."""
    from callsight.analysis.analyzer import Analyzer
    from callsight.analysis.rules import load_rules
    from callsight.stages.analyze.service import AnalyzeService

    analyzer = Analyzer(load_rules(), "RU", lambda phone: phone[-4:])
    taps = listen(env)
    noticed = [{"speaker": "agent", "start": 0.0, "end": 3.0, "text": "Разговор может быть записан."}] + [
        {**turn, "start": turn["start"] + 3.5, "end": turn["end"] + 3.5} for turn in RU_CALL
    ]
    _, silent = transcribed_call(env, RU_CALL)
    _, told = transcribed_call(env, noticed)
    service = AnalyzeService(env.settings, analyzer)
    assert "recording_notice_missing" in service.handle(silent).alerts
    assert "recording_notice_missing" not in service.handle(told).alerts
    alerts = [a for a in received(env, taps["alerts-tap"]) if a["alert"] == "recording_notice_missing"]
    assert [(a["call_id"], a["reason"]) for a in alerts] == [
        (silent.call_id, "checkpoint recording_notice not met")
    ]
    stored = env.calls.get(told.call_id)
    assert stored is not None and stored.analysis is not None
    assert stored.analysis.checkpoints["recording_notice"] is True

    off = AnalyzeService(
        env.settings.model_copy(update={"alerts_disabled": "recording_notice_missing"}), analyzer
    )
    _, again = transcribed_call(env, RU_CALL)
    assert "recording_notice_missing" not in off.handle(again).alerts
    after = env.calls.get(again.call_id)
    assert (
        after is not None
        and after.analysis is not None
        and after.analysis.checkpoints["recording_notice"] is False
    )
    with pytest.raises(ValueError, match="names no alert rule: recording_notice_mising"):
        AnalyzeService(
            env.settings.model_copy(update={"alerts_disabled": "recording_notice_mising"}), analyzer
        )
