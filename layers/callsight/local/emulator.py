"""The embedded AWS emulator: moto's server in a thread of this process (no Docker needed).

It serves S3 (with ObjectCreated → SQS notifications), SQS (visibility timeout, redrive to DLQ),
DynamoDB, SNS, EventBridge and KMS on one localhost port. Point clients at :attr:`endpoint`.
"""

from __future__ import annotations

import urllib.request
from types import TracebackType

from moto.server import ThreadedMotoServer


class EmbeddedEmulator:
    """Start/stop/reset an in-process moto server. ``port=0`` picks a free port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self._endpoint: str | None = None

    @property
    def endpoint(self) -> str:
        if self._endpoint is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return self._endpoint

    def start(self) -> str:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self._endpoint = f"http://{host}:{port}"
        return self._endpoint

    def reset(self) -> None:
        """Forget every resource and object (between tests)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - our own localhost server
            pass

    def stop(self) -> None:
        if self._endpoint is not None:
            self._server.stop()
            self._endpoint = None

    def __enter__(self) -> EmbeddedEmulator:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
