"""Analyze function: SQS analyze queue → analysis, search entries, ANALYZED call, CallAnalyzed, alerts. Thin.

The rule file is loaded and validated at cold start: a broken deployment rule file stops the
function from starting with ``file:line: reason`` instead of failing on the first call. Each message
is processed once per transcript version (Powertools idempotency); a failed attempt is retried by
the queue, and the last one marks the call FAILED before the message goes to the DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.idempotency import idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext
from callsight.analysis.analyzer import Analyzer
from callsight.analysis.rules import DEFAULT_RULES, load_rules
from callsight.models.messages import AnalyzeRequest
from callsight.observability import PipelineMetric, function_telemetry
from callsight.phone import phone_lookup_hash
from callsight.resources import ANALYZE_QUEUE
from callsight.stages.analyze.service import AnalyzeOutcomeKind, AnalyzeService
from callsight.stages.queue import QueueStage
from callsight.storage.idempotency import idempotency_for
from callsight.storage.label_models import label_model_for
from callsight.storage.secrets import resolved_settings

logger, tracer, metrics = function_telemetry("analyze", "callsight.stages.analyze", "callsight.analysis")

settings = resolved_settings()
rules = load_rules(
    settings.analysis_rules or DEFAULT_RULES
)  # RuleFileError here = the function does not start
hash_key = settings.phone_hash_key.get_secret_value().encode()
analyzer = Analyzer(
    rules,
    settings.phone_region,
    lambda phone: phone_lookup_hash(phone, hash_key),
    settings.order_number_pattern,
    lambda: label_model_for(settings),  # the learned layer, read from S3 at the first analysis
)
service = AnalyzeService(settings, analyzer)
idempotency, persistence = idempotency_for(settings, "[call_id, transcript_version_id]")


# Powertools' decorator factory is untyped.
@idempotent_function(data_keyword_argument="request", config=idempotency, persistence_store=persistence)  # type: ignore[untyped-decorator]
def analyze_call(request: AnalyzeRequest) -> dict[str, Any]:
    outcome = service.handle(request)
    metrics.add_metric(name=f"Analyze_{outcome.kind.value}", unit=MetricUnit.Count, value=1)
    if outcome.kind is AnalyzeOutcomeKind.FAILED:
        metrics.add_metric(name=PipelineMetric.CALLS_FAILED, unit=MetricUnit.Count, value=1)
    if outcome.kind is AnalyzeOutcomeKind.ANALYZED:
        metrics.add_metric(name=PipelineMetric.CALLS_ANALYZED, unit=MetricUnit.Count, value=1)
        metrics.add_metric(name=PipelineMetric.ALERTS_SENT, unit=MetricUnit.Count, value=len(outcome.alerts))
        if outcome.queue_to_done_s is not None:
            metrics.add_metric(
                name=PipelineMetric.QUEUE_TO_DONE_SECONDS,
                unit=MetricUnit.Seconds,
                value=outcome.queue_to_done_s,
            )
    return outcome.model_dump(mode="json")


stage = QueueStage("analysis", ANALYZE_QUEUE, AnalyzeRequest, analyze_call, service, logger, metrics)
record_handler = tracer.capture_method(stage.handle_record)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    return stage.handle_batch(event, context, record_handler)
