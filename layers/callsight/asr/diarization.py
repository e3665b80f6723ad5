"""Mono speaker separation: who of the two parties said each word, or ``unknown`` when unsure.

Pure functions on numbers (NumPy only; the speaker encoder that makes the embeddings lives in
:mod:`callsight.asr.speaker_embedding`). The steps:

1. :func:`analysis_windows` — fixed windows (1.6 s, the speaker encoder's own partial length) over
   the speech spans the VAD found;
2. :func:`cluster_two` — the window embeddings in two groups (spherical k-means from the two most
   different windows, deterministic), with the figures that say whether two voices were really
   heard: how alike the two group centres are, how well each window sits in its group (cosine
   silhouette), how often consecutive windows change group (real turns are long; one voice split in
   two flips back and forth) and the smaller group's share;
3. :func:`two_speaker_confidence` — those figures as one number in 0..1; at or above
   :data:`DEFAULT_MIN_CONFIDENCE` (every figure on the right side of its threshold) the split is
   trusted, below it the call keeps speaker ``unknown`` (never a guess);
4. :func:`assign_words` — each word gets the group its overlapping windows vote for (weighted by
   overlap and by how clearly each window belongs to its group); no clear vote: ``None``;
5. :func:`agent_group` — which group is the agent: the one whose words use more of the analysis
   rule pack's agent phrases (``greeting`` in the first 30 s, ``need_discovery``, ``closing``;
   ``languages/<lang>/phrases.yaml``), each phrase weighted by its length in words. A tie (or no
   phrase at all) names nobody: the call keeps ``unknown``.

The thresholds were set on the bundled samples (four two-voice mono mixes, eight one-voice
channels; README "Mono recordings"): a small calibration set, stated as such.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import numpy.typing as npt
import yaml

Embeddings = npt.NDArray[np.float32]
Span = tuple[float, float]

#: Window length and hop, seconds (resemblyzer's partial utterances are 1.6 s long).
WINDOW_S = 1.6
HOP_S = 0.4
#: A speech span shorter than a window still gets one window of its own length when at least this long.
MIN_WINDOW_S = 0.5

#: At or above this confidence the two groups are trusted (``CALLSIGHT_DIARIZATION_MIN_CONFIDENCE``).
DEFAULT_MIN_CONFIDENCE = 0.5

#: (threshold, scale) per figure: a figure exactly at its threshold scores 0.5, ``scale`` further on the
#: good side scores 1.0. Measured on the bundled samples: two clearly different voices mixed to mono,
#: centre similarity 0.65-0.81, silhouette 0.40-0.60, within-span switch rate 0.00; one voice alone,
#: 0.83-0.94, 0.17-0.35, 0.00-0.29. The margins are narrow (0.807 vs 0.825, 0.403 vs 0.354).
MAX_CENTROID_SIMILARITY = (0.815, 0.10)
MIN_SILHOUETTE = (0.38, 0.10)
MAX_SWITCH_RATE = (0.05, 0.05)
MIN_MINORITY_SHARE = (0.10, 0.10)

#: Greeting phrases count only in the first seconds of the call (as the rule pack's checkpoint does).
GREETING_WINDOW_S = 30.0
#: Phrase lists of the rule pack that only the agent is expected to say.
AGENT_PHRASE_SETS = ("greeting", "need_discovery", "closing")


@dataclass(frozen=True)
class TwoSpeakerFit:
    """Two groups of windows and the figures that say how believable the split is."""

    labels: npt.NDArray[np.int64]  # 0 or 1 per window
    #: Per window: similarity to its own centre minus similarity to the other one (>0).
    margins: npt.NDArray[np.float64]
    centroid_similarity: float
    silhouette: float
    switch_rate: float
    minority_share: float


@dataclass(frozen=True)
class Verdict:
    confidence: float
    reasons: tuple[str, ...]  # the figures on the wrong side of their threshold

    def trusted(self, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> bool:
        return self.confidence >= min_confidence


def analysis_windows(
    speech: Sequence[Span], window_s: float = WINDOW_S, hop_s: float = HOP_S
) -> tuple[list[Span], list[int]]:
    """Windows of ``window_s`` every ``hop_s`` inside each speech span (the last one ends with the
    span), and the index of the span each window lies in."""
    windows: list[Span] = []
    spans: list[int] = []
    for index, (start, end) in enumerate(speech):
        length = end - start
        if length < window_s:
            if length >= MIN_WINDOW_S:
                windows.append((start, end))
                spans.append(index)
            continue
        at = start
        while at + window_s <= end + 1e-9:
            windows.append((round(at, 3), round(at + window_s, 3)))
            spans.append(index)
            at += hop_s
        if windows[-1][1] < end - 0.05:
            windows.append((round(end - window_s, 3), round(end, 3)))
            spans.append(index)
    return windows, spans


def _normalised(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    array = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    return np.asarray(array / np.maximum(norms, 1e-12), dtype=np.float64)


def cluster_two(
    embeddings: npt.ArrayLike, spans: Sequence[int] | None = None, iterations: int = 30
) -> TwoSpeakerFit:
    """Spherical k-means with k=2, started from the two least similar windows (deterministic).

    ``spans``: the speech span of each window (default: all in one); the switch rate counts group
    changes between consecutive windows of one span (a pause is where the other party may start)."""
    x = _normalised(embeddings)
    if len(x) < 2:
        raise ValueError("two-speaker clustering needs at least two windows")
    similarity = x @ x.T
    first, second = np.unravel_index(int(np.argmin(similarity)), similarity.shape)
    centres = x[[first, second]].copy()
    labels = np.zeros(len(x), dtype=np.int64)
    for _ in range(iterations):
        new_labels = np.argmax(x @ centres.T, axis=1).astype(np.int64)
        if len(set(new_labels.tolist())) < 2:
            break
        centres = _normalised(np.stack([x[new_labels == k].mean(axis=0) for k in (0, 1)]))
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
    labels = np.argmax(x @ centres.T, axis=1).astype(np.int64)
    to_centres = x @ centres.T
    rows = np.arange(len(x))
    margins = to_centres[rows, labels] - to_centres[rows, 1 - labels]
    return TwoSpeakerFit(
        labels=labels,
        margins=margins,
        centroid_similarity=float(centres[0] @ centres[1]),
        silhouette=_silhouette(similarity, labels),
        switch_rate=_switch_rate(labels, spans),
        minority_share=float(min(np.mean(labels == 0), np.mean(labels == 1))),
    )


def _switch_rate(labels: npt.NDArray[np.int64], spans: Sequence[int] | None) -> float:
    span_of = np.zeros(len(labels), dtype=np.int64) if spans is None else np.asarray(spans, dtype=np.int64)
    same_span = span_of[1:] == span_of[:-1]
    if not same_span.any():
        return 0.0
    return float(np.mean((labels[1:] != labels[:-1])[same_span]))


def _silhouette(similarity: npt.NDArray[np.float64], labels: npt.NDArray[np.int64]) -> float:
    """Mean cosine-distance silhouette (0 for a window alone in its group)."""
    distance = 1.0 - similarity
    scores = []
    for index, label in enumerate(labels):
        own = labels == label
        other = ~own
        if own.sum() < 2 or not other.any():
            scores.append(0.0)
            continue
        a = (distance[index, own].sum() - distance[index, index]) / (own.sum() - 1)
        b = distance[index, other].mean()
        scores.append(float((b - a) / max(a, b, 1e-12)))
    return float(np.mean(scores))


def _score(value: float, rule: tuple[float, float], *, at_most: bool) -> float:
    threshold, scale = rule
    beyond = (threshold - value) if at_most else (value - threshold)
    return float(np.clip(0.5 + 0.5 * beyond / scale, 0.0, 1.0))


def two_speaker_confidence(fit: TwoSpeakerFit) -> Verdict:
    """How sure we are that the two groups are two voices: the weakest of the four figures."""
    scores = {
        f"centre similarity {fit.centroid_similarity:.3f} > {MAX_CENTROID_SIMILARITY[0]}": _score(
            fit.centroid_similarity, MAX_CENTROID_SIMILARITY, at_most=True
        ),
        f"silhouette {fit.silhouette:.3f} < {MIN_SILHOUETTE[0]}": _score(
            fit.silhouette, MIN_SILHOUETTE, at_most=False
        ),
        f"group switch rate {fit.switch_rate:.3f} > {MAX_SWITCH_RATE[0]}": _score(
            fit.switch_rate, MAX_SWITCH_RATE, at_most=True
        ),
        f"smaller group share {fit.minority_share:.3f} < {MIN_MINORITY_SHARE[0]}": _score(
            fit.minority_share, MIN_MINORITY_SHARE, at_most=False
        ),
    }
    return Verdict(
        confidence=round(min(scores.values()), 3),
        reasons=tuple(reason for reason, score in scores.items() if score < 0.5),
    )


def assign_words(
    words: Sequence[Span], windows: Sequence[Span], fit: TwoSpeakerFit, reach_s: float = 0.5
) -> list[int | None]:
    """The group (0/1) of each word span: the overlap- and margin-weighted vote of the windows that
    cover it, or of windows within ``reach_s`` when none does; ``None`` when the vote is even or empty."""
    starts = np.array([w[0] for w in windows], dtype=np.float64)
    ends = np.array([w[1] for w in windows], dtype=np.float64)
    weights = np.maximum(fit.margins, 0.0)
    result: list[int | None] = []
    for start, end in words:
        overlap = np.minimum(ends, max(end, start + 0.01)) - np.maximum(starts, start)
        chosen = overlap > 0
        if not chosen.any():
            gap = np.maximum(starts - end, start - ends)
            chosen = gap <= reach_s
            overlap = np.where(chosen, 0.01, 0.0)
        votes = [float(np.sum((overlap * weights)[chosen & (fit.labels == k)])) for k in (0, 1)]
        if votes[0] == votes[1]:
            result.append(None)
        else:
            result.append(0 if votes[0] > votes[1] else 1)
    return result


@dataclass(frozen=True)
class _Phrase:
    #: (lower-case word, prefix?) — a rule-pack word ending in "*" matches any word starting so.
    words: tuple[tuple[str, bool], ...]
    greeting: bool


_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


def tokens(text: str) -> list[str]:
    return [match.group(0).lower().replace("’", "'") for match in _TOKEN.finditer(text)]


def _phrase_words(phrase: str) -> tuple[tuple[str, bool], ...]:
    words: list[tuple[str, bool]] = []
    for part in phrase.split():
        parts = tokens(part)
        words += [(token, False) for token in parts[:-1]]
        if parts:
            words.append((parts[-1], part.endswith("*")))
    return tuple(words)


@cache
def agent_phrases(language: str) -> tuple[_Phrase, ...]:
    """The rule pack's agent phrase sets for ``language`` (empty for a language without a pack)."""
    if not language.isalpha():
        return ()
    try:
        text = (
            resources.files("callsight")  # not the analysis package: the transcriber image lacks its extras
            .joinpath("analysis", "languages", language, "phrases.yaml")
            .read_text(encoding="utf-8")
        )
    except (FileNotFoundError, ModuleNotFoundError, NotADirectoryError):
        return ()
    sets = yaml.safe_load(text) or {}
    return tuple(
        _Phrase(words=words, greeting=name == "greeting")
        for name in AGENT_PHRASE_SETS
        for phrase in sets.get(name, [])
        if (words := _phrase_words(str(phrase)))
    )


