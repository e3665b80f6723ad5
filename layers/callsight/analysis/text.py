"""The transcript as the analyzer reads it: turns of tokens with times, and phrase matching on them.

Tokens come from each word of a turn, so every token knows when it was said. A phrase matches
consecutive tokens: a plain word by its stem, ``word*`` by prefix. An occurrence is *negated* when
a negation word stands within the rule pack's window before it, in the same clause («не дорого»,
"not expensive"; but not "Not good enough. Have a manager call me").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from callsight.analysis.languages.base import LanguagePack, Token
from callsight.models.transcript import Speaker, Transcript

_CLAUSE_END = re.compile(r"[.,!?;:…]$")


@dataclass(frozen=True)
class TurnView:
    index: int
    speaker: Speaker
    start: float
    end: float
    text: str
    tokens: list[Token]
    token_times: list[float]
    #: Clause number of each token: punctuation (. , ! ? ; : …) starts a new clause.
    token_clauses: list[int]
    #: Clauses that end with a question mark (an offer or a question, not a statement).
    question_clauses: frozenset[int] = frozenset()
    #: Every stem in the turn (phrases whose first word is absent are skipped without a scan).
    stems: frozenset[str] = frozenset()
    #: Index into ``Transcript.words`` of the word each token came from.
    token_words: tuple[int, ...] = ()

    @property
    def words(self) -> list[str]:
        return [t.text for t in self.tokens]


def turn_views(transcript: Transcript, pack: LanguagePack) -> list[TurnView]:
    views: list[TurnView] = []
    for index, turn in enumerate(transcript.turns):
        tokens: list[Token] = []
        times: list[float] = []
        clauses: list[int] = []
        word_indices: list[int] = []
        questions: set[int] = set()
        clause = 0
        for offset, word in enumerate(transcript.words[turn.first_word : turn.first_word + turn.word_count]):
            for token in pack.tokens(word.text):
                tokens.append(token)
                times.append(word.start)
                clauses.append(clause)
                word_indices.append(turn.first_word + offset)
            if _CLAUSE_END.search(word.text):
                if word.text.endswith("?"):
                    questions.update(range(_sentence_start(clauses, clause), clause + 1))
                clause += 1
        views.append(
            TurnView(
                index,
                turn.speaker,
                turn.start,
                turn.end,
                turn.text,
                tokens,
                times,
                clauses,
                frozenset(questions),
                frozenset(t.stem for t in tokens),
                tuple(word_indices),
            )
        )
    return views


def _sentence_start(clauses: list[int], clause: int) -> int:
    """A question's clauses run back to the previous sentence end; approximated by two clauses."""
    return max(0, clause - 2)


@dataclass(frozen=True)
class PatternWord:
    stem: str | None = None
    prefix: str | None = None

    def matches(self, token: Token) -> bool:
        if self.prefix is not None:
            return token.text.startswith(self.prefix)
        return token.stem == self.stem


@dataclass(frozen=True)
class Pattern:
    phrase: str
    words: tuple[PatternWord, ...]


def compile_phrase(phrase: str, pack: LanguagePack) -> Pattern | None:
    words: list[PatternWord] = []
    for raw in pack.fold(phrase).split():
        if raw.endswith("*"):
            stem_tokens = pack.tokens(raw[:-1])
            if not stem_tokens:
                continue
            words.extend(PatternWord(stem=t.stem) for t in stem_tokens[:-1])
            words.append(PatternWord(prefix=stem_tokens[-1].text))
        else:
            words.extend(PatternWord(stem=t.stem) for t in pack.tokens(raw))
    return Pattern(phrase, tuple(words)) if words else None


def expand_phrases(phrases: list[str], pack: LanguagePack) -> list[Pattern]:
    """``@set`` references resolved from the language module, then compiled."""
    patterns: list[Pattern] = []
    for phrase in phrases:
        for item in pack.phrase_sets.get(phrase[1:], []) if phrase.startswith("@") else [phrase]:
            pattern = compile_phrase(item, pack)
            if pattern is not None:
                patterns.append(pattern)
    return patterns


@dataclass(frozen=True)
class Occurrence:
    turn: int
    token: int
    time: float
    speaker: Speaker
    phrase: str
    negated: bool
    text: str = field(compare=False)
    question: bool = False


def matches_at(pattern: Pattern, tokens: Sequence[Token], start: int) -> bool:
    """Whether ``pattern`` matches ``tokens`` from ``start`` on."""
    return start + len(pattern.words) <= len(tokens) and all(
        word.matches(tokens[start + i]) for i, word in enumerate(pattern.words)
    )


class PatternSet:
    """Patterns indexed by their first word, so "does any of them occur in these tokens" looks at the
    few patterns that can start at each token instead of trying every pattern everywhere."""

    def __init__(self, patterns: Sequence[Pattern]) -> None:
        self.by_stem: dict[str, list[Pattern]] = {}
        self.by_prefix: list[Pattern] = []
        for pattern in patterns:
            first = pattern.words[0]
            if first.stem is not None:
                self.by_stem.setdefault(first.stem, []).append(pattern)
            else:
                self.by_prefix.append(pattern)

    def occurs_in(self, tokens: Sequence[Token]) -> bool:
        for i, token in enumerate(tokens):
            for pattern in self.by_stem.get(token.stem, ()):
                if matches_at(pattern, tokens, i):
                    return True
            for pattern in self.by_prefix:
                if pattern.words[0].matches(token) and matches_at(pattern, tokens, i):
                    return True
        return False


def find(
    pattern: Pattern,
    turn: TurnView,
    pack: LanguagePack,
    negation_window: int,
    post_negations: list[Pattern] | None = None,
) -> list[Occurrence]:
    """Every occurrence of ``pattern`` in ``turn``. Negated: a negation word up to ``negation_window``
    words before it in the same clause, or a post-negation right after it («настройка не нужна»)."""
    found: list[Occurrence] = []
    first = pattern.words[0]
    if first.stem is not None and first.stem not in turn.stems:
        return found
    size = len(pattern.words)
    tokens = turn.tokens
    for start in range(len(tokens) - size + 1):
        if first.matches(tokens[start]) and matches_at(pattern, tokens, start):
            window = range(max(0, start - negation_window), start)
            clause = turn.token_clauses[start]
            negated = any(
                turn.tokens[i].text in pack.negations and turn.token_clauses[i] == clause for i in window
            ) or any(
                matches_at(post, turn.tokens, start + size + gap)
                and turn.token_clauses[min(start + size + gap, len(turn.tokens) - 1)] == clause
                for post in post_negations or []
                for gap in (0, 1)
            )
            said = " ".join(t.text for t in turn.tokens[max(0, start - negation_window) : start + size])
            found.append(
                Occurrence(
                    turn.index, start, turn.token_times[start], turn.speaker, pattern.phrase, negated, said,
                    question=clause in turn.question_clauses,
                )
            )  # fmt: skip
    return found
