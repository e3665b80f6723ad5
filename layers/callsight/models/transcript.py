"""The transcript document the transcriber writes to S3 (schema version 1) and the facts kept on the call.

A transcript is too big for a DynamoDB item (400 KB), so the call record keeps only
:class:`TranscriptionFacts` and the transcript's S3 location. Consumers check ``schema_version``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TRANSCRIPT_SCHEMA_VERSION: Literal[1] = 1


class Speaker(StrEnum):
    AGENT = "agent"
    CUSTOMER = "customer"
    #: Mono recordings (both parties on one channel): Callsight does not guess who spoke.
    UNKNOWN = "unknown"


class SpeakerAttribution(StrEnum):
    """How speakers were told apart."""

    CHANNEL = "channel"  # stereo: one party per channel, mapped by the PBX's agent channel
    #: mono: two voices told apart by speaker embeddings, the agent named by the rule pack's phrases
    #: (callsight.asr.diarization); words without a clear vote stay "unknown"
    VOICE = "voice"
    NONE = "none"  # mono, or stereo without a known agent channel: speaker is "unknown"

    @property
    def names_speakers(self) -> bool:
        """Words carry agent/customer (channel mapping or voice separation)."""
        return self is not SpeakerAttribution.NONE


class LanguageSource(StrEnum):
    DETECTED = "detected"
    CALL_HINT = "call_hint"  # sidecar / S3 metadata of the recording
    QUEUE_PROFILE = "queue_profile"  # CALLSIGHT_ASR_QUEUE_PROFILES


class Word(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: float
    end: float
    text: str
    probability: float
    channel: int
    speaker: Speaker
    segment: int = Field(description="Index into Transcript.segments of the segment this word came from.")
    space_before: bool = Field(default=True, description="False: written glued to the previous word.")


class Segment(BaseModel):
    """One decoding window's text, as Whisper produced it, with its quality signals."""

    model_config = ConfigDict(frozen=True)

    channel: int
    speaker: Speaker
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    word_count: int


class Turn(BaseModel):
    """Consecutive words of one speaker, split where the speaker changes or pauses."""

    model_config = ConfigDict(frozen=True)

    speaker: Speaker
    channel: int | None = Field(description="None when a turn is built from a mono mix.")
    start: float
    end: float
    text: str
    first_word: int
    word_count: int


class ModelInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Configured model (bundle name or directory name).")
    model_id: str = Field(description="Name plus a short hash of the weights: which model exactly.")
    device: Literal["cpu", "cuda"]
    compute_type: str
    beam_size: int
    batched: bool
    vad_threshold: float
    vad_filter: bool = True


class LanguageInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    probability: float | None = Field(description="Detection probability; None when the language was given.")
    source: LanguageSource


class Vocabulary(BaseModel):
    model_config = ConfigDict(frozen=True)

    hotwords: str | None = None
    initial_prompt: str | None = None


class ChannelInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    channel: int
    speaker: Speaker
    speech_s: float = Field(description="Seconds covered by this channel's words.")


class DiarizationInfo(BaseModel):
    """How a mono call's speakers were told apart, or why they were not (callsight.asr.diarization)."""

    model_config = ConfigDict(frozen=True)

    outcome: Literal["separated", "low_confidence", "no_agent_phrases", "too_little_speech"]
    confidence: float | None = Field(default=None, description="0..1; trusted at or above min_confidence.")
    min_confidence: float
    windows: int = 0
    centroid_similarity: float | None = None
    silhouette: float | None = None
    switch_rate: float | None = None
    minority_share: float | None = None
    #: Agent-phrase weight said by the group named agent and by the other group.
    agent_phrase_weight: tuple[int, int] | None = None
    #: How the agent's voice was named: the agent's enrolled voice print, or the rule pack's phrases.
    agent_chosen_by: Literal["voice_print", "phrases"] | None = None
    #: The call's agent had an enrolled voice print: cosine similarity of the print to the voice named
    #: agent and to the other one (no agent named: to the two voices in clustering order).
    voice_print_similarity: tuple[float, float] | None = None
    #: The similarity margin the print needed to name the agent (CALLSIGHT_VOICE_PRINT_MIN_MARGIN).
    voice_print_min_margin: float | None = None
    #: The similarity the voice named agent by the print needed (CALLSIGHT_VOICE_PRINT_MIN_SIMILARITY).
    voice_print_min_similarity: float | None = None
    #: Print and phrases both named a voice: the same one? (null: at most one of them named one.)
    voice_print_agrees_with_phrases: bool | None = None
    unattributed_words: int = 0
    processing_s: float = 0.0
    detail: str


class Transcript(BaseModel):
    """What was said in a call, word by word, with who said it and when."""

    schema_version: Literal[1] = TRANSCRIPT_SCHEMA_VERSION
    call_id: str | None = None
    language: LanguageInfo
    duration_s: float
    speaker_attribution: SpeakerAttribution
    speaker_note: str
    #: Mono calls only, when speaker separation ran (absent: stereo, or separation turned off).
    diarization: DiarizationInfo | None = None
    channels: list[ChannelInfo]
    model: ModelInfo
    vocabulary: Vocabulary
    segments: list[Segment]
    words: list[Word]
    turns: list[Turn]
    processing_s: float
    real_time_factor: float = Field(description="processing_s / duration_s (below 1: faster than real time).")
    created_at: datetime

    @property
    def text(self) -> str:
        return "\n".join(f"{turn.speaker.value}: {turn.text}" for turn in self.turns)


class TranscriptionFacts(BaseModel):
    """The part of a transcription kept on the call record (the transcript itself lives in S3)."""

    transcript_bucket: str
    transcript_key: str
    transcript_version_id: str | None = None
    language: str
    language_probability: float | None = None
    language_source: LanguageSource
    model_id: str
    device: str
    compute_type: str
    real_time_factor: float
    processing_s: float
    word_count: int
    speaker_attribution: SpeakerAttribution
    transcribed_at: datetime
