"""Retention sweep (EventBridge daily schedule): delete every expired call not under legal hold. Thin.

Pages through the expiry index, deletes every artefact of each due call and writes a receipt per
call plus a sweep summary to the audit log. Safe to run twice or concurrently.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from callsight.compliance.deletion import Actor, DeletionResult
from callsight.compliance.retention import Compliance
from callsight.config import get_settings
from callsight.observability import function_telemetry

logger, tracer, metrics = function_telemetry("retention-sweep", "callsight.compliance")

compliance = Compliance(get_settings())


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    who = Actor(actor="retention-sweep", role="system", request_id=context.aws_request_id)
    report = compliance.retention_sweep(dry_run=bool(event.get("dry_run")), who=who)
    for result in DeletionResult:
        metrics.add_metric(
            name=f"Retention_{result.value}", unit=MetricUnit.Count, value=report.count(result)
        )
    return report.model_dump(mode="json")
