"""Which alert rules an analysed call trips. Rate alerts (N tagged calls per hour) are counted by
the caller (they need shared state); this module says which counters to bump. A deployment turns
alert rules off by id (``CALLSIGHT_ALERTS_DISABLED``, e.g. ``recording_notice_missing`` where the
IVR plays the recording notice before the recording starts): :func:`enabled_alerts` checks the ids."""

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
    if analysis.sentiment is None or analysis.risk is None:  # no speech: nothing to alert on
        return []
    tripped: list[Tripped] = []
    for rule in rules.alerts:
        if rule.when.at_least_per_hour is not None:
            continue
        reasons = _reasons(rule, analysis)
        if reasons is not None:
            tripped.append(Tripped(rule, "; ".join(reasons)))
    return tripped


def _reasons(rule: AlertRule, analysis: CallAnalysis) -> list[str] | None:
    """Why every condition of ``rule`` holds for the call, or ``None`` when one does not."""
    assert analysis.sentiment is not None and analysis.risk is not None
    when = rule.when
    sentiment = analysis.sentiment
    customer = sentiment.customer if sentiment.customer is not None else sentiment.overall
    reasons: list[str] = []
    if when.tag is not None:
        if when.tag not in analysis.tags:
            return None
        reasons.append(f"tagged {when.tag}")
    if when.customer_sentiment_below is not None:
        if not (analysis.language_supported and customer < when.customer_sentiment_below):
            return None
        reasons.append(f"customer sentiment {customer:+.2f} < {when.customer_sentiment_below:+.2f}")
    if when.checkpoint_missing is not None:
        if analysis.checkpoints.get(when.checkpoint_missing) is not False:
            return None  # met, or not checked (unsupported language)
        reasons.append(f"checkpoint {when.checkpoint_missing} not met")
    if when.risk_at_least is not None:
        if analysis.risk.score < when.risk_at_least:
            return None
        reasons.append(f"dissatisfaction risk {analysis.risk.score:.2f} ≥ {when.risk_at_least:.2f}")
    return reasons


def rate_alerts(rules: RulePack, analysis: CallAnalysis) -> list[AlertRule]:
    """Rate alerts whose tag this call carries (each needs its hourly counter bumped)."""
    return [r for r in rules.alerts if r.when.at_least_per_hour is not None and r.when.tag in analysis.tags]


def enabled_alerts(rules: RulePack, disabled: frozenset[str]) -> RulePack:
    """``rules`` without the alert rules named in ``disabled``; an id that names no alert rule is a
    :class:`ValueError` at start-up (a misspelt id would otherwise leave the alert on in silence)."""
    unknown = sorted(disabled - {a.id for a in rules.alerts})
    if unknown:
        raise ValueError(
            f"CALLSIGHT_ALERTS_DISABLED names no alert rule: {', '.join(unknown)} "
            f"(alert rules: {', '.join(a.id for a in rules.alerts)})"
        )
    return rules.model_copy(update={"alerts": [a for a in rules.alerts if a.id not in disabled]})
