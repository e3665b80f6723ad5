"""Transcribe function (container image): SQS transcribe queue → transcript in S3 → analyze queue. Thin.

One image, two ways: on a GPU (Lambda Managed Instances with an accelerator) the engine picks CUDA
float16 and the batched pipeline; as a plain CPU Lambda it picks int8. The model is loaded once per
execution environment, on the first message that needs it, and reused by every later invocation.
Each message is processed once (Powertools idempotency keyed by call id); a failed attempt is
retried by the queue, and the last one marks the call FAILED with the error before the DLQ. A message
for a call deleted on purpose before transcription is acknowledged and counted (``Transcribe_call_deleted``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.idempotency import idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext
from callsight.asr.engine import AsrEngine, EngineConfig
from callsight.asr.transcriber import Transcriber
from callsight.models.messages import TranscribeRequest
from callsight.observability import PipelineMetric, function_telemetry
from callsight.resources import TRANSCRIBE_QUEUE
from callsight.stages.queue import QueueStage
from callsight.stages.transcribe.service import TranscribeOutcomeKind, TranscribeService
from callsight.storage.idempotency import idempotency_for
from callsight.storage.secrets import resolved_settings

logger, tracer, metrics = function_telemetry("transcribe", "callsight.stages.transcribe", "callsight.asr")

settings = resolved_settings()
idempotency, persistence = idempotency_for(settings, "[call_id, version_id]")


@cache
def transcriber() -> Transcriber:
    """The model, loaded once per execution environment."""
    with tracer.provider.in_subsegment("load_model"):
        engine = AsrEngine(EngineConfig.from_settings(settings))
    metrics.add_metric(name="ModelLoadSeconds", unit=MetricUnit.Seconds, value=engine.load_s)
    return Transcriber(engine)


service = TranscribeService(settings, transcriber)


# Powertools' decorator factory is untyped.
@idempotent_function(data_keyword_argument="request", config=idempotency, persistence_store=persistence)  # type: ignore[untyped-decorator]
def transcribe_call(request: TranscribeRequest) -> dict[str, Any]:
    outcome = service.handle(request)
    metrics.add_metric(name=f"Transcribe_{outcome.kind.value}", unit=MetricUnit.Count, value=1)
    if outcome.kind is TranscribeOutcomeKind.QUARANTINED:
        metrics.add_metric(name=PipelineMetric.CALLS_QUARANTINED, unit=MetricUnit.Count, value=1)
    if outcome.kind is TranscribeOutcomeKind.TRANSCRIBED:
        metrics.add_metric(name=PipelineMetric.CALLS_TRANSCRIBED, unit=MetricUnit.Count, value=1)
        if outcome.voice_print_enrolled:
            metrics.add_metric(name="VoicePrintsEnrolled", unit=MetricUnit.Count, value=1)
        if outcome.audio_s and outcome.real_time_factor:
            metrics.add_metric(
                name=PipelineMetric.AUDIO_SECONDS, unit=MetricUnit.Seconds, value=outcome.audio_s
            )
            metrics.add_metric(
                name=PipelineMetric.REAL_TIME_FACTOR, unit=MetricUnit.NoUnit, value=outcome.real_time_factor
            )
    return outcome.model_dump(mode="json")


stage = QueueStage(
    "transcription", TRANSCRIBE_QUEUE, TranscribeRequest, transcribe_call, service, logger, metrics
)
record_handler = tracer.capture_method(stage.handle_record)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    return stage.handle_batch(event, context, record_handler)
