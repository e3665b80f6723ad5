"""What a language module provides to the analyzer, and the parts every language shares.

A language supplies: tokenisation and stems, negation words and intensifiers, a sentiment scorer,
spoken-number normalisation, entity extractors that need language knowledge (names, dates, money
words, order-number cues) and its phrase sets for the default rules (``phrases.yaml`` beside its
module). Adding a language means adding one package under ``languages/`` and registering it.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


@dataclass(frozen=True)
class Token:
    text: str  # lower-cased surface form
    stem: str
    start: int  # character offsets in the text it came from
    end: int


@dataclass(frozen=True)
class FoundEntity:
    """An entity a language module found in a text (character offsets into that text)."""

    type: str
    value: str
    start: int
    end: int


def normalize_compound(total: float, alpha: float = 15.0) -> float:
    """VADER's squashing of a summed valence into -1..1."""
    return total / math.sqrt(total * total + alpha) if total else 0.0


class LanguagePack(ABC):
    """Base for a language module; subclasses set ``code`` and implement the abstract parts."""

    code: str
    #: Where numbers written without a country code are usually from, after the configured region.
    phone_region: str = "US"
    #: Words that flip the meaning of what follows within the negation window.
    negations: frozenset[str] = frozenset()
    #: Words that spell digits or numbers (used to find spoken phone and card numbers to mask).
    number_words: frozenset[str] = frozenset()
    #: Multipliers for the valence of the next sentiment word.
    intensifiers: dict[str, float] = {}  # noqa: RUF012  # read-only class data
    #: Currency of an amount said without a currency word in a price context ("it's twelve ninety-nine").
    currency: str = ""

    @property
    def module_dir(self) -> Path:
        import inspect

        return Path(inspect.getfile(type(self))).parent

    @cached_property
    def phrase_sets(self) -> dict[str, list[str]]:
        """Named phrase lists the default rules refer to as ``@name``."""
        data = yaml.safe_load((self.module_dir / "phrases.yaml").read_text(encoding="utf-8")) or {}
        return {name: [str(p) for p in phrases] for name, phrases in data.items()}

    def fold(self, text: str) -> str:
        """Case and spelling variants folded for matching."""
        return text.lower()

    def tokens(self, text: str) -> list[Token]:
        folded = self.fold(text)
        return [Token(m.group(0), self.stem(m.group(0)), m.start(), m.end()) for m in _WORD.finditer(folded)]

    @abstractmethod
    def stem(self, word: str) -> str: ...

    @abstractmethod
    def sentiment(self, text: str) -> float:
        """Valence of ``text`` in -1..1."""

    @abstractmethod
    def normalize_numbers(self, text: str) -> str:
        """Spoken numbers written as digits ("seven two" → "7 2", «сорок девять тысяч» → «49000»)."""

    def entities(self, text: str) -> list[FoundEntity]:
        """Language-specific entities in ``text`` (already number-normalised): names, dates, money."""
        return []

    def counted_noun(self, word: str) -> bool:
        """Whether ``word`` (lower case), right after a number, is a noun the number counts («4000
        баллов»): then the number is not an amount. Languages that can tell say so."""
        return False

    def names_to_mask(self, text: str) -> list[FoundEntity]:
        """Person names for masking, where missing one costs more than masking a brand: by default
        the names :meth:`entities` finds."""
        return [e for e in self.entities(text) if e.type == "person"]
