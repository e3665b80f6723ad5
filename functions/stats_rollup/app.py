"""Daily statistics rollup (EventBridge schedule, hourly): fold yesterday's calls into cells once it
has closed, and re-fold every earlier day whose calls changed since (``callsight.sweeps.stats_rollup``). Thin.

The event may name days to rebuild (``{"days": ["2026-11-20", "2026-11-21"]}``), e.g. a backfill.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from callsight.observability import function_telemetry
from callsight.storage.secrets import resolved_settings
from callsight.sweeps.stats_rollup import StatsRollup
from pydantic import BaseModel, Field

logger, tracer, metrics = function_telemetry("stats-rollup", "callsight.stats")

rollup = StatsRollup(resolved_settings())


class RollupEvent(BaseModel):
    """A scheduled event (no ``days``: what is due) or an explicit list of UTC days."""

    days: list[date] | None = Field(default=None, max_length=366)


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = RollupEvent.model_validate({"days": event.get("days")})
    report = rollup.run(days=request.days)
    metrics.add_metric(name="DaysRolledUp", unit=MetricUnit.Count, value=len(report.rolled_up))
    metrics.add_metric(name="RollupCalls", unit=MetricUnit.Count, value=report.calls)
    if report.changed_again or report.refused:
        logger.warning("rollup left days marked", changed_again=report.changed_again, refused=report.refused)
    return report.model_dump(mode="json")
