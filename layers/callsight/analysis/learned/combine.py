"""Merges the learned model's scores with the rules' labels.

Categories: a rule that fires keeps its evidence (and gets the model's score) unless the model's
probability is below that category's veto, in which case the model overrules it (the match is
reported as overruled, not as a tag: rules misfire on paraphrase, negation and offers); the model adds
a category the rules missed when its probability clears that category's threshold. One-value fields
(purpose, outcome, refusal reason, customer mood): the model's best value stands whenever the model
ran (on dev it beat the rules at every confidence cut-off tried); else the rules' value. Every decision
says which layer made it, so a reviewer sees whether a phrase or the model is behind a label.
"""

from __future__ import annotations

from collections.abc import Mapping

from callsight.analysis.learned.model import Scores
from callsight.models.analysis import CategoryMatch, LabelDecision

#: Sign of a mean turn sentiment that counts as a mood when the model did not run.
MOOD_THRESHOLD = 0.15


def mood_of(score: float | None) -> str:
    """The mood a mean turn-sentiment score stands for (the rules' own customer mood)."""
    if score is None:
        return "neutral"
    return "positive" if score >= MOOD_THRESHOLD else "negative" if score <= -MOOD_THRESHOLD else "neutral"


def combine_categories(
    matched: Mapping[str, CategoryMatch], scores: Scores, category_ids: list[str]
) -> dict[str, CategoryMatch]:
    """``matched`` (the rules' matches of every kind) with the model's categories merged in."""
    combined = dict(matched)
    said = scores.category_labels()
    for category in category_ids:
        probability = scores.categories.get(category)
        if probability is None:
            continue
        rule = combined.get(category)
        if rule is not None and scores.overrules(category):
            del combined[category]
        elif rule is not None:
            source = "rules+model" if category in said else "rules"
            combined[category] = rule.model_copy(update={"source": source, "score": round(probability, 3)})
        elif category in said:
            combined[category] = CategoryMatch(
                id=category, kind="category", source="model", score=round(probability, 3)
            )
    return combined


def overruled_categories(
    matched: Mapping[str, CategoryMatch], scores: Scores, category_ids: list[str]
) -> list[CategoryMatch]:
    """The rules' category matches the model overrules, with the rule's evidence and the model's score."""
    return [
        matched[category].model_copy(update={"score": round(scores.categories[category], 3)})
        for category in category_ids
        if category in matched and scores.overrules(category)
    ]


def decide(name: str, rules_value: str | None, scores: Scores | None) -> LabelDecision:
    """One field's value: the model's when it ran, else the rules'."""
    best = scores.best(name) if scores is not None else None
    if best is None:
        return LabelDecision(value=rules_value, source="rules")
    value, probability = best
    if value == rules_value:
        return LabelDecision(value=value, source="rules+model", score=round(probability, 3))
    return LabelDecision(value=value, source="model", score=round(probability, 3), rules_said=rules_value)
