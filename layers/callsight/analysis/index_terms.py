"""The keyword-search terms of a call: every stem said (with speaker and offsets) plus order numbers.

Numbers are never indexed as said (a phone or card number would become a searchable term); order
numbers found by the entity extractor are added as digits. Nothing said inside a PII span
(``callsight.analysis.pii``: names, phone digits said as words, emails, card numbers) is indexed:
search by a name would otherwise tell a role that sees transcripts masked who called.
``pii_terms`` names the terms an older index may hold for a call only because of its PII (the
masking sweep deletes them).
"""

from __future__ import annotations

from collections.abc import Collection
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


def index_terms(
    turns: list[TurnView], pack: LanguagePack, analysis: CallAnalysis, pii_words: Collection[int] = ()
) -> dict[str, TermEntry]:
    """Terms of the call; ``pii_words``: indices of the transcript's words inside PII spans."""
    terms: dict[str, TermEntry] = {}
    for turn in turns:
        for index, (token, time) in enumerate(zip(turn.tokens, turn.token_times, strict=True)):
            if not _indexable(token.stem) or _in(turn, index, pii_words):
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


def pii_terms(turns: list[TurnView], pack: LanguagePack, pii_words: Collection[int]) -> set[str]:
    """Term keys said inside PII spans and nowhere else in the call: what ``index_terms`` leaves out
    now, and an index written before it did may still hold."""
    inside: set[str] = set()
    outside: set[str] = set()
    for turn in turns:
        for index, token in enumerate(turn.tokens):
            if _indexable(token.stem):
                (inside if _in(turn, index, pii_words) else outside).add(term_key(pack.code, token.stem))
    return inside - outside


def _indexable(stem: str) -> bool:
    return len(stem) >= 2 and not any(char.isdigit() for char in stem)


def _in(turn: TurnView, token: int, words: Collection[int]) -> bool:
    return bool(words) and token < len(turn.token_words) and turn.token_words[token] in words
