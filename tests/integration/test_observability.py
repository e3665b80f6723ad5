"""Every function speaks the same telemetry: structured JSON logs with the call id and cold-start
flag, and the pipeline's EMF metrics (calls ingested/transcribed/analysed/quarantined, audio seconds,
real-time factor, queue-to-done latency, alerts). Read from what the real handlers print while a
real sample goes through ingest → transcribe (real Whisper model) → analyze on the emulator."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from chalice.test import Client

from tests.conftest import SAMPLES
from tests.integration.conftest import Stack

EN_STEREO = "out-14155550147-201-20261116-151500-1794842100.21.wav"
LOG_KEYS = {"level", "location", "message", "timestamp", "service", "cold_start", "function_request_id"}


def printed_json(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return lines


def emitted_metrics(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Metric name → {service, unit, values} from the EMF documents printed."""
    found: dict[str, dict[str, Any]] = {}
    for doc in lines:
        for directive in doc.get("_aws", {}).get("CloudWatchMetrics", []):
            assert directive["Namespace"] == "Callsight"
            for metric in directive["Metrics"]:
                values = doc[metric["Name"]]
                entry = found.setdefault(
                    metric["Name"], {"service": doc["service"], "unit": metric["Unit"], "values": []}
                )
                entry["values"] += values if isinstance(values, list) else [values]
    return found


@pytest.fixture
def function_logs() -> Iterator[Callable[[], io.StringIO]]:
    """``capture()`` sends every stdout log handler that exists now (Powertools binds one per function
    to the ``sys.stdout`` of its creation) to a buffer it returns; the streams are put back after the
    test. EMF metrics are ``print``-ed and read with ``capsys``."""
    original: dict[logging.StreamHandler[Any], Any] = {}

    def capture() -> io.StringIO:
        buffer = io.StringIO()
        loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
        for handler in {h for log in loggers for h in log.handlers}:
            if type(handler) is logging.StreamHandler and getattr(handler.stream, "name", "") != "<stderr>":
                original.setdefault(handler, handler.stream)
                handler.stream = buffer
        return buffer

    yield capture
    for handler, stream in original.items():
        handler.stream = stream


def test_the_pipeline_emits_its_metrics_and_structured_logs(
    env: Stack, capsys: pytest.CaptureFixture[str], function_logs: Callable[[], io.StringIO]
) -> None:
    runner = env.runner(stages=("ingest", "transcribe", "analyze"))  # loads the three functions
    logged = function_logs()
    env.put(EN_STEREO, (SAMPLES / "recordings" / EN_STEREO).read_bytes())
    assert runner.drain(max_seconds=300)
    metrics = emitted_metrics(printed_json(capsys.readouterr().out))
    for name, service in (
        ("CallsIngested", "ingest"), ("CallsTranscribed", "transcribe"), ("AudioSeconds", "transcribe"),
        ("RealTimeFactor", "transcribe"), ("CallsAnalyzed", "analyze"), ("QueueToDoneSeconds", "analyze"),
        ("AlertsSent", "analyze"),
    ):  # fmt: skip
        assert name in metrics and metrics[name]["service"] == service, (name, sorted(metrics))
    assert metrics["AudioSeconds"]["values"][0] == pytest.approx(20.5, abs=1)  # the sample is 20.5 s
    assert 0 < metrics["RealTimeFactor"]["values"][0] < 5
    assert 0 < metrics["QueueToDoneSeconds"]["values"][0] < 300
    assert metrics["AudioSeconds"]["unit"] == "Seconds"

    logs = [line for line in printed_json(logged.getvalue()) if "message" in line and "level" in line]
    [call] = env.all_calls()
    for service, message in (("ingest", "recording received"), ("transcribe", "call transcribed"),
                             ("analyze", "call analysed")):  # fmt: skip
        [entry] = [e for e in logs if e["service"] == service and e["message"] == message]
        assert set(entry) >= LOG_KEYS, (service, sorted(entry))
        assert entry["call_id"] == call.call_id  # correlated across the three functions
    assert all("+1415" not in json.dumps(e) for e in logs)  # the customer's number never logged


def test_the_api_logs_each_request_and_its_latency(
    env: Stack, capsys: pytest.CaptureFixture[str], function_logs: Callable[[], io.StringIO]
) -> None:
    from tests.integration.test_api import api_module

    app = api_module().app
    logged = function_logs()
    with Client(app) as client:
        assert client.http.get("/calls").status_code == 401
        assert client.http.get("/health").status_code == 200
    lines = printed_json(logged.getvalue())
    requests = [line for line in lines if line.get("message") == "request" and line.get("service") == "api"]
    assert [(r["route"], r["status"]) for r in requests] == [("/calls", 401), ("/health", 200)]
    assert all("authorization" not in json.dumps(r).lower() for r in requests)
    assert "ApiLatencyMs" in emitted_metrics(printed_json(capsys.readouterr().out))
