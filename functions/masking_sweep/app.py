"""Masking sweep (EventBridge schedule): mask PII in transcripts and bleep it in a redacted audio copy
for calls past the masking window, then drop the unmasked originals unless policy keeps them. Thin."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from callsight.observability import function_telemetry
from callsight.storage.secrets import resolved_settings
from callsight.sweeps.deletion import Actor
from callsight.sweeps.masking_sweep import MaskingSweep

logger, tracer, metrics = function_telemetry("masking-sweep", "callsight.compliance")

sweep = MaskingSweep(resolved_settings())


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    who = Actor(actor="masking-sweep", role="system", request_id=context.aws_request_id)
    report = sweep.run(dry_run=bool(event.get("dry_run")), who=who)
    metrics.add_metric(name="CallsMasked", unit=MetricUnit.Count, value=len(report.outcomes))
    return report.model_dump(mode="json")
