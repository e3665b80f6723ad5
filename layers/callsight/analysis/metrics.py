"""Talk metrics from word timestamps: talk time, silence, monologues, overtalk, pace, first agent word.

Mono recordings get every metric that does not need speaker separation; the others are ``None``
and listed in ``unavailable`` with the reason — never silently fewer.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from callsight.models.analysis import TalkMetrics
from callsight.models.transcript import Speaker, SpeakerAttribution, Transcript, Word

NO_SPEAKERS = "mono recording (or unknown agent channel): speakers are not separated"
NO_OVERLAP = "mono recording separated by voice: overlapping speech cannot be measured on one channel"
#: Overlapping speech shorter than this is timing jitter, not an interruption.
MIN_OVERLAP_S = 0.3


def _merged(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _total(spans: list[tuple[float, float]]) -> float:
    return sum(end - start for start, end in spans)


def _speech(words: Iterable[Word]) -> list[tuple[float, float]]:
    return _merged((w.start, w.end) for w in words)


def _intersection(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    total, i, j = 0.0, 0, 0
    while i < len(a) and j < len(b):
        total += max(0.0, min(a[i][1], b[j][1]) - max(a[i][0], b[j][0]))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def talk_metrics(transcript: Transcript, short_call_s: float) -> TalkMetrics:
    duration = max(transcript.duration_s, max((w.end for w in transcript.words), default=0.0))
    speech = _speech(transcript.words)
    gaps = [b[0] - a[1] for a, b in itertools.pairwise(speech)]
    edges = [speech[0][0], duration - speech[-1][1]] if speech else [duration]
    longest_turn = max(transcript.turns, key=lambda t: t.end - t.start, default=None)
    metrics = TalkMetrics(
        duration_s=round(duration, 2),
        speech_s=round(_total(speech), 2),
        silence_s=round(max(0.0, duration - _total(speech)), 2),
        longest_silence_s=round(max([*gaps, *edges], default=0.0), 2),
        words_per_minute=round(len(transcript.words) / (_total(speech) / 60), 1) if speech else 0.0,
        short_call=duration < short_call_s,
        longest_monologue_s=round(longest_turn.end - longest_turn.start, 2) if longest_turn else 0.0,
        longest_monologue_speaker=longest_turn.speaker if longest_turn else Speaker.UNKNOWN,
    )
    if transcript.speaker_attribution is SpeakerAttribution.VOICE:
        # One channel: who spoke is known, overlapping speech is not (one voice wins each window).
        unavailable = dict.fromkeys(("overtalk_s", "interruptions", "agent_interruptions"), NO_OVERLAP)
        speaker = _speaker_metrics(transcript)
        return metrics.model_copy(
            update={k: v for k, v in speaker.items() if k not in unavailable} | {"unavailable": unavailable}
        )
    if transcript.speaker_attribution is not SpeakerAttribution.CHANNEL:
        unavailable = dict.fromkeys(
            ("agent_talk_s", "customer_talk_s", "talk_listen_ratio", "overtalk_s", "interruptions",
             "agent_interruptions", "time_to_first_agent_word_s"),
            NO_SPEAKERS,
        )  # fmt: skip
        return metrics.model_copy(update={"unavailable": unavailable})
    return metrics.model_copy(update=_speaker_metrics(transcript))


def _speaker_metrics(transcript: Transcript) -> dict[str, object]:
    agent = _speech(w for w in transcript.words if w.speaker is Speaker.AGENT)
    customer = _speech(w for w in transcript.words if w.speaker is Speaker.CUSTOMER)
    agent_s, customer_s = _total(agent), _total(customer)
    agent_utterances = _utterances(agent)
    customer_utterances = _utterances(customer)
    agent_interruptions = _interruptions(agent_utterances, customer_utterances)
    interruptions = agent_interruptions + _interruptions(customer_utterances, agent_utterances)
    first_agent = next((w.start for w in transcript.words if w.speaker is Speaker.AGENT), None)
    return {
        "agent_talk_s": round(agent_s, 2),
        "customer_talk_s": round(customer_s, 2),
        "talk_listen_ratio": round(agent_s / customer_s, 2) if customer_s else None,
        "overtalk_s": round(_intersection(agent, customer), 2),
        "interruptions": interruptions,
        "agent_interruptions": agent_interruptions,
        "time_to_first_agent_word_s": round(first_agent, 2) if first_agent is not None else None,
    }


def _utterances(spans: list[tuple[float, float]], joining_gap_s: float = 0.5) -> list[tuple[float, float]]:
    """Word spans joined across short gaps: what a listener hears as one utterance."""
    utterances: list[tuple[float, float]] = []
    for start, end in spans:
        if utterances and start - utterances[-1][1] < joining_gap_s:
            utterances[-1] = (utterances[-1][0], max(utterances[-1][1], end))
        else:
            utterances.append((start, end))
    return utterances


def _interruptions(talker: list[tuple[float, float]], other: list[tuple[float, float]]) -> int:
    """Utterances of ``talker`` that start while ``other`` is speaking and overlap it noticeably."""
    return sum(
        1
        for start, _ in talker
        if any(o_start < start and o_end - start >= MIN_OVERLAP_S for o_start, o_end in other)
    )


def long_pauses(transcript: Transcript, at_least_s: float) -> list[tuple[float, float]]:
    """Silences between speech (anyone's) of ``at_least_s`` or longer: (start, end)."""
    speech = _speech(transcript.words)
    return [(a[1], b[0]) for a, b in itertools.pairwise(speech) if b[0] - a[1] >= at_least_s]
