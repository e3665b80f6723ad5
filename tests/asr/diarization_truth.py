"""Ground truth for mono speaker separation: a stereo sample mixed to mono, scored against its channels.

The bundled stereo samples keep one party per channel (agent left), so who speaks at each 10 ms
frame is known from the channels' energy. Shared by tests/asr/test_diarization.py and
tests/bench/diarization_benchmark.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from callsight.asr.audio import SAMPLE_RATE, DecodedAudio, Samples
from callsight.models.transcript import Speaker, Word

FRAME_S = 0.01
#: A channel frame louder than this (RMS, full scale 1.0) is speech; silence in the samples is digital
#: zero (A-law: its smallest code, 8/32768).
SPEECH_RMS = 0.005


def as_mono(audio: DecodedAudio) -> DecodedAudio:
    """Both channels averaged into one, as a PBX that records one mixed channel would."""
    return DecodedAudio(channels=(audio.mixdown(),), source_channels=1)


def _frame_rms(samples: Samples) -> np.ndarray:
    step = int(FRAME_S * SAMPLE_RATE)
    usable = len(samples) // step * step
    frames = samples[:usable].reshape(-1, step).astype(np.float64)
    return np.sqrt(np.mean(frames**2, axis=1))


def reference_frames(stereo: DecodedAudio) -> np.ndarray:
    """Per 10 ms frame: 0 silence, 1 agent (left), 2 customer (right), 3 both."""
    left, right = (_frame_rms(c) > SPEECH_RMS for c in stereo.channels)
    return left.astype(np.int64) + 2 * right.astype(np.int64)


def word_frames(words: Sequence[Word], frames: int) -> np.ndarray:
    """Per frame: 0 nobody, 1 agent, 2 customer, -1 a word of speaker ``unknown``."""
    hypothesis = np.zeros(frames, dtype=np.int64)
    code = {Speaker.AGENT: 1, Speaker.CUSTOMER: 2, Speaker.UNKNOWN: -1}
    for word in words:
        first, last = int(word.start / FRAME_S), max(int(word.start / FRAME_S) + 1, int(word.end / FRAME_S))
        hypothesis[first:last] = code[word.speaker]
    return hypothesis


@dataclass(frozen=True)
class Score:
    der: float  # (missed + false alarm + confusion) / reference speech, over frames
    missed: float
    false_alarm: float
    confusion: float  # includes speech attributed to "unknown"
    words_right: float  # share of words whose speaker matches the channel that carried them
    words: int


def score(words: Sequence[Word], stereo: DecodedAudio) -> Score:
    """DER of the words' speakers against the channels (agent left), no collar, single-speaker frames."""
    reference = reference_frames(stereo)
    hypothesis = word_frames(words, len(reference))
    single = reference != 3  # the samples have no overlap; frames where both are loud are left out
    ref, hyp = reference[single], hypothesis[single]
    speech = np.count_nonzero(ref > 0)
    missed = np.count_nonzero((ref > 0) & (hyp == 0))
    false_alarm = np.count_nonzero((ref == 0) & (hyp != 0))
    confusion = np.count_nonzero((ref > 0) & (hyp != 0) & (hyp != ref))
    right = 0
    for word in words:
        first, last = int(word.start / FRAME_S), max(int(word.start / FRAME_S) + 1, int(word.end / FRAME_S))
        span = reference[first:last]
        agent, customer = np.count_nonzero(span & 1), np.count_nonzero(span & 2)
        truth = Speaker.AGENT if agent >= customer else Speaker.CUSTOMER
        right += word.speaker is truth
    return Score(
        der=round((missed + false_alarm + confusion) / max(speech, 1), 4),
        missed=round(missed / max(speech, 1), 4),
        false_alarm=round(false_alarm / max(speech, 1), 4),
        confusion=round(confusion / max(speech, 1), 4),
        words_right=round(right / max(len(words), 1), 4),
        words=len(words),
    )
