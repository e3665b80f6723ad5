"""Weekly report (EventBridge schedule, Monday morning): build the last complete week's report over
every call, write JSON and CSV to the reports bucket, announce it on SNS. Thin.

The event may name a week (``{"week": "2026-W47"}``) to rebuild one; ``"announce": false`` skips SNS.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from callsight.observability import function_telemetry
from callsight.reports.weekly import WeeklyQuery
from callsight.storage.secrets import resolved_settings
from callsight.sweeps.deletion import Actor
from callsight.sweeps.weekly_reports import WeeklyReports

logger, tracer, metrics = function_telemetry("weekly-report", "callsight.reports")

reports = WeeklyReports(resolved_settings())


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    week = WeeklyQuery.model_validate({"week": event.get("week")}).week
    who = Actor(actor="weekly-report", role="system", request_id=context.aws_request_id)
    run = reports.run(who, week=week, announce=event.get("announce", True) is not False)
    metrics.add_metric(name="ReportCalls", unit=MetricUnit.Count, value=run.calls)
    return run.model_dump(mode="json")
