"""The keyword-search terms of a call: every stem said (with speaker and offsets) plus order numbers."""

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
            if len(token.stem) < 2 or (token.stem.isdigit() and len(token.stem) < 3):
                continue
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
