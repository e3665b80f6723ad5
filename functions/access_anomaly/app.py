"""Access-anomaly alerts (EventBridge schedule, hourly): the last whole window of the audit log checked
for principals reading or exporting far more calls than usual, reading out of working hours, or being
denied again and again (``callsight.sweeps.access_check``); alerts on the access-alerts topic. Thin.

The window is the last whole one before the scheduled event's ``time``, so a retried invocation checks
the same window and sends nothing twice. A direct invocation may name ``{"window_end": "2026-12-04T13:00:00Z"}``
to re-check one window.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from callsight.observability import function_telemetry
from callsight.storage.secrets import resolved_settings
from callsight.sweeps.access_check import AccessAnomalyCheck
from callsight.sweeps.deletion import Actor
from pydantic import BaseModel, ConfigDict, Field

logger, tracer, metrics = function_telemetry("access-anomaly", "callsight.compliance")

check = AccessAnomalyCheck(resolved_settings())


class AccessCheckEvent(BaseModel):
    """An EventBridge scheduled event (its ``time``), or a direct ``window_end``."""

    model_config = ConfigDict(extra="ignore")

    time: datetime | None = Field(default=None, description="When the schedule fired (EventBridge).")
    window_end: datetime | None = Field(default=None, description="Re-check the window ending here.")


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = AccessCheckEvent.model_validate(event)
    who = Actor(actor="access-anomaly", role="system", request_id=context.aws_request_id)
    if request.window_end is not None:
        report = check.check(check.window_ending(request.window_end), who)
    else:
        report = check.run(request.time or datetime.now(UTC), who)
    metrics.add_metric(name="AccessAnomalies", unit=MetricUnit.Count, value=len(report.findings))
    metrics.add_metric(name="AccessAlertsSent", unit=MetricUnit.Count, value=len(report.sent))
    return report.model_dump(mode="json")
