"""Scores an analyzer against labelled calls: category P/R/F1, field accuracies, entity recall.

The same table is printed by ``callsight train``, by the corpus tests and in the README, so the
figures in all three are computed one way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from callsight.analysis.learned.examples import LabelledExample, transcript_of
from callsight.models.analysis import CallAnalysis
from callsight.models.transcript import Transcript

#: Entity types the corpus labels (places are extracted but not labelled, so not scored).
LABELLED_ENTITIES = frozenset({"order_number", "money", "phone", "email", "card", "date", "person"})
FIELDS = ("purpose", "outcome", "refusal_reason", "customer_sentiment")


class Analyzes(Protocol):
    def analyze(self, transcript: Transcript, call_id: str | None = None) -> CallAnalysis: ...


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0


@dataclass
class Evaluation:
    categories: dict[str, Tally]
    entities: dict[str, Tally]
    accuracy: dict[str, tuple[int, int]]  # field -> (right, total)
    mistakes: list[str] = field(default_factory=list)

    @property
    def micro(self) -> Tally:
        return Tally(*(sum(getattr(t, k) for t in self.categories.values()) for k in ("tp", "fp", "fn")))

    def share(self, name: str) -> float:
        right, total = self.accuracy[name]
        return right / total if total else 1.0

    @property
    def selection_score(self) -> float:
        """One number to compare models by: mean of categories F1, outcome and customer mood accuracy."""
        return (self.micro.f1 + self.share("outcome") + self.share("customer_sentiment")) / 3

    def summary(self, title: str) -> list[str]:
        overall = self.micro
        calls = self.accuracy["outcome"][1]
        lines = [
            f"== {title} ({calls} calls): categories micro P {overall.precision:.2f} R {overall.recall:.2f} "
            f"F1 {overall.f1:.2f}"
        ]
        lines += [
            f"   {name} accuracy {self.share(name):.2f} ({r}/{t})" for name, (r, t) in self.accuracy.items()
        ]
        if self.entities:
            recalls = ", ".join(f"{name} {t.recall:.2f}" for name, t in sorted(self.entities.items()))
            lines.append(f"   entity recall: {recalls}")
        return lines

    def report(self) -> str:
        lines = [f"{'category':<22} {'P':>5} {'R':>5}  tp fp fn"]
        for name, t in sorted(self.categories.items()):
            lines.append(f"{name:<22} {t.precision:5.2f} {t.recall:5.2f}  {t.tp:2} {t.fp:2} {t.fn:2}")
        lines.append(f"{'entity':<22} {'P':>5} {'R':>5}  tp fp fn")
        for name, t in sorted(self.entities.items()):
            lines.append(f"{name:<22} {t.precision:5.2f} {t.recall:5.2f}  {t.tp:2} {t.fp:2} {t.fn:2}")
        for name, (right, total) in self.accuracy.items():
            lines.append(f"{name:<22} accuracy {right}/{total} = {right / total if total else 1:.2f}")
        return "\n".join(lines)


def observed(result: CallAnalysis) -> dict[str, str | None]:
    """The analysis's value of each labelled field."""
    return {
        "purpose": result.purpose,
        "outcome": result.outcome,
        "refusal_reason": result.refusal_reason,
        "customer_sentiment": result.sentiment.customer_mood if result.sentiment else None,
    }


def evaluate(
    analyzer: Analyzes, examples: Sequence[LabelledExample], category_ids: Sequence[str] = ()
) -> Evaluation:
    categories: dict[str, Tally] = {name: Tally() for name in category_ids}
    entities: dict[str, Tally] = {}
    accuracy: dict[str, list[int]] = {name: [0, 0] for name in FIELDS}
    mistakes: list[str] = []
    for example in examples:
        result = analyzer.analyze(transcript_of(example))
        expected, got = set(example.categories), set(result.tags)
        for name in expected | got:
            tally = categories.setdefault(name, Tally())
            tally.tp += name in expected and name in got
            tally.fp += name in got and name not in expected
            tally.fn += name in expected and name not in got
        if expected != got:
            mistakes.append(
                f"{example.id}: categories missing {sorted(expected - got)} extra {sorted(got - expected)}"
            )
        for name, value in observed(result).items():
            want = example.label(name)
            if name == "refusal_reason" and want is None and value is None:
                continue
            accuracy[name][1] += 1
            accuracy[name][0] += value == want
            if value != want:
                mistakes.append(f"{example.id}: {name} {value!r}, expected {want!r}")
        if example.source != "corpus":  # QA corrections label no entities
            continue
        want_entities = set(example.entities)
        got_entities = {(e.type, e.value) for e in result.entities if e.type in LABELLED_ENTITIES}
        for kind in {k for k, _ in want_entities | got_entities}:
            tally = entities.setdefault(kind, Tally())
            w = {v for k, v in want_entities if k == kind}
            g = {v for k, v in got_entities if k == kind}
            tally.tp += len(w & g)
            tally.fp += len(g - w)
            tally.fn += len(w - g)
            if w != g:
                mistakes.append(f"{example.id}: {kind} missing {sorted(w - g)} extra {sorted(g - w)}")
    return Evaluation(categories, entities, {k: (v[0], v[1]) for k, v in accuracy.items()}, mistakes)
