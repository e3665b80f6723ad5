"""Shared fixtures: the embedded AWS emulator (or an external one), provisioned fresh per test."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
_IMPORTED_AT = time.time()
EVENTS = REPO / "events"
SAMPLES = EVENTS / "samples"

# Powertools outside Lambda: no X-Ray daemon here; metrics still emitted as EMF to stdout.
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Callsight")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
logging.getLogger("werkzeug").setLevel(logging.ERROR)


def load_event(relative: str) -> dict[str, Any]:
    """A sample event from ``events/``."""
    return json.loads((EVENTS / relative).read_text(encoding="utf-8"))


def utc_today_clear_of_midnight(margin_s: float = 90.0) -> date:
    """Today's UTC date, after waiting out the day's last ``margin_s`` seconds if the clock is in them.

    Tests that write "today's" records and then read "today" take the day when they start (not when
    the module is imported: a suite can run for half an hour) and never straddle midnight.
    """
    now = datetime.now(UTC)
    left = (datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC) - now).total_seconds()
    if left < margin_s:
        time.sleep(left + 1)
    return datetime.now(UTC).date()


@pytest.fixture(scope="session")
def emulator_endpoint() -> Iterator[str]:
    """``CALLSIGHT_AWS_ENDPOINT`` if set (e.g. LocalStack), else the embedded moto server."""
    external = os.environ.get("CALLSIGHT_AWS_ENDPOINT")
    if external:
        yield external
        return
    from callsight.local.bootstrap import start_emulator

    emulator = start_emulator()
    yield emulator.endpoint
    emulator.stop()


@pytest.fixture
def stack(emulator_endpoint: str) -> Any:
    """Settings of a freshly reset and provisioned local stack."""
    from callsight.local.bootstrap import provisioned

    if "127.0.0.1" in emulator_endpoint or "localhost" in emulator_endpoint:
        import urllib.request

        request = urllib.request.Request(f"{emulator_endpoint}/moto-api/reset", method="POST")  # noqa: S310
        # Not moto (LocalStack): resources are recreated idempotently instead.
        with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass
    return provisioned()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the analysis quality reports (written by the labelled-calls tests, possibly in a worker)."""
    reports = {
        "call analysis: precision / recall on the labelled calls": "analysis-quality.txt",
        "call analysis on the corpus (issue 17): dev and sealed test splits": "analysis-corpus.txt",
    }
    for title, name in reports.items():
        report = REPO / "tests" / "bench" / "results" / name
        if report.exists() and report.stat().st_mtime >= _IMPORTED_AT:
            terminalreporter.section(title)
            terminalreporter.write(report.read_text(encoding="utf-8"))
