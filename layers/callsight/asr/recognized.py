"""What the engine returns: recognised segments and words (engine-neutral, plain data)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RecognizedWord:
    start: float
    end: float
    text: str
    probability: float
    #: Whisper's token began with a space (False: glued to the previous word, e.g. "-1" in "5-1").
    space_before: bool = True


@dataclass(frozen=True)
class RecognizedSegment:
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    words: tuple[RecognizedWord, ...]


@dataclass(frozen=True)
class DetectedLanguage:
    code: str
    probability: float
    top: tuple[tuple[str, float], ...]
