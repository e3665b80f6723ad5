"""The shell every SQS-driven pipeline stage shares (transcribe, analyze): one record at a time
through Powertools' batch processor, each message run once by the stage's idempotent function, and
on an error the call released — FAILED on the queue's last attempt — before the message goes back to
the queue (and, after its last attempt, to the DLQ).

A concurrent copy of a message that is being processed right now is not a failed attempt: releasing
the call would undo the other copy's work, so it is only retried.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from callsight.observability import PipelineMetric
from callsight.resources import QueueSpec


class ReleasesCalls(Protocol):
    def release_after_error(self, call_id: str, error: BaseException, *, final: bool) -> None: ...


RequestT = TypeVar("RequestT", bound=BaseModel)


@dataclass(frozen=True)
class QueueStage(Generic[RequestT]):
    """One stage's queue: its message type, its idempotent work, and the service that releases a
    call after a failed attempt. ``work`` is called as ``work(request=...)`` (Powertools' idempotent
    function keys on that keyword)."""

    name: str  # "transcription", "analysis": in log messages
    queue: QueueSpec
    request_type: type[RequestT]
    work: Callable[..., dict[str, Any]]
    service: ReleasesCalls
    logger: Logger
    metrics: Metrics

    def handle_record(self, record: SQSRecord) -> dict[str, Any]:
        request = self.request_type.model_validate_json(record.body)
        call_id: str = request.call_id  # type: ignore[attr-defined]  # every stage message names its call
        self.logger.append_keys(call_id=call_id)
        try:
            return self.work(request=request)
        except IdempotencyAlreadyInProgressError:
            self.logger.info("another attempt is processing this call; the message will be retried")
            raise
        except Exception as error:
            final = self.queue.is_last_attempt(record.attributes.approximate_receive_count)
            self.logger.exception(f"{self.name} attempt failed", extra={"final_attempt": final})
            self.service.release_after_error(call_id, error, final=final)
            if final:
                self.metrics.add_metric(name=PipelineMetric.CALLS_FAILED, unit=MetricUnit.Count, value=1)
            raise

    def handle_batch(
        self, event: dict[str, Any], context: LambdaContext, record_handler: Callable[[SQSRecord], Any]
    ) -> PartialItemFailureResponse:
        """The whole SQS batch; failed records are reported back so only they are retried."""
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
