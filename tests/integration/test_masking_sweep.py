"""The masking sweep on the emulator: masked transcript replaces the unmasked one, the redacted audio
has a tone exactly where PII was said (measured), the original audio goes, and a rerun does nothing."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import av
import numpy as np
import pytest
from callsight.storage.call_repository import CallUpdates
from callsight.storage.transcripts import TranscriptStore
from callsight.sweeps.masking_sweep import MaskingSweep

from tests.analysis_fixtures import build_transcript
from tests.audio_factory import pcm_wav
from tests.integration.conftest import Stack

PHONE_TURN = {
    "speaker": "customer",
    "start": 4.0,
    "end": 7.0,
    "text": "девять ноль три, один два три, четыре пять, шесть семь",
}


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def test_masking_sweep_masks_text_bleeps_audio_and_drops_the_originals(env: Stack) -> None:
    started = datetime.now(UTC) - timedelta(days=40)
    name = f"in-202-+79031234567-{started:%Y%m%d-%H%M%S}-{uuid.uuid4().int % 10**9}.1.wav"
    call = env.ingest(name, pcm_wav(seconds=10, rate=8000, tone_hz=440))
    env.transcribe_requests()
    turns = [
        {
            "speaker": "agent",
            "start": 0.5,
            "end": 3.0,
            "text": "Здравствуйте, меня зовут Антон, назовите телефон.",
        },
        PHONE_TURN,
        {"speaker": "agent", "start": 7.5, "end": 9.5, "text": "Спасибо, записал."},
    ]
    transcript = build_transcript(turns, "ru", 1, call_id=call.call_id)
    store = TranscriptStore(env.settings)
    key, _version = env.transcribed(call.call_id, transcript)

    report = MaskingSweep(env.settings).run()
    [outcome] = report.outcomes
    assert outcome.masked == {"person": 1, "phone": 1} and outcome.redacted_key
    after = env.calls.get(call.call_id)
    assert (
        after is not None and after.masked_at is not None and after.redacted_audio_key == outcome.redacted_key
    )

    # the transcript key now holds only the masked version
    versions = store.versions(key)
    assert versions == [after.transcription.transcript_version_id] if after.transcription else False
    masked_text = store.get(key).text
    assert "[PHONE]" in masked_text and "[NAME]" in masked_text
    assert "девять ноль три" not in masked_text and "Антон" not in masked_text

    # the original recording is gone (every version); the redacted copy keeps format and rate
    listing = env.s3.list_object_versions(Bucket=env.bucket, Prefix=call.source.key)
    assert not listing.get("Versions") and not listing.get("DeleteMarkers")
    body = env.s3.get_object(Bucket=env.bucket, Key=outcome.redacted_key)["Body"].read()
    with av.open(io.BytesIO(body)) as container:
        stream = container.streams.audio[0]
        assert (container.format.name, stream.codec_context.name, stream.rate) == ("wav", "pcm_s16le", 8000)
        audio = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)]).astype(
            np.float32
        )
    rate = 8000
    phone_words = [
        w for w in transcript.words if w.start >= PHONE_TURN["start"] and w.end <= PHONE_TURN["end"]
    ]
    inside = audio[int(phone_words[0].start * rate) : int(phone_words[-1].end * rate)]
    outside = audio[int(7.6 * rate) : int(9.4 * rate)]
    assert abs(dominant_hz(inside, rate) - 1000) < 10, "no bleep where the phone number was said"
    assert abs(dominant_hz(outside, rate) - 440) < 10, "audio outside PII spans must be untouched"
    assert outcome.bleeped_s >= phone_words[-1].end - phone_words[0].start

    assert MaskingSweep(env.settings).run().outcomes == []  # done once, never again
    actions = [e.action for e in MaskingSweep(env.settings).audit.for_target(f"call:{call.call_id}")]
    assert actions == ["masking.apply"]


def test_dry_run_changes_nothing(env: Stack) -> None:
    started = datetime.now(UTC) - timedelta(days=40)
    call = env.ingest(f"in-202-+79031234567-{started:%Y%m%d-%H%M%S}-7.1.wav", pcm_wav(seconds=3))
    transcript = build_transcript([PHONE_TURN | {"start": 0.2, "end": 2.5}], "ru", 1, call_id=call.call_id)
    store = TranscriptStore(env.settings)
    key, version = env.transcribed(call.call_id, transcript)
    report = MaskingSweep(env.settings).run(dry_run=True)
    assert [o.masked for o in report.outcomes] == [{"phone": 1}]
    assert store.versions(key) == [version]
    after = env.calls.get(call.call_id)
    assert after is not None and after.masked_at is None


def test_a_masking_sweep_killed_halfway_is_finished_by_the_next_one(
    env: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = datetime.now(UTC) - timedelta(days=40)
    call = env.ingest(f"in-202-+79031234567-{started:%Y%m%d-%H%M%S}-9.1.wav", pcm_wav(seconds=8))
    transcript = build_transcript([PHONE_TURN], "ru", 1, call_id=call.call_id)
    store = TranscriptStore(env.settings)
    key, _version = env.transcribed(call.call_id, transcript)

    def crash(*_: object, **__: object) -> None:
        raise RuntimeError("Lambda timed out")

    monkeypatch.setattr(CallUpdates, "set_masked", crash)  # dies after every S3 change, before masked_at
    with pytest.raises(RuntimeError):
        MaskingSweep(env.settings).run()
    monkeypatch.undo()
    [outcome] = MaskingSweep(env.settings).run().outcomes  # the rerun finishes the job
    after = env.calls.get(call.call_id)
    assert after is not None and after.masked_at is not None and outcome.redacted_key
    assert len(store.versions(key)) == 1 and "[PHONE]" in store.get(key).text
    assert MaskingSweep(env.settings).run().outcomes == []


def test_the_erasure_function_answers_with_a_report_or_a_clear_error(env: Stack) -> None:
    from callsight.local.runner import LambdaContext, load_handler

    handler = load_handler("erasure")
    assert handler is not None
    context = LambdaContext(function_name="erasure", timeout_s=60)
    call = env.ingest("in-202-+79031234567-20261120-113000-5.1.wav", pcm_wav(seconds=2))
    report = handler({"phone": "+7 903 123-45-67", "requested_by": "dpo@example.com"}, context)
    assert [(o["call_id"], o["result"]) for o in report["outcomes"]] == [(call.call_id, "deleted")]
    assert (
        handler({"phone": "not a number", "requested_by": "dpo@example.com"}, context)["error"]
        == "invalid_phone"
    )
