"""One reconciliation run: read the snapshot, judge it, and (``fix=True``) apply the safe repairs."""

from __future__ import annotations

from datetime import UTC, datetime

from callsight.config import Settings
from callsight.reconcile.fixes import Fixer
from callsight.reconcile.inventory import InventoryReader
from callsight.reconcile.logic import default_thresholds, reconcile
from callsight.reconcile.models import ReconcileReport, Thresholds


def run_reconcile(
    settings: Settings,
    *,
    thresholds: Thresholds | None = None,
    prefix: str | None = None,
    current_only: bool = False,
    fix: bool = False,
    dead_letter_limit: int = 1000,
    now: datetime | None = None,
) -> ReconcileReport:
    """Check the stack named by ``settings``; reads only, unless ``fix`` (see :mod:`.fixes`)."""
    inventory = InventoryReader(settings).read(
        prefix=prefix, current_only=current_only, dead_letter_limit=dead_letter_limit
    )
    report = reconcile(inventory, thresholds or default_thresholds(), now or datetime.now(UTC))
    if fix:
        report.fixes = Fixer(settings).apply(report)
    return report
