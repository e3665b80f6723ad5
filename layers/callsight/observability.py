"""Logs, traces and metrics, set up the same way in every function (Powertools), plus trace spans
the domain code can open without knowing about Lambda.

- :func:`function_telemetry` gives a function its Logger (structured JSON; ``service``, cold-start
  flag, request id, ``call_id`` once known; debug sampled by ``POWERTOOLS_LOGGER_SAMPLE_RATE``),
  Tracer (X-Ray; boto3 patched by Powertools) and Metrics (CloudWatch EMF in namespace
  ``POWERTOOLS_METRICS_NAMESPACE``, default ``Callsight``), and routes the domain packages' logs
  through the Logger (:func:`callsight.logs.claim_domain_loggers`).
- :class:`PipelineMetric` names the pipeline's metrics once, so dashboards and alarms see one
  vocabulary across functions.
- :func:`span` opens an X-Ray subsegment (decode, ASR per channel, analysis, writes) when tracing
  is on, and does nothing otherwise (tests, the CLI, the local runner).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

from aws_lambda_powertools import Logger, Metrics, Tracer

from callsight.logs import claim_domain_loggers, redact_numbers_in_logs

NAMESPACE_DEFAULT = "Callsight"


class PipelineMetric(StrEnum):
    CALLS_INGESTED = "CallsIngested"
    CALLS_QUARANTINED = "CallsQuarantined"
    CALLS_TRANSCRIBED = "CallsTranscribed"
    CALLS_ANALYZED = "CallsAnalyzed"
    CALLS_FAILED = "CallsFailed"
    AUDIO_SECONDS = "AudioSeconds"
    REAL_TIME_FACTOR = "RealTimeFactor"
    #: Upload of the recording (S3 object time) to the call's ANALYZED write.
    QUEUE_TO_DONE_SECONDS = "QueueToDoneSeconds"
    ALERTS_SENT = "AlertsSent"


def function_telemetry(service: str, *domain_packages: str) -> tuple[Logger, Tracer, Metrics]:
    logger = Logger(service=service)
    tracer = Tracer(service=service)
    metrics = Metrics(
        namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE_DEFAULT), service=service
    )
    redact_numbers_in_logs(logger)
    claim_domain_loggers(logger, *domain_packages)
    return logger, tracer, metrics


@contextmanager
def span(name: str, **annotations: str | int | bool) -> Iterator[None]:
    """An X-Ray subsegment named ``name`` around the block (a no-op when tracing is disabled)."""
    tracer = Tracer()  # Powertools' Tracer shares its configuration between instances
    if tracer.disabled:
        yield
        return
    with tracer.provider.in_subsegment(name) as subsegment:
        for key, value in annotations.items():
            subsegment.put_annotation(key, value if isinstance(value, str | bool) else str(value))
        yield
