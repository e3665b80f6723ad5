"""The pure steps of mono speaker separation (callsight.asr.diarization) on synthetic embeddings."""

from __future__ import annotations

import numpy as np
import pytest
from callsight.asr import diarization as d


def voices(counts: tuple[int, ...], spread: float, seed: int = 7, angle: float = 1.2) -> np.ndarray:
    """Unit vectors around one centre per voice; centres ``angle`` radians apart, noise ``spread``."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(2, 256))
    first = base[0] / np.linalg.norm(base[0])
    other = base[1] - (base[1] @ first) * first
    other /= np.linalg.norm(other)
    centres = [first, np.cos(angle) * first + np.sin(angle) * other]
    rows = [
        centres[k] + rng.normal(scale=spread, size=256) / 16 for k, n in enumerate(counts) for _ in range(n)
    ]
    return np.array(rows)


def test_windows_cover_each_speech_span_and_name_their_span() -> None:
    windows, spans = d.analysis_windows([(0.0, 3.0), (4.0, 4.3), (5.0, 5.8)], window_s=1.6, hop_s=0.4)
    assert windows[0] == (0.0, 1.6) and windows[-1] == (5.0, 5.8)
    assert (1.4, 3.0) in windows  # the last window of a span ends with it
    assert all(w[1] - w[0] <= 1.6 + 1e-9 for w in windows)
    assert 1 not in spans  # 0.3 s is too short for a window
    assert spans == sorted(spans) and spans[-1] == 2


def test_two_distinct_voices_in_turns_are_split_with_high_confidence() -> None:
    embeddings = voices((20, 20), spread=0.3)
    fit = d.cluster_two(embeddings, spans=[0] * 10 + [1] * 10 + [2] * 10 + [3] * 10)
    assert set(fit.labels[:20]) != set(fit.labels[20:]) and len(set(fit.labels[:20])) == 1
    assert fit.switch_rate == 0.0 and fit.minority_share == 0.5
    verdict = d.two_speaker_confidence(fit)
    assert verdict.trusted() and verdict.confidence > 0.9 and verdict.reasons == ()


def test_one_voice_gives_low_confidence_and_says_why() -> None:
    fit = d.cluster_two(voices((40,), spread=1.0), spans=[i // 8 for i in range(40)])
    verdict = d.two_speaker_confidence(fit)
    assert not verdict.trusted()
    assert any("centre similarity" in reason or "silhouette" in reason for reason in verdict.reasons)


def test_near_identical_voices_give_low_confidence() -> None:
    fit = d.cluster_two(voices((20, 20), spread=1.0, angle=0.15), spans=[i // 5 for i in range(40)])
    assert not d.two_speaker_confidence(fit).trusted()


def test_a_voice_flipping_inside_speech_spans_is_not_trusted() -> None:
    fit = d.cluster_two(voices((20, 20), spread=0.3), spans=[0] * 40)
    shuffled = d.TwoSpeakerFit(**{**fit.__dict__, "switch_rate": 0.3})
    verdict = d.two_speaker_confidence(shuffled)
    assert not verdict.trusted() and any("switch rate" in r for r in verdict.reasons)


def test_a_tiny_second_group_is_not_trusted() -> None:
    fit = d.cluster_two(voices((38, 2), spread=0.2), spans=list(range(40)))
    assert fit.minority_share == pytest.approx(0.05)
    assert not d.two_speaker_confidence(fit).trusted()


def test_clustering_needs_two_windows() -> None:
    with pytest.raises(ValueError, match="two windows"):
        d.cluster_two(voices((1,), spread=0.1))


def test_words_take_the_vote_of_the_windows_that_cover_them() -> None:
    windows = [(0.0, 1.6), (0.4, 2.0), (3.0, 4.6), (3.4, 5.0)]
    fit = d.TwoSpeakerFit(
        labels=np.array([0, 0, 1, 1]),
        margins=np.array([0.3, 0.2, 0.4, 0.1]),
        centroid_similarity=0.6, silhouette=0.5, switch_rate=0.0, minority_share=0.5,
    )  # fmt: skip
    words = [(0.1, 0.5), (1.0, 1.4), (3.5, 3.9), (2.6, 2.9), (9.0, 9.5)]
    # covered by group 0, group 0, group 1, near group 1 (within 0.5 s), far from everything
    assert d.assign_words(words, windows, fit) == [0, 0, 1, 1, None]


def test_an_even_vote_names_nobody() -> None:
    fit = d.TwoSpeakerFit(
        labels=np.array([0, 1]), margins=np.array([0.2, 0.2]),
        centroid_similarity=0.6, silhouette=0.5, switch_rate=0.0, minority_share=0.5,
    )  # fmt: skip
    assert d.assign_words([(1.0, 1.2)], [(0.0, 2.0), (0.0, 2.0)], fit) == [None]


def words_of(lines: list[tuple[int, str]]) -> list[tuple[float, str, int | None]]:
    out: list[tuple[float, str, int | None]] = []
    for start, (group, text) in enumerate(lines):
        out += [(float(start * 3), word, group) for word in text.split()]
    return out


def test_the_agent_is_the_voice_that_greets_and_closes() -> None:
    lines = [(1, "Hi."), (0, "Callsight Electronics, Sarah speaking. How can I help?"), (1, "Cancel my order."),
             (0, "Done. Thank you for calling."), (1, "Bye.")]  # fmt: skip
    scores = d.agent_scores(words_of(lines), "en")
    assert scores[0] > scores[1] > 0  # the customer's "hi"/"bye" count too, for less
    assert d.agent_group(scores) == 0


def test_russian_agent_phrases_and_wildcards() -> None:
    lines = [
        (0, "Магазин Электроника, здравствуйте, меня зовут Антон."),
        (1, "Добрый день, хочу вернуть пылесос."),
    ]
    assert d.agent_group(d.agent_scores(words_of(lines), "ru")) == 0


def test_no_agent_phrase_or_a_tie_names_nobody() -> None:
    assert d.agent_group(d.agent_scores(words_of([(0, "order five"), (1, "ok")]), "en")) is None
    assert d.agent_group(d.agent_scores(words_of([(0, "hello"), (1, "hello")]), "en")) is None
    assert d.agent_scores(words_of([(0, "hello")]), "xx") == (0, 0)  # no rule pack for the language


def test_greetings_count_only_at_the_start_of_the_call() -> None:
    late = [(30.5, "hello", 0), (31.0, "ok", 1)]
    assert d.agent_scores(late, "en") == (0, 0)
