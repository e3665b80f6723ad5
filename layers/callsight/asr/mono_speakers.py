"""Agent and customer in a mono call: the steps of :mod:`callsight.asr.diarization` run on real audio.

Called by the transcriber after recognition, for mono calls when ``CALLSIGHT_DIARIZATION_ENABLED``
(the default). Either every word gets agent/customer (``unknown`` where the windows' vote is even)
and the transcript says ``speaker_attribution: voice``, or nothing changes (``none``) and
:class:`~callsight.models.transcript.DiarizationInfo` says why: too little speech, a split not
confident enough (one voice, or two voices the encoder cannot tell apart), or no agent phrase that
names one side.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from callsight.asr import diarization
from callsight.asr.audio import Samples
from callsight.asr.speaker_embedding import embed_windows, speech_spans
from callsight.models.transcript import DiarizationInfo, Segment, Speaker, SpeakerAttribution, Word

#: Fewer windows than this (about 3 s of speech) is too little to tell two voices apart.
MIN_WINDOWS = 6

VOICE_NOTE = (
    "mono recording: the two voices were told apart by speaker embeddings (confidence {confidence:.2f}) "
    "and the agent is the one who said the rule pack's greeting/need-discovery/closing phrases; "
    "words without a clear vote stay 'unknown'"
)
NOT_SEPARATED_NOTE = (
    "mono recording: both parties share one channel and the voices could not be told apart "
    "with confidence ({detail}), so words are not attributed (speaker 'unknown'); turns are split on pauses"
)


@dataclass(frozen=True)
class MonoSpeakers:
    words: list[Word]
    segments: list[Segment]
    attribution: SpeakerAttribution
    note: str
    info: DiarizationInfo


def separate_speakers(
    audio: Samples,
    words: Sequence[Word],
    segments: Sequence[Segment],
    language: str,
    *,
    vad_threshold: float,
    min_confidence: float = diarization.DEFAULT_MIN_CONFIDENCE,
) -> MonoSpeakers:
    started = time.perf_counter()
    speech = speech_spans(audio, vad_threshold)
    windows, window_spans = diarization.analysis_windows(speech)
    if len(windows) < MIN_WINDOWS:
        detail = f"{len(windows)} speech windows, fewer than {MIN_WINDOWS}"
        return _unchanged(words, segments, "too_little_speech", detail, min_confidence, started, len(windows))
    fit = diarization.cluster_two(embed_windows(audio, windows, speech), window_spans)
    verdict = diarization.two_speaker_confidence(fit)
    figures = {
        "confidence": verdict.confidence,
        "centroid_similarity": round(fit.centroid_similarity, 4),
        "silhouette": round(fit.silhouette, 4),
        "switch_rate": round(fit.switch_rate, 4),
        "minority_share": round(fit.minority_share, 4),
    }
    if not verdict.trusted(min_confidence):
        detail = f"confidence {verdict.confidence:.2f} below {min_confidence:.2f}: " + "; ".join(
            verdict.reasons
        )
        return _unchanged(
            words, segments, "low_confidence", detail, min_confidence, started, len(windows), figures
        )
    groups = diarization.assign_words([(w.start, w.end) for w in words], windows, fit)
    scores = diarization.agent_scores(
        [(w.start, w.text, g) for w, g in zip(words, groups, strict=True)], language
    )
    agent = diarization.agent_group(scores)
    if agent is None:
        detail = f"no agent phrase tells the two voices apart (phrase weight {scores[0]} vs {scores[1]})"
        return _unchanged(
            words, segments, "no_agent_phrases", detail, min_confidence, started, len(windows), figures
        )
    speakers = [
        Speaker.UNKNOWN if group is None else (Speaker.AGENT if group == agent else Speaker.CUSTOMER)
        for group in groups
    ]
    named = [w.model_copy(update={"speaker": s}) for w, s in zip(words, speakers, strict=True)]
    info = DiarizationInfo(
        outcome="separated",
        min_confidence=min_confidence,
        windows=len(windows),
        agent_phrase_weight=(scores[agent], scores[1 - agent]),
        unattributed_words=speakers.count(Speaker.UNKNOWN),
        processing_s=round(time.perf_counter() - started, 3),
        detail=f"two voices, confidence {verdict.confidence:.2f}",
        **figures,
    )
    return MonoSpeakers(
        words=named,
        segments=_segment_speakers(segments, named),
        attribution=SpeakerAttribution.VOICE,
        note=VOICE_NOTE.format(confidence=verdict.confidence),
        info=info,
    )


def _segment_speakers(segments: Sequence[Segment], words: Sequence[Word]) -> list[Segment]:
    """A segment's speaker is its words' only speaker; ``unknown`` when they differ."""
    by_segment: dict[int, set[Speaker]] = {}
    for word in words:
        by_segment.setdefault(word.segment, set()).add(word.speaker)
    result = []
    for index, segment in enumerate(segments):
        own = by_segment.get(index, set())
        speaker = next(iter(own)) if len(own) == 1 else Speaker.UNKNOWN
        result.append(segment.model_copy(update={"speaker": speaker}))
    return result


def _unchanged(
    words: Sequence[Word],
    segments: Sequence[Segment],
    outcome: str,
    detail: str,
    min_confidence: float,
    started: float,
    windows: int,
    figures: dict[str, float] | None = None,
) -> MonoSpeakers:
    info = DiarizationInfo.model_validate(
        {
            "outcome": outcome,
            "min_confidence": min_confidence,
            "windows": windows,
            "processing_s": round(time.perf_counter() - started, 3),
            "detail": detail,
            **(figures or {}),
        }
    )
    return MonoSpeakers(
        words=list(words),
        segments=list(segments),
        attribution=SpeakerAttribution.NONE,
        note=NOT_SEPARATED_NOTE.format(detail=detail),
        info=info,
    )
