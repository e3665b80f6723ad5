"""``callsight train``: fit, measure, and keep the better model.

1. Fit on the **train** examples and measure rules + model on **dev**: the figure models are compared
   by (:attr:`Evaluation.selection_score`).
2. Refit on train + dev (more data, the same hyper-parameters) and measure on **test**, which nothing
   was chosen on: the figure reported. That refit is the model saved.

A new model replaces the current one only when its dev figure is at least the current model's (as
recorded in its metadata); otherwise the run stops and says both figures, unless forced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from callsight.analysis.learned.evaluation import Analyzes, Evaluation, evaluate
from callsight.analysis.learned.examples import LabelledExample, TimedTurn, transcript_of
from callsight.analysis.learned.model import LabelModel
from callsight.analysis.learned.training import fingerprint, fit
from callsight.models.feedback import LabelFeedback

#: Builds an analyzer with the given learned layer (None: rules only).
AnalyzerFactory = Callable[[LabelModel | None], Analyzes]


@dataclass(frozen=True)
class TrainingRun:
    model: LabelModel
    evaluations: dict[str, Evaluation]  # "dev, rules only", "dev, rules + model", "test, ..."
    counts: dict[str, int]

    @property
    def dev_score(self) -> float:
        return self.evaluations["dev, rules + model"].selection_score

    def table(self) -> str:
        lines: list[str] = []
        for title, evaluation in self.evaluations.items():
            lines += evaluation.summary(title)
        return "\n".join(lines)


class WorseModel(RuntimeError):
    """The new model scores below the current one on dev; the message gives both figures."""


def example_of_feedback(feedback: LabelFeedback) -> LabelledExample:
    """A QA-corrected call as a training example (its split fixed by its call id)."""
    speakers = {t.speaker.value for t in feedback.turns}
    labels = feedback.labels
    return LabelledExample(
        id=feedback.call_id,
        language=feedback.language or "und",
        channels=2 if {"agent", "customer"} <= speakers else 1,
        turns=tuple(TimedTurn(t.speaker.value, t.text, t.start, t.end) for t in feedback.turns),
        categories=frozenset(labels.categories),
        purpose=labels.purpose,
        outcome=labels.outcome,
        refusal_reason=labels.refusal_reason,
        customer_sentiment=labels.customer_sentiment,
        source="feedback",
    )


def train(
    splits: dict[str, list[LabelledExample]],
    category_ids: Sequence[str],
    analyzer_for: AnalyzerFactory,
    progress: Callable[[str], None] = lambda _: None,
) -> TrainingRun:
    train_set, dev, test = splits["train"], splits["dev"], splits["test"]
    for name, members in (("train", train_set), ("dev", dev), ("test", test)):
        if not members:
            raise ValueError(
                f"no {name} examples: a model cannot be fitted and measured without all three splits"
            )
    rules_only = analyzer_for(None)
    progress(f"running the rules on {len(train_set) + len(dev)} train and dev calls")
    fired = {e.id: frozenset(rules_only.analyze(transcript_of(e)).tags) for e in (*train_set, *dev)}

    progress(f"fitting on train ({len(train_set)} calls), measuring on dev ({len(dev)})")
    chosen = fit(train_set, category_ids, [fired[e.id] for e in train_set])
    evaluations = {
        "dev, rules only": evaluate(rules_only, dev, category_ids),
        "dev, rules + model": evaluate(analyzer_for(chosen), dev, category_ids),
    }
    both = [*train_set, *dev]
    progress(f"refitting on train + dev ({len(both)} calls), measuring on test ({len(test)})")
    selection = evaluations["dev, rules + model"]
    final = fit(
        both,
        category_ids,
        [fired[e.id] for e in both],
        metadata={
            "fitted_on": "train+dev",
            "selection": {
                "score": round(selection.selection_score, 4),
                "dev_fingerprint": fingerprint(dev),
                "dev_calls": len(dev),
                "dev_table": selection.summary("dev, rules + model (fitted on train)"),
            },
            "sources": sorted({e.source for e in both}),
        },
    )
    evaluations["test, rules only"] = evaluate(rules_only, test, category_ids)
    evaluations["test, rules + model"] = evaluate(analyzer_for(final), test, category_ids)
    final.metadata["test_table"] = evaluations["test, rules + model"].summary("test, rules + model")
    counts = {"train": len(train_set), "dev": len(dev), "test": len(test)}
    return TrainingRun(final, evaluations, counts)


def check_better(run: TrainingRun, current: LabelModel | None) -> str:
    """A line comparing the new model with ``current``; raises :class:`WorseModel` when it is worse."""
    if current is None:
        return "no current model: the new one is kept"
    selection = current.metadata.get("selection") or {}
    old = selection.get("score")
    if old is None:
        return f"current model {current.version} records no dev figure: replaced"
    same = selection.get("dev_fingerprint") == run.model.metadata["selection"]["dev_fingerprint"]
    where = "the same dev calls" if same else "different dev calls (the labelled data changed)"
    line = f"dev score {run.dev_score:.3f} vs current model {current.version} {old:.3f}, on {where}"
    if run.dev_score + 1e-9 < float(old):
        raise WorseModel(f"the new model is worse: {line}; keep the current one or pass --force")
    return line
