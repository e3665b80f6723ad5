"""Which alert rules an analysed call trips. Rate alerts (N tagged calls per hour) are counted by
the caller (they need shared state); this module says which counters to bump."""

from __future__ import annotations

from dataclasses import dataclass

from callsight.analysis.rules import AlertRule, RulePack
from callsight.models.analysis import CallAnalysis


@dataclass(frozen=True)
class Tripped:
    rule: AlertRule
    reason: str


def tripped_alerts(rules: RulePack, analysis: CallAnalysis) -> list[Tripped]:
    """Per-call alerts that hold for ``analysis`` (rules without ``at_least_per_hour``)."""
    tripped: list[Tripped] = []
    if analysis.sentiment is None or analysis.risk is None:  # no speech: nothing to alert on
        return tripped
    customer = (
        analysis.sentiment.customer if analysis.sentiment.customer is not None else analysis.sentiment.overall
    )
    for rule in rules.alerts:
        when = rule.when
        if when.at_least_per_hour is not None:
            continue
        reasons: list[str] = []
        if when.tag is not None:
            if when.tag not in analysis.tags:
                continue
            reasons.append(f"tagged {when.tag}")
        if when.customer_sentiment_below is not None:
            if not (analysis.language_supported and customer < when.customer_sentiment_below):
                continue
            reasons.append(f"customer sentiment {customer:+.2f} < {when.customer_sentiment_below:+.2f}")
        if when.risk_at_least is not None:
            if analysis.risk.score < when.risk_at_least:
                continue
            reasons.append(f"dissatisfaction risk {analysis.risk.score:.2f} ≥ {when.risk_at_least:.2f}")
        tripped.append(Tripped(rule, "; ".join(reasons)))
    return tripped


def rate_alerts(rules: RulePack, analysis: CallAnalysis) -> list[AlertRule]:
    """Rate alerts whose tag this call carries (each needs its hourly counter bumped)."""
    return [r for r in rules.alerts if r.when.at_least_per_hour is not None and r.when.tag in analysis.tags]
