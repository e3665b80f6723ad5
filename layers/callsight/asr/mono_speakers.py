"""Agent and customer in a mono call: the steps of :mod:`callsight.asr.diarization` run on real audio.

Called by the transcriber after recognition, for mono calls when ``CALLSIGHT_DIARIZATION_ENABLED``
(the default). Either every word gets agent/customer (``unknown`` where the windows' vote is even)
and the transcript says ``speaker_attribution: voice``, or nothing changes (``none``) and
:class:`~callsight.models.transcript.DiarizationInfo` says why: too little speech, a split not
confident enough (one voice, or two voices the encoder cannot tell apart), or neither the agent's
enrolled voice print (when there is one) nor the rule pack's agent phrases name one side
(:func:`callsight.asr.voice_print.choose_agent`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy.typing as npt

from callsight.asr import diarization, voice_print
from callsight.asr.audio import Samples
from callsight.asr.speaker_embedding import embed_windows, speech_spans
from callsight.models.transcript import DiarizationInfo, Segment, Speaker, SpeakerAttribution, Word

#: Fewer windows than this (about 3 s of speech) is too little to tell two voices apart.
MIN_WINDOWS = 6

VOICE_NOTE = (
    "mono recording: the two voices were told apart by speaker embeddings (confidence {confidence:.2f}) "
    "and the agent is {named_by}; words without a clear vote stay 'unknown'"
)
NAMED_BY = {
    "phrases": "the one who said the rule pack's greeting/need-discovery/closing phrases",
    "voice_print": "the voice closer to the agent's enrolled voice print (similarity {agent:.2f} vs {other:.2f})",
}
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
    agent_print: npt.ArrayLike | None = None,
    print_min_margin: float = voice_print.DEFAULT_MIN_MARGIN,
    print_min_similarity: float = voice_print.DEFAULT_MIN_SIMILARITY,
) -> MonoSpeakers:
    """``agent_print``: the call's agent's enrolled voice print, if any (see
    :func:`callsight.asr.voice_print.choose_agent` for how it and the phrases name the agent)."""
    started = time.perf_counter()
    speech = speech_spans(audio, vad_threshold)
    windows, window_spans = diarization.analysis_windows(speech)
    if len(windows) < MIN_WINDOWS:
        detail = f"{len(windows)} speech windows, fewer than {MIN_WINDOWS}"
        return _unchanged(words, segments, "too_little_speech", detail, min_confidence, started, len(windows))
    embeddings = embed_windows(audio, windows, speech)
    fit = diarization.cluster_two(embeddings, window_spans)
    verdict = diarization.two_speaker_confidence(fit)
    figures: dict[str, Any] = {
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
    match = (
        voice_print.match_print(
            voice_print.group_centres(embeddings, fit.labels),
            agent_print,
            print_min_margin,
            print_min_similarity,
        )
        if agent_print is not None
        else None
    )
    choice = voice_print.choose_agent(match, diarization.agent_group(scores))
    agent = choice.group
    if match is not None:
        figures["voice_print_min_margin"] = print_min_margin
        figures["voice_print_min_similarity"] = print_min_similarity
        figures["voice_print_agrees_with_phrases"] = choice.agree
    if agent is None:
        detail = f"no agent phrase tells the two voices apart (phrase weight {scores[0]} vs {scores[1]})"
        if match is not None:
            detail += (
                f" and the agent's voice print does not either (similarity {match.similarities[0]:.3f} "
                f"vs {match.similarities[1]:.3f}; needs {print_min_similarity} and a margin of {print_min_margin})"
            )
            figures["voice_print_similarity"] = match.similarities
        return _unchanged(
            words, segments, "no_agent_phrases", detail, min_confidence, started, len(windows), figures
        )
    similarity = (match.similarities[agent], match.similarities[1 - agent]) if match is not None else None
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
        agent_chosen_by=choice.chosen_by,
        voice_print_similarity=similarity,
        unattributed_words=speakers.count(Speaker.UNKNOWN),
        processing_s=round(time.perf_counter() - started, 3),
        detail=f"two voices, confidence {verdict.confidence:.2f}",
        **figures,
    )
    return MonoSpeakers(
        words=named,
        segments=_segment_speakers(segments, named),
        attribution=SpeakerAttribution.VOICE,
        note=VOICE_NOTE.format(
            confidence=verdict.confidence,
            named_by=NAMED_BY[choice.chosen_by or "phrases"].format(
                agent=similarity[0] if similarity else 0.0, other=similarity[1] if similarity else 0.0
            ),
        ),
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
    figures: dict[str, Any] | None = None,
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
