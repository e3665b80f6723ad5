"""Bringing up a local stack, one way for everyone: ``callsight local up|demo``,
``infrastructure/invoke_local.py`` and the test fixtures.

An endpoint (the embedded emulator started here, one started in another shell, or LocalStack) is set
as ``CALLSIGHT_AWS_ENDPOINT`` with the emulators' conventional dummy credentials; settings and cached
clients are rebuilt from the environment; every resource of :mod:`callsight.resources` is provisioned.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator

from callsight.config import Settings, get_settings, reset_settings
from callsight.local.emulator import EmbeddedEmulator
from callsight.storage.provisioning import provision, reset_clients


def quiet_telemetry(verbose: bool = False) -> None:
    """Powertools outside Lambda: no X-Ray daemon; unless ``verbose``, warnings only and no metrics."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Callsight")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulator's request log
    if not verbose:
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        warnings.filterwarnings("ignore", message="No application metrics to publish")


def use_endpoint(endpoint: str) -> None:
    """Point every client at ``endpoint`` (dummy credentials unless some are configured)."""
    os.environ["CALLSIGHT_AWS_ENDPOINT"] = endpoint
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")


def fresh_settings() -> Settings:
    """Settings and cached clients rebuilt from the current environment."""
    reset_settings()
    reset_clients()
    return get_settings()


def provisioned() -> Settings:
    """Fresh settings, with every resource created on their endpoint (idempotent)."""
    settings = fresh_settings()
    provision(settings)
    return settings


def start_emulator(port: int | None = None) -> EmbeddedEmulator:
    """The embedded emulator, started and set as the endpoint (the caller stops it)."""
    emulator = EmbeddedEmulator(port=port or 0)
    use_endpoint(emulator.start())
    return emulator


@contextlib.contextmanager
def local_stack(endpoint: str | None = None, port: int | None = None) -> Iterator[Settings]:
    """A provisioned stack on ``endpoint``, or on an embedded emulator started (and stopped) here."""
    if endpoint:
        use_endpoint(endpoint)
        yield provisioned()
        return
    emulator = start_emulator(port)
    try:
        yield provisioned()
    finally:
        emulator.stop()
