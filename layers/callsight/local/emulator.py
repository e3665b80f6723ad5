"""The embedded AWS emulator: moto's server in a thread of this process (no Docker needed).

It serves S3 (with ObjectCreated → SQS notifications), SQS (visibility timeout, redrive to DLQ),
DynamoDB, SNS, EventBridge and KMS on one localhost port. Point clients at :attr:`endpoint`.
``python -m callsight.local.emulator --port 4567`` serves the same in the foreground (the DynamoDB
beside a Docker-less LocalStack, see ``infrastructure/localstack/``).

An external emulator shared by several processes (LocalStack, see ``infrastructure/localstack/``)
cannot be reset as a whole; :func:`callsight.storage.provisioning.forget_prefix` empties one
deployment prefix on it instead.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from types import FrameType, TracebackType
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server


class AtomicDynamoDB:
    """WSGI middleware serving one DynamoDB request at a time (other services stay concurrent).

    moto checks a write's condition and applies the write in separate steps without a lock, so two
    concurrent conditional writes can both succeed; DynamoDB makes each one atomic, and Callsight's
    claims, version checks and audit chain rely on that. Measured without this (moto 5.2.5): two
    winners of one ``version = :v`` update in 1 round of 150 (6 threads, standalone server), and
    the concurrent retention sweeps test failing 4 to 7 times in 40 under two xdist workers; with
    it, 0 in 40."""

    def __init__(self, app: WSGIApplication) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith("DynamoDB_"):
            return self._app(environ, start_response)
        with self._lock:
            return list(self._app(environ, start_response))


#: The truth about local state (printed by ``callsight local up``; README "The local stack").
MEMORY_ONLY = (
    "The embedded emulator keeps everything in this process's memory: stopping `callsight local up` "
    "loses every recording, call, transcript and the audit log (moto has no persistence; nothing is "
    "written to disk), and a restarted stack starts empty - reconcile then has nothing to compare."
)
#: Where ``local up`` also keeps audit anchors (relative to the working directory): files outlive
#: the emulator, so ``callsight audit verify`` reports the audit chains a restart lost.
LOCAL_ANCHOR_DIR = Path(".callsight") / "audit-anchors"


class EmbeddedEmulator:
    """Start/stop/reset an in-process moto server. ``port=0`` picks a free port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._endpoint: str | None = None

    @property
    def endpoint(self) -> str:
        if self._endpoint is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return self._endpoint

    def start(self) -> str:
        app = AtomicDynamoDB(DomainDispatcherApplication(create_backend_app))
        # Bound (and queueing connections) on return: the endpoint is usable at once.
        self._server = make_server(
            self._host, self._port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-server", daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self._endpoint = f"http://{host!s}:{port}"
        return self._endpoint

    def reset(self) -> None:
        """Forget every resource and object (between tests)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - our own localhost server
            pass

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join()
            self._server = self._thread = self._endpoint = None

    def __enter__(self) -> EmbeddedEmulator:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve the emulator in the foreground until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m callsight.local.emulator", description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000, help="0: a free port (printed)")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request

    def stop(signum: int, frame: FrameType | None) -> None:
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    with EmbeddedEmulator(args.host, args.port) as emulator:
        print(f"emulator at {emulator.endpoint}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
