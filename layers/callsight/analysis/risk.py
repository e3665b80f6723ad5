"""Dissatisfaction risk: a score 0..1 and a level from named signals, each with its reason.

Signals combine as independent chances (score = 1 - prod(1 - weight)): the customer's negative
sentiment, sentiment falling over the call, long pauses, risk-trigger words, profanity. The weights
are named below; changing one changes every call's risk, so they are tested."""

from __future__ import annotations

import math
from typing import Literal

from callsight.analysis.metrics import long_pauses
from callsight.analysis.rule_evaluation import CallContext
from callsight.analysis.rules import RulePack
from callsight.analysis.text import Occurrence
from callsight.models.analysis import CategoryMatch, Risk

#: Below this, the customer's mean sentiment counts as negative.
NEGATIVE_SENTIMENT = -0.05
#: Weight of fully negative customer sentiment (scaled by how negative it is).
SENTIMENT_WEIGHT = 0.6
#: A fall from the first to the last third larger than this counts.
FALLING_TREND = -0.2
#: Weight of a fall of 1.0 (scaled by the size of the fall).
TREND_WEIGHT = 0.4
#: Weight per long pause, and at most.
PAUSE_WEIGHT, PAUSE_WEIGHT_MAX = 0.1, 0.3
#: Weight per risk-trigger occurrence, and at most.
TRIGGER_WEIGHT, TRIGGER_WEIGHT_MAX = 0.3, 0.6
#: Weight of profanity anywhere in the call.
PROFANITY_WEIGHT = 0.5
#: Score at or above which the level is high, or medium.
HIGH_RISK, MEDIUM_RISK = 0.7, 0.4


def dissatisfaction_risk(
    rules: RulePack,
    context: CallContext,
    matched: dict[str, CategoryMatch],
    occurrences: dict[str, list[Occurrence]],
) -> Risk:
    parts: list[tuple[float, str]] = []
    sentiment = context.sentiment
    customer = sentiment.customer if sentiment.customer is not None else sentiment.overall
    if customer < NEGATIVE_SENTIMENT:
        parts.append((min(1.0, -customer) * SENTIMENT_WEIGHT, f"customer sentiment {customer:+.2f}"))
    if sentiment.trend < FALLING_TREND:
        parts.append(
            (
                min(1.0, -sentiment.trend) * TREND_WEIGHT,
                f"sentiment fell by {-sentiment.trend:.2f} from the first to the last third",
            )
        )
    pauses = long_pauses(context.transcript, rules.long_pause_s)
    if pauses:
        spans = ", ".join(f"{a:.0f}-{b:.0f} s" for a, b in pauses[:3])
        parts.append(
            (
                min(PAUSE_WEIGHT_MAX, PAUSE_WEIGHT * len(pauses)),
                f"{len(pauses)} long pause(s) of {rules.long_pause_s:.0f} s or more: {spans}",
            )
        )
    for rule in rules.of_kind("risk_trigger"):
        found = occurrences.get(rule.id, [])
        if found:
            said = "; ".join(
                f"turn {o.turn} ({o.speaker.value}, {o.time:.1f} s): {o.text!r}" for o in found[:3]
            )
            parts.append((min(TRIGGER_WEIGHT_MAX, TRIGGER_WEIGHT * len(found)), f"trigger words: {said}"))
    if "profanity" in matched:
        parts.append((PROFANITY_WEIGHT, "profanity"))
    score = 1 - math.prod(1 - weight for weight, _ in parts)
    level: Literal["low", "medium", "high"] = (
        "high" if score >= HIGH_RISK else "medium" if score >= MEDIUM_RISK else "low"
    )
    return Risk(score=round(score, 3), level=level, evidence=[reason for _, reason in parts])
