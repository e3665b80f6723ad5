"""Ingest function: SQS (S3 ObjectCreated) → call record + transcribe message. Thin by design.

Each SQS record is processed on its own (Powertools batch processing, partial batch failure);
each S3 object is processed once (Powertools idempotency keyed by bucket/key/version/etag).
The rules live in ``callsight.stages.ingest``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext
from callsight.observability import PipelineMetric, function_telemetry
from callsight.stages.ingest.call_id import derive_call_id
from callsight.stages.ingest.events import ObjectEvent, parse_body, route_object_event
from callsight.stages.ingest.outcome import OutcomeKind
from callsight.stages.ingest.service import IngestService
from callsight.storage.idempotency import idempotency_for
from callsight.storage.secrets import resolved_settings

logger, tracer, metrics = function_telemetry("ingest", "callsight.stages.ingest")

settings = resolved_settings()
service = IngestService(settings)
idempotency, persistence = idempotency_for(settings, "[bucket, key, version_id, etag]")


# Powertools' decorator factory is untyped.
@idempotent_function(data_keyword_argument="event", config=idempotency, persistence_store=persistence)  # type: ignore[untyped-decorator]
def ingest_object(event: ObjectEvent) -> dict[str, Any]:
    logger.append_keys(call_id=derive_call_id(event.bucket, event.key, event.version_id, event.etag))
    outcome = route_object_event(event, service)
    metrics.add_metric(name=f"Ingest_{outcome.kind.value}", unit=MetricUnit.Count, value=1)
    if outcome.kind is OutcomeKind.RECEIVED:
        metrics.add_metric(name=PipelineMetric.CALLS_INGESTED, unit=MetricUnit.Count, value=1)
        if outcome.caller_number is False:  # nothing to check against the stop list
            metrics.add_metric(name="Ingest_no_caller_number", unit=MetricUnit.Count, value=1)
    elif outcome.kind is OutcomeKind.QUARANTINED:
        metrics.add_metric(name=PipelineMetric.CALLS_QUARANTINED, unit=MetricUnit.Count, value=1)
    return outcome.model_dump(mode="json")


@tracer.capture_method
def record_handler(record: SQSRecord) -> list[dict[str, Any]]:
    logger.remove_keys(["call_id"])
    events = parse_body(record.body)
    if events is None:
        logger.info("s3:TestEvent ignored", extra={"message_id": record.message_id})
        return [{"kind": "test_event"}]
    return [ingest_object(event=event) for event in events]


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    # One processor per invocation (it holds per-batch state). A batch whose every record failed is
    # reported record by record, like any partial failure, rather than raised.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
