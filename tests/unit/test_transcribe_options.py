"""What the transcribe stage asks the recogniser for: language source order, vocabulary, agent side."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from callsight.asr.transcriber import Transcriber
from callsight.config import QueueProfile, Settings
from callsight.models.call import CallRecord, CallStatus, SourceObject
from callsight.models.messages import TranscribeRequest
from callsight.models.transcript import LanguageSource, Vocabulary
from callsight.stages.transcribe.service import TranscribeService

PROFILES = {
    "600": QueueProfile(language="ru", hotwords="Электроника", initial_prompt="Магазин Электроника."),
    "*": QueueProfile(hotwords="Callsight"),
}


def no_model() -> Transcriber:
    raise AssertionError("choosing options must not load a model")


def call(**fields: object) -> CallRecord:
    now = datetime.now(UTC)
    base: dict[str, object] = {
        "call_id": "c1", "status": CallStatus.RECEIVED, "source": SourceObject(bucket="b", key="recordings/x.wav"),
        "created_at": now, "updated_at": now,
    }  # fmt: skip
    return CallRecord.model_validate(base | fields)


@pytest.fixture
def service() -> TranscribeService:
    settings = Settings(asr_queue_profiles=PROFILES, agent_channel="right", asr_languages="ru, EN")
    return TranscribeService(settings, no_model)


def request(**fields: object) -> TranscribeRequest:
    return TranscribeRequest.model_validate(
        {"call_id": "c1", "bucket": "b", "key": "recordings/x.wav"} | fields
    )


def test_queue_profile_gives_language_and_vocabulary(service: TranscribeService) -> None:
    options = service.options_for(call(queue="600"), request())
    assert (options.language, options.language_source) == ("ru", LanguageSource.QUEUE_PROFILE)
    assert options.vocabulary == Vocabulary(hotwords="Электроника", initial_prompt="Магазин Электроника.")
    assert options.allowed_languages == frozenset({"ru", "en"})


def test_the_calls_own_hint_beats_the_queue(service: TranscribeService) -> None:
    options = service.options_for(call(queue="600", language_hint="en"), request())
    assert (options.language, options.language_source) == ("en", LanguageSource.CALL_HINT)
    assert options.vocabulary.hotwords == "Электроника"


def test_other_queues_detect_with_the_default_vocabulary(service: TranscribeService) -> None:
    options = service.options_for(call(queue="700"), request())
    assert options.language is None
    assert options.vocabulary == Vocabulary(hotwords="Callsight")


def test_agent_side_from_the_message_then_the_call_then_configuration(service: TranscribeService) -> None:
    assert service.options_for(call(), request(agent_channel="left")).agent_channel == "left"
    assert service.options_for(call(agent_channel="left"), request()).agent_channel == "left"
    assert service.options_for(call(), request()).agent_channel == "right"


def test_mono_speaker_separation_follows_its_settings() -> None:
    from callsight.asr.transcriber import TranscriptionOptions

    default = TranscriptionOptions.from_settings(Settings())
    assert default.diarize and default.diarization_min_confidence == 0.5
    off = TranscriptionOptions.from_settings(
        Settings(diarization_enabled=False, diarization_min_confidence=0.8)
    )
    assert not off.diarize and off.diarization_min_confidence == 0.8
    with pytest.raises(ValueError, match="less than or equal to 1"):
        Settings(diarization_min_confidence=1.5)
