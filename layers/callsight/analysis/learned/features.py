"""A call's turns as sparse tf-idf vectors of character n-grams, one vector per *view* of the call.

A view is the text a label depends on: the whole call (categories, purpose), the customer's words
(sentiment), the closing turns (outcome, end-of-call mood). Character n-grams inside word boundaries
carry Russian morphology, ASR misspellings and numbers written as words without a stemmer; digits
are folded to ``0`` so that no phone or order number becomes a feature. Pure Python; the same code
builds the vocabulary in training and looks it up when scoring, so the two cannot drift.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

#: n-gram lengths, counted with the boundary spaces (" ok " gives " o", "ok", "k ", " ok", ...).
NGRAM_SIZES = (2, 3, 4, 5)
#: Turns at the end of the call read by the closing view.
CLOSING_TURNS = 4
VIEWS = ("call", "customer", "closing")

_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class SpokenTurn:
    """What the featurizer needs of a turn: who spoke (agent | customer | unknown) and what."""

    speaker: str
    text: str


def normalise(text: str) -> str:
    return _DIGIT.sub("0", text.lower().replace("ё", "е"))


def ngrams(text: str) -> Counter[str]:
    """Counts of the word-boundary character n-grams of ``text`` (after :func:`normalise`)."""
    counts: Counter[str] = Counter()
    for word in _WORD.findall(normalise(text)):
        padded = f" {word} "
        length = len(padded)
        for size in NGRAM_SIZES:
            if size > length:
                break
            counts.update(padded[i : i + size] for i in range(length - size + 1))
    return counts


def view_texts(turns: Sequence[SpokenTurn]) -> dict[str, str]:
    """The text of each view. A mono call (no customer turns) reads all speech as the customer's."""
    customer = [t.text for t in turns if t.speaker == "customer"] or [
        t.text for t in turns if t.speaker != "agent"
    ]
    return {
        "call": " ".join(t.text for t in turns),
        "customer": " ".join(customer),
        "closing": " ".join(t.text for t in turns[-CLOSING_TURNS:]),
    }


def view_counts(turns: Sequence[SpokenTurn]) -> dict[str, Counter[str]]:
    texts = view_texts(turns)
    return {view: ngrams(texts[view]) for view in VIEWS}


@dataclass(frozen=True)
class Vocabulary:
    """Feature columns: ``index[view][ngram]`` is a column, ``idf[column]`` its inverse document frequency."""

    index: Mapping[str, Mapping[str, int]]
    idf: Sequence[float]

    @property
    def size(self) -> int:
        return len(self.idf)

    @classmethod
    def build(cls, calls: Iterable[Mapping[str, Counter[str]]], min_calls: int = 2) -> Vocabulary:
        """Keep the n-grams seen in at least ``min_calls`` calls (per view); smooth idf as scikit-learn."""
        frequency: dict[str, Counter[str]] = {view: Counter() for view in VIEWS}
        total = 0
        for counts in calls:
            total += 1
            for view in VIEWS:
                frequency[view].update(counts[view].keys())
        index: dict[str, dict[str, int]] = {}
        idf: list[float] = []
        for view in VIEWS:
            columns: dict[str, int] = {}
            for gram, seen in sorted(frequency[view].items()):
                if seen >= min_calls:
                    columns[gram] = len(idf)
                    idf.append(math.log((1 + total) / (1 + seen)) + 1.0)
            index[view] = columns
        return cls(index, idf)

    def columns_of(self, views: Iterable[str]) -> list[int]:
        """The feature columns of ``views``."""
        return [column for view in views for column in self.index[view].values()]

    def vector(self, counts: Mapping[str, Counter[str]]) -> dict[int, float]:
        """Sparse tf-idf (sublinear tf), each view scaled to unit length on its own."""
        vector: dict[int, float] = {}
        for view in VIEWS:
            columns = self.index[view]
            part = {
                column: (1.0 + math.log(n)) * self.idf[column]
                for gram, n in counts[view].items()
                if (column := columns.get(gram)) is not None
            }
            norm = math.sqrt(sum(v * v for v in part.values())) or 1.0
            vector.update({column: value / norm for column, value in part.items()})
        return vector