def _matches(phrase: _Phrase, words: Sequence[str], at: int) -> bool:
    if at + len(phrase.words) > len(words):
        return False
    return all(
        word.startswith(wanted) if prefix else word == wanted
        for (wanted, prefix), word in zip(phrase.words, words[at:], strict=False)
    )


def agent_scores(words: Sequence[tuple[float, str, int | None]], language: str) -> tuple[int, int]:
    """Agent-phrase weight said by group 0 and group 1; ``words`` are (start, text, group).

    A phrase counts for a group when all its words were said by that group, in a row."""
    phrases = agent_phrases(language)
    texts = [tokens(text) for _, text, _ in words]
    flat: list[tuple[float, str, int | None]] = [
        (start, token, group)
        for (start, _, group), parts in zip(words, texts, strict=True)
        for token in parts
    ]
    spoken = [token for _, token, _ in flat]
    totals = [0, 0]
    for at, (start, _, group) in enumerate(flat):
        if group is None:
            continue
        for phrase in phrases:
            if phrase.greeting and start > GREETING_WINDOW_S:
                continue
            if _matches(phrase, spoken, at) and all(
                g == group for _, _, g in flat[at : at + len(phrase.words)]
            ):
                totals[group] += len(phrase.words)
    return totals[0], totals[1]


def agent_group(scores: tuple[int, int]) -> int | None:
    """The group that said more agent phrases; ``None`` on a tie (nobody is named)."""
    if scores[0] == scores[1]:
        return None
    return 0 if scores[0] > scores[1] else 1
