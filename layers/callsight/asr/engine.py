"""The speech-recognition engine: faster-whisper (CTranslate2) on CUDA or CPU, loaded once per process.

Device ``auto`` picks CUDA float16 with the batched pipeline when a GPU is visible and CPU int8
otherwise; each choice can be overridden in configuration. VAD and word timestamps are always on.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import ctranslate2
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.vad import VadOptions, get_speech_timestamps

from callsight.asr.alignment import repair_word_times
from callsight.asr.audio import SAMPLE_RATE, Samples
from callsight.asr.model_store import resolve_model, weights_fingerprint
from callsight.asr.recognized import DetectedLanguage, RecognizedSegment, RecognizedWord
from callsight.config import Settings
from callsight.models.transcript import ModelInfo

logger = logging.getLogger(__name__)

#: A segment whose text compresses better than this is a repetition loop (Whisper's own threshold).
COMPRESSION_RATIO_THRESHOLD = 2.4

ProgressCallback = Callable[[float], None]


@dataclass(frozen=True)
class EngineConfig:
    model: str
    cache_dir: Path | None
    device: Literal["cpu", "cuda"]
    compute_type: str
    batched: bool
    batch_size: int
    beam_size: int
    cpu_threads: int
    vad_threshold: float
    vad_filter: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> EngineConfig:
        device: Literal["cpu", "cuda"]
        if settings.asr_device == "auto":
            device = "cuda" if cuda_available() else "cpu"
        else:
            device = settings.asr_device
        return cls(
            model=settings.asr_model,
            cache_dir=settings.asr_model_cache_dir,
            device=device,
            compute_type=settings.asr_compute_type or ("float16" if device == "cuda" else "int8"),
            batched=settings.asr_batched if settings.asr_batched is not None else device == "cuda",
            batch_size=settings.asr_batch_size,
            beam_size=settings.asr_beam_size,
            cpu_threads=settings.asr_cpu_threads or available_cores(),
            vad_threshold=settings.asr_vad_threshold,
            vad_filter=settings.asr_vad_filter,
        )


def cuda_available() -> bool:
    try:
        return int(ctranslate2.get_cuda_device_count()) > 0
    except RuntimeError:  # CTranslate2 built with CUDA but no driver present
        return False


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class AsrEngine:
    """One loaded Whisper model; thread-compatible, meant to be created once per process."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        started = time.perf_counter()
        self.model_dir = resolve_model(config.model, config.cache_dir)
        self._model = WhisperModel(
            str(self.model_dir),
            device=config.device,
            compute_type=config.compute_type,
            cpu_threads=config.cpu_threads,
            local_files_only=True,
        )
        self._batched = BatchedInferencePipeline(self._model) if config.batched else None
        self.load_s = time.perf_counter() - started
        label = Path(config.model).name
        label = label if label.startswith("whisper") else f"whisper-{label}"
        self.info = ModelInfo(
            name=label,
            model_id=f"{label}@{weights_fingerprint(self.model_dir)}",
            device=config.device,
            compute_type=config.compute_type,
            beam_size=config.beam_size,
            batched=config.batched,
            vad_threshold=config.vad_threshold,
            vad_filter=self._uses_vad,
        )
        logger.info(
            "speech model loaded",
            extra={"model_id": self.info.model_id, "device": config.device, "load_s": round(self.load_s, 2)},
        )

    @property
    def _uses_vad(self) -> bool:
        return self.config.vad_filter or self.config.batched  # batching decodes VAD chunks

    @property
    def _vad(self) -> VadOptions:
        return VadOptions(threshold=self.config.vad_threshold)

    def detect_language(self, audio: Samples, allowed: frozenset[str]) -> DetectedLanguage:
        """The most probable language of ``audio`` among ``allowed`` (any language if empty)."""
        _, _, ranked = self._model.detect_language(
            audio, vad_filter=True, vad_parameters=self._vad, language_detection_segments=3
        )
        candidates = [(code, p) for code, p in ranked if not allowed or code in allowed]
        if not candidates:  # VAD found nothing or no allowed language scored: fall back to the top one
            candidates = list(ranked)
        code, probability = max(candidates, key=lambda pair: pair[1])
        return DetectedLanguage(code=code, probability=float(probability), top=tuple(ranked[:5]))

    def transcribe(
        self,
        audio: Samples,
        *,
        language: str,
        hotwords: str | None = None,
        initial_prompt: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> list[RecognizedSegment]:
        """Segments with word timestamps for one channel. Long audio is decoded window by window
        (30 s), all of it; ``on_progress`` gets the seconds done after each segment."""
        options: dict[str, Any] = {
            "language": language,
            "beam_size": self.config.beam_size,
            "vad_filter": self._uses_vad,
            "vad_parameters": self._vad,
            "word_timestamps": True,
            "hotwords": hotwords or None,
            "initial_prompt": initial_prompt or None,
            "compression_ratio_threshold": COMPRESSION_RATIO_THRESHOLD,
        }
        if self._batched is not None:
            segments, _ = self._batched.transcribe(audio, batch_size=self.config.batch_size, **options)
        else:
            segments, _ = self._model.transcribe(audio, **options)
        result: list[RecognizedSegment] = []
        for segment in segments:
            words = tuple(
                RecognizedWord(
                    start=w.start,
                    end=w.end,
                    text=w.word.strip(),
                    probability=w.probability,
                    space_before=w.word[:1].isspace(),
                )
                for w in segment.words or ()
                if w.word.strip()
            )
            result.append(
                RecognizedSegment(
                    start=segment.start,
                    end=segment.end,
                    text=segment.text.strip(),
                    avg_logprob=segment.avg_logprob,
                    no_speech_prob=segment.no_speech_prob,
                    compression_ratio=segment.compression_ratio,
                    words=words,
                )
            )
            if on_progress is not None:
                on_progress(min(segment.end, len(audio) / SAMPLE_RATE))
        return repair_word_times(result, self.speech_spans(audio)) if self._uses_vad else result

    def speech_spans(self, audio: Samples) -> list[tuple[float, float]]:
        """The speech chunks the VAD filter decodes (padded), in seconds."""
        return [
            (chunk["start"] / SAMPLE_RATE, chunk["end"] / SAMPLE_RATE)
            for chunk in get_speech_timestamps(audio, self._vad)
        ]
