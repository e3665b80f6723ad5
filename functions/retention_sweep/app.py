"""Retention sweep (EventBridge daily schedule): delete every expired call not under legal hold. Thin.

Pages through the expiry index, deletes every artefact of each due call and writes a receipt per
call plus a sweep summary to the audit log. Safe to run twice or concurrently. Then anchors the
audit chains' heads of yesterday (final) and today (so far) in the Object-Lock anchors bucket.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from callsight.observability import function_telemetry
from callsight.storage.secrets import resolved_settings
from callsight.sweeps.audit_verify import AuditVerifier
from callsight.sweeps.deletion import Actor, DeletionResult
from callsight.sweeps.retention import RetentionSweep

logger, tracer, metrics = function_telemetry("retention-sweep", "callsight.compliance")

retention = RetentionSweep(resolved_settings())


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    who = Actor(actor="retention-sweep", role="system", request_id=context.aws_request_id)
    report = retention.run(dry_run=bool(event.get("dry_run")), who=who)
    for result in DeletionResult:
        metrics.add_metric(
            name=f"Retention_{result.value}", unit=MetricUnit.Count, value=report.count(result)
        )
    if not event.get("dry_run"):
        today = datetime.now(UTC).date()
        anchors = AuditVerifier(retention.settings, retention.audit)
        for day in (today - timedelta(days=1), today):
            anchors.anchor(day)
    return report.model_dump(mode="json")
