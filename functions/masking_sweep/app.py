"""Masking sweep (EventBridge schedule): mask PII in transcripts and bleep it in a redacted audio copy
for calls past the masking window, then drop the unmasked originals unless policy keeps them. Thin."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from callsight.compliance.deletion import Actor
from callsight.compliance.masking_sweep import MaskingSweep
from callsight.config import get_settings
from callsight.observability import function_telemetry

logger, tracer, metrics = function_telemetry("masking-sweep", "callsight.compliance")

sweep = MaskingSweep(get_settings())


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    who = Actor(actor="masking-sweep", role="system", request_id=context.aws_request_id)
    report = sweep.run(dry_run=bool(event.get("dry_run")), who=who)
    metrics.add_metric(name="CallsMasked", unit=MetricUnit.Count, value=len(report.outcomes))
    return report.model_dump(mode="json")
