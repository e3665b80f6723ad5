"""The embedded AWS emulator: moto's server in a thread of this process (no Docker needed).

It serves S3 (with ObjectCreated → SQS notifications), SQS (visibility timeout, redrive to DLQ),
DynamoDB, SNS, EventBridge and KMS on one localhost port. Point clients at :attr:`endpoint`.
``python -m callsight.local.emulator --port 4567`` serves the same in the foreground (the DynamoDB
beside a Docker-less LocalStack, see ``infrastructure/localstack/``).

An external emulator shared by several processes (LocalStack, see ``infrastructure/localstack/``)
cannot be reset as a whole; :func:`forget_prefix` empties one deployment prefix on it instead.
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
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from callsight.config import Settings
from callsight.storage import aws


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


def forget_prefix(settings: Settings) -> None:
    """Delete every bucket (all versions), queue, topic, event bus (and its rules) and table named
    ``<settings.prefix>-*`` — what :func:`callsight.local.provision.provision` creates, plus what
    tests add under the prefix. Emulators only: refuses to run without ``CALLSIGHT_AWS_ENDPOINT``."""
    if not settings.aws_endpoint:
        raise RuntimeError("forget_prefix deletes resources: it runs against an emulator endpoint only")
    mine = settings.name("")
    _forget_queues(aws.client("sqs", settings), mine)
    _forget_buckets(aws.client("s3", settings), mine)
    sns = aws.client("sns", settings)
    for page in sns.get_paginator("list_topics").paginate():
        for topic in page["Topics"]:
            if topic["TopicArn"].rsplit(":", 1)[-1].startswith(mine):
                sns.delete_topic(TopicArn=topic["TopicArn"])
    _forget_event_buses(aws.client("events", settings), mine)
    dynamodb = aws.client("dynamodb", settings)
    for tables in dynamodb.get_paginator("list_tables").paginate():
        for table in tables["TableNames"]:
            if table.startswith(mine):
                dynamodb.delete_table(TableName=table)


def _forget_queues(sqs: Any, prefix: str) -> None:
    for page in sqs.get_paginator("list_queues").paginate(QueueNamePrefix=prefix):
        for url in page.get("QueueUrls", []):
            sqs.delete_queue(QueueUrl=url)


def _forget_buckets(s3: Any, prefix: str) -> None:
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        if not name.startswith(prefix):
            continue
        # S3 (AWS and LocalStack alike) refuses the bypass header on a bucket without Object Lock.
        bypass = {"BypassGovernanceRetention": True} if _object_lock_enabled(s3, name) else {}
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            versions = page.get("Versions", []) + page.get("DeleteMarkers", [])
            if versions:
                objects = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions]
                s3.delete_objects(Bucket=name, Delete={"Objects": objects, "Quiet": True}, **bypass)
        s3.delete_bucket(Bucket=name)


def _object_lock_enabled(s3: Any, bucket: str) -> bool:
    try:
        configuration = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    except s3.exceptions.ClientError:  # ObjectLockConfigurationNotFoundError: a bucket without Object Lock
        return False
    return bool(configuration.get("ObjectLockEnabled") == "Enabled")


def _forget_event_buses(events: Any, prefix: str) -> None:
    for bus in events.list_event_buses(NamePrefix=prefix).get("EventBuses", []):
        for rule in events.list_rules(EventBusName=bus["Name"]).get("Rules", []):
            targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus["Name"])["Targets"]
            if targets:
                events.remove_targets(
                    Rule=rule["Name"], EventBusName=bus["Name"], Ids=[t["Id"] for t in targets]
                )
            events.delete_rule(Name=rule["Name"], EventBusName=bus["Name"])
        events.delete_event_bus(Name=bus["Name"])


if __name__ == "__main__":
    main()
