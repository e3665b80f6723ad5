"""The keyword-search terms of a call: every stem said (with speaker and offsets) plus order numbers.

Numbers are never indexed as said (a phone or card number would become a searchable term); order
numbers found by the entity extractor are added as digits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from callsight.analysis.languages.base import LanguagePack
from callsight.analysis.text import TurnView
from callsight.models.analysis import CallAnalysis


@dataclass
class TermEntry:
    """Where one term was said in one call."""

    speakers: set[str] = field(default_factory=set)
    offsets: list[float] = field(default_factory=list)
    hits: int = 0


def term_key(language: str, stem: str) -> str:
    return f"{language}#{stem}"


def index_terms(turns: list[TurnView], pack: LanguagePack, analysis: CallAnalysis) -> dict[str, TermEntry]:
    terms: dict[str, TermEntry] = {}
    for turn in turns:
        for token, time in zip(turn.tokens, turn.token_times, strict=True):
            if len(token.stem) < 2 or any(char.isdigit() for char in token.stem):
                continue  # numbers can be phones or cards: only order numbers are indexed (below)
            entry = terms.setdefault(term_key(pack.code, token.stem), TermEntry())
            entry.speakers.add(turn.speaker.value)
            entry.offsets.append(time)
            entry.hits += 1
    for entity in analysis.entities:
        if entity.type == "order_number":  # said as words, searched as digits
            entry = terms.setdefault(term_key(pack.code, entity.value), TermEntry())
            entry.speakers.add(entity.speaker.value)
            entry.offsets.append(entity.start)
            entry.hits += 1
    return terms
