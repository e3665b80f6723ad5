"""From a recording on disk to a :class:`~callsight.models.transcript.Transcript`.

The one code path behind the transcribe function and ``callsight transcribe``: decode each
channel, settle the language (given, or detected among the allowed ones on the mixed audio),
recognise each channel, merge into words and turns, time it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callsight.asr.audio import DecodedAudio, decode_channels
from callsight.asr.diarization import DEFAULT_MIN_CONFIDENCE
from callsight.asr.engine import AsrEngine
from callsight.asr.mono_speakers import separate_speakers
from callsight.asr.speaker_embedding import encoder_available
from callsight.asr.turns import build_turns, channel_speakers, channel_summaries, merge_channels
from callsight.asr.voice_print import DEFAULT_MIN_MARGIN, DEFAULT_MIN_SIMILARITY
from callsight.config import Settings
from callsight.models.transcript import LanguageInfo, LanguageSource, Transcript, Vocabulary
from callsight.observability import span

#: Language detection listens to the start of the call only (up to 3 x 30 s of speech in it).
DETECTION_WINDOW_S = 600.0

#: Progress callback: (seconds of audio done, seconds in all), channels counted one after another.
Progress = Callable[[float, float], None]


class AudioTooLong(Exception):
    """The recording is longer than this transcriber accepts (``CALLSIGHT_ASR_MAX_DURATION_S``)."""


@dataclass(frozen=True)
class TranscriptionOptions:
    language: str | None = None
    #: Where a given ``language`` came from (default: the call's own hint).
    language_source: LanguageSource | None = None
    allowed_languages: frozenset[str] = frozenset()
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    agent_channel: str | None = None
    turn_pause_s: float = 1.0
    mono_turn_pause_s: float = 0.4
    max_duration_s: float | None = None
    #: Mono: separate agent and customer by voice (callsight.asr.mono_speakers) when the encoder is installed.
    diarize: bool = True
    diarization_min_confidence: float = DEFAULT_MIN_CONFIDENCE
    #: Mono: the call's agent's enrolled voice print (callsight.asr.voice_print), when they have one.
    agent_voice_print: tuple[float, ...] | None = None
    voice_print_min_margin: float = DEFAULT_MIN_MARGIN
    voice_print_min_similarity: float = DEFAULT_MIN_SIMILARITY

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> TranscriptionOptions:
        defaults: dict[str, Any] = {
            "allowed_languages": settings.asr_language_set,
            "agent_channel": settings.agent_channel,
            "turn_pause_s": settings.asr_turn_pause_s,
            "mono_turn_pause_s": settings.asr_mono_turn_pause_s,
            "max_duration_s": settings.asr_max_duration_s,
            "diarize": settings.diarization_enabled,
            "diarization_min_confidence": settings.diarization_min_confidence,
            "voice_print_min_margin": settings.voice_print_min_margin,
            "voice_print_min_similarity": settings.voice_print_min_similarity,
        }
        return cls(**(defaults | overrides))


class Transcriber:
    def __init__(self, engine: AsrEngine) -> None:
        self.engine = engine

    def transcribe_file(
        self,
        path: Path,
        options: TranscriptionOptions,
        *,
        call_id: str | None = None,
        progress: Progress | None = None,
    ) -> Transcript:
        """Raises :class:`~callsight.asr.audio.AudioUndecodable` or :class:`AudioTooLong`."""
        started = time.perf_counter()
        with span("decode"):
            audio = decode_channels(path)
        if options.max_duration_s is not None and audio.duration_s > options.max_duration_s:
            raise AudioTooLong(
                f"{audio.duration_s:.0f} s of audio exceeds the transcriber's limit of "
                f"{options.max_duration_s:.0f} s (CALLSIGHT_ASR_MAX_DURATION_S); nothing was cut"
            )
        return self.transcribe_audio(audio, options, call_id=call_id, progress=progress, started=started)

    def transcribe_audio(
        self,
        audio: DecodedAudio,
        options: TranscriptionOptions,
        *,
        call_id: str | None = None,
        progress: Progress | None = None,
        started: float | None = None,
    ) -> Transcript:
        started = time.perf_counter() if started is None else started
        language = self._language(audio, options)
        speakers, attribution, note = channel_speakers(len(audio.channels), options.agent_channel)
        total = audio.duration_s * len(audio.channels)
        per_channel = []
        for channel, samples in enumerate(audio.channels):
            done_before = audio.duration_s * channel

            def report(seconds: float, done_before: float = done_before) -> None:
                if progress is not None:
                    progress(done_before + seconds, total)

            with span("asr", channel=channel, language=language.code):
                per_channel.append(
                    self.engine.transcribe(
                        samples,
                        language=language.code,
                        hotwords=options.vocabulary.hotwords,
                        initial_prompt=options.vocabulary.initial_prompt,
                        on_progress=report,
                    )
                )
            report(audio.duration_s)
        segments, words = merge_channels(per_channel, speakers)
        mono = len(audio.channels) == 1
        diarization = None
        if mono and options.diarize and words and not encoder_available():
            note += " (speaker separation is on, but the `diarization` extra is not installed here)"
        elif mono and options.diarize and words:
            with span("diarize"):
                separated = separate_speakers(
                    audio.channels[0],
                    words,
                    segments,
                    language.code,
                    vad_threshold=self.engine.config.vad_threshold,
                    min_confidence=options.diarization_min_confidence,
                    agent_print=options.agent_voice_print,
                    print_min_margin=options.voice_print_min_margin,
                    print_min_similarity=options.voice_print_min_similarity,
                )
            words, segments, attribution, note = (
                separated.words, separated.segments, separated.attribution, separated.note,
            )  # fmt: skip
            diarization = separated.info
        processing_s = time.perf_counter() - started
        return Transcript(
            call_id=call_id,
            language=language,
            duration_s=round(audio.duration_s, 3),
            speaker_attribution=attribution,
            speaker_note=note,
            diarization=diarization,
            channels=channel_summaries(words, speakers),
            model=self.engine.info,
            vocabulary=options.vocabulary,
            segments=segments,
            words=words,
            turns=build_turns(words, options.mono_turn_pause_s if mono else options.turn_pause_s, mono=mono),
            processing_s=round(processing_s, 3),
            real_time_factor=round(processing_s / audio.duration_s, 4) if audio.duration_s else 0.0,
            created_at=datetime.now(UTC),
        )

    def _language(self, audio: DecodedAudio, options: TranscriptionOptions) -> LanguageInfo:
        if options.language:
            return LanguageInfo(
                code=options.language.lower(),
                probability=None,
                source=options.language_source or LanguageSource.CALL_HINT,
            )
        detected = self.engine.detect_language(audio.mixdown(DETECTION_WINDOW_S), options.allowed_languages)
        return LanguageInfo(
            code=detected.code, probability=round(detected.probability, 4), source=LanguageSource.DETECTED
        )
