"""Per-agent voice prints, the pure parts: how a print and the agent phrases name the agent of a mono
call (synthetic embeddings; the real encoder runs in tests/integration/test_voiceprints.py), and the
print's compact storage form."""

from __future__ import annotations

import numpy as np
import pytest
from callsight.asr.voice_print import (
    DEFAULT_MIN_MARGIN,
    DEFAULT_MIN_SIMILARITY,
    centre,
    choose_agent,
    group_centres,
    match_print,
)
from callsight.config import Settings
from callsight.models.voiceprint import EMBEDDING_DIM, VoicePrintView, pack_embedding, unpack_embedding

RNG = np.random.default_rng(20)


def unit(vector: np.ndarray) -> np.ndarray:
    return np.asarray(vector / np.linalg.norm(vector))


def voice_with_similarity(reference: np.ndarray, similarity: float) -> np.ndarray:
    """A unit vector at exactly ``similarity`` (cosine) from ``reference``."""
    other = unit(RNG.normal(size=EMBEDDING_DIM))
    other = unit(other - (other @ reference) * reference)  # orthogonal to the reference
    return np.asarray(similarity * reference + np.sqrt(1 - similarity**2) * other)


AGENT = unit(RNG.normal(size=EMBEDDING_DIM))


def test_the_defaults_are_the_settings_defaults() -> None:
    settings = Settings()
    assert settings.voice_print_min_margin == DEFAULT_MIN_MARGIN
    assert settings.voice_print_min_similarity == DEFAULT_MIN_SIMILARITY


def test_a_clear_winner_is_named_by_the_print_even_against_the_phrases() -> None:
    # Given group 1 is the enrolled agent's voice (0.96) and group 0 another voice (0.70)
    centres = np.stack([voice_with_similarity(AGENT, 0.70), voice_with_similarity(AGENT, 0.96)])
    match = match_print(centres, AGENT)
    assert match.similarities == pytest.approx((0.70, 0.96), abs=1e-3)
    assert match.group == 1
    # When the phrases agree, disagree or say nothing, the print decides and the transcript says how
    assert choose_agent(match, 1).group == 1 and choose_agent(match, 1).agree is True
    disagreement = choose_agent(match, 0)
    assert (disagreement.group, disagreement.chosen_by, disagreement.agree) == (1, "voice_print", False)
    silent = choose_agent(match, None)
    assert (silent.group, silent.chosen_by, silent.agree) == (1, "voice_print", None)


def test_an_ambiguous_margin_leaves_the_choice_to_the_phrases() -> None:
    centres = np.stack([voice_with_similarity(AGENT, 0.93), voice_with_similarity(AGENT, 0.92)])
    match = match_print(centres, AGENT)
    assert match.margin < DEFAULT_MIN_MARGIN and match.group is None
    choice = choose_agent(match, 0)
    assert (choice.group, choice.chosen_by, choice.agree) == (0, "phrases", None)


def test_a_print_that_matches_neither_voice_names_nobody() -> None:
    # The closer voice is clearly closer but not the enrolled agent (another person on the line).
    centres = np.stack([voice_with_similarity(AGENT, 0.60), voice_with_similarity(AGENT, 0.85)])
    match = match_print(centres, AGENT)
    assert match.margin > DEFAULT_MIN_MARGIN and match.similarities[1] < DEFAULT_MIN_SIMILARITY
    assert match.group is None
    assert choose_agent(match, 0).chosen_by == "phrases"


def test_neither_print_nor_phrases_clear_is_unknown() -> None:
    centres = np.stack([voice_with_similarity(AGENT, 0.94), voice_with_similarity(AGENT, 0.93)])
    choice = choose_agent(match_print(centres, AGENT), None)
    assert (choice.group, choice.chosen_by) == (None, None)


def test_without_a_print_the_phrases_decide_as_before() -> None:
    assert choose_agent(None, 1).group == 1 and choose_agent(None, 1).chosen_by == "phrases"
    assert choose_agent(None, None).group is None


def test_settings_move_the_thresholds() -> None:
    centres = np.stack([voice_with_similarity(AGENT, 0.70), voice_with_similarity(AGENT, 0.96)])
    assert match_print(centres, AGENT, min_margin=0.3).group is None
    assert match_print(centres, AGENT, min_similarity=0.97).group is None
    assert match_print(centres, AGENT, min_margin=0.2, min_similarity=0.95).group == 1


def test_group_centres_average_each_group() -> None:
    a, b = voice_with_similarity(AGENT, 0.99), voice_with_similarity(AGENT, 0.5)
    rows = np.stack([a, b, a * 2, b * 3])  # scale does not matter
    found = group_centres(rows, np.array([0, 1, 0, 1]))
    assert found[0] @ a == pytest.approx(1.0, abs=1e-5) and found[1] @ b == pytest.approx(1.0, abs=1e-5)
    assert np.linalg.norm(centre(rows)) == pytest.approx(1.0, abs=1e-5)


def test_the_stored_form_is_compact_and_keeps_similarities() -> None:
    vector = RNG.normal(size=EMBEDDING_DIM) * 7
    data = pack_embedding(vector)
    assert len(data) == EMBEDDING_DIM * 2  # float16
    back = unpack_embedding(data)
    assert back @ unit(vector) == pytest.approx(1.0, abs=1e-3)
    probe = unit(RNG.normal(size=EMBEDDING_DIM))
    assert back @ probe == pytest.approx(unit(vector) @ probe, abs=2e-3)


@pytest.mark.parametrize("bad", [np.zeros(EMBEDDING_DIM), np.ones(10), np.full(EMBEDDING_DIM, np.nan)])
def test_a_broken_vector_is_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="voice print"):
        pack_embedding(bad)
    with pytest.raises(ValueError, match="bytes"):
        unpack_embedding(b"\x00" * 10)


def test_the_view_has_no_field_for_the_vector() -> None:
    assert not {"embedding", "vector"} & set(VoicePrintView.model_fields)
