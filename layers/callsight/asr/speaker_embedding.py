"""Speaker embeddings of short windows of a call: resemblyzer's VoiceEncoder on PyTorch (CPU).

The encoder's weights (``pretrained.pt``, 17 MB, Apache-2.0) ship inside the resemblyzer wheel:
nothing is downloaded. resemblyzer and torch are the ``diarization`` extra, installed in the
transcriber's image only; :func:`encoder_available` says whether this environment has them.
The VAD here is faster-whisper's Silero with short pauses kept (0.2 s), so that turn changes
split speech spans; the recognizer's own VAD merges across pauses of up to 2 s.
"""

from __future__ import annotations

import importlib.util
import threading
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from callsight.asr.audio import SAMPLE_RATE, Samples
from callsight.asr.diarization import Embeddings, Span

#: The encoder's mel frames are 10 ms apart.
FRAMES_PER_S = 100
#: resemblyzer normalises utterances to this loudness before embedding (its ``preprocess_wav``).
TARGET_DBFS = -30.0
_lock = threading.Lock()
_encoder: Any = None


def encoder_available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("resemblyzer", "torch"))


def speech_spans(audio: Samples, threshold: float) -> list[Span]:
    """Speech spans, split at pauses of 0.2 s or more (seconds)."""
    options = VadOptions(
        threshold=threshold, min_silence_duration_ms=200, speech_pad_ms=30, min_speech_duration_ms=200
    )
    return [
        (chunk["start"] / SAMPLE_RATE, chunk["end"] / SAMPLE_RATE)
        for chunk in get_speech_timestamps(audio, options)
    ]


def _load() -> Any:
    global _encoder
    with _lock:
        if _encoder is None:
            with warnings.catch_warnings():
                # On import, webrtcvad (through resemblyzer) announces pkg_resources' deprecation and
                # resemblyzer imports a deprecated scipy namespace: nothing we can act on.
                warnings.simplefilter("ignore", UserWarning)
                warnings.simplefilter("ignore", DeprecationWarning)  # scipy.ndimage.morphology
                from resemblyzer import VoiceEncoder

            _encoder = VoiceEncoder("cpu", verbose=False)
        return _encoder


def embed_windows(audio: Samples, windows: Sequence[Span], speech: Sequence[Span]) -> Embeddings:
    """One L2-normalised 256-d embedding per window (audio scaled so its speech is at -30 dBFS)."""
    encoder = _load()  # imports resemblyzer first, with its import-time warnings silenced
    import torch
    from resemblyzer.audio import wav_to_mel_spectrogram

    voiced = [audio[int(s * SAMPLE_RATE) : int(e * SAMPLE_RATE)] for s, e in speech]
    rms = float(np.sqrt(np.mean(np.concatenate(voiced) ** 2))) if voiced else 0.0
    scaled = (audio * (10 ** (TARGET_DBFS / 20) / max(rms, 1e-6))).astype(np.float32)
    mel = wav_to_mel_spectrogram(scaled)
    by_length: dict[int, list[int]] = {}
    frames = []
    for index, (start, end) in enumerate(windows):
        first = round(start * FRAMES_PER_S)
        chunk = mel[first : max(first + 1, round(end * FRAMES_PER_S))]
        frames.append(chunk)
        by_length.setdefault(len(chunk), []).append(index)
    result = np.zeros((len(windows), 256), dtype=np.float32)
    with torch.no_grad():
        for indexes in by_length.values():
            batch = torch.from_numpy(np.stack([frames[i] for i in indexes]).astype(np.float32))
            result[indexes] = encoder(batch).cpu().numpy()
    return result
