"""The embedded AWS emulator: moto's server in a thread of this process (no Docker needed).

It serves S3 (with ObjectCreated → SQS notifications), SQS (visibility timeout, redrive to DLQ),
DynamoDB, SNS, EventBridge and KMS on one localhost port. Point clients at :attr:`endpoint`.

An external emulator shared by several processes (LocalStack, see ``infrastructure/localstack/``)
cannot be reset as a whole; :func:`forget_prefix` empties one deployment prefix on it instead.
"""

from __future__ import annotations

import urllib.request
from types import TracebackType
from typing import Any

from moto.server import ThreadedMotoServer

from callsight.config import Settings
from callsight.storage import aws


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


def forget_prefix(settings: Settings) -> None:
    """Delete every bucket (all versions), queue, topic, event bus (and its rules) and table named
    ``<settings.prefix>-*`` — what :func:`callsight.local.provision.provision` creates, plus what
    tests add under the prefix. Emulators only: refuses to run without ``CALLSIGHT_AWS_ENDPOINT``."""
    if not settings.aws_endpoint:
        raise RuntimeError("forget_prefix deletes resources: it runs against an emulator endpoint only")
    mine = settings.name("")
    _forget_queues(aws.client("sqs", settings), mine)
    _forget_buckets(aws.client("s3", settings), mine)
    sns: Any = aws.client("sns", settings)
    for page in sns.get_paginator("list_topics").paginate():
        for topic in page["Topics"]:
            if topic["TopicArn"].rsplit(":", 1)[-1].startswith(mine):
                sns.delete_topic(TopicArn=topic["TopicArn"])
    _forget_event_buses(aws.client("events", settings), mine)
    dynamodb: Any = aws.client("dynamodb", settings)
    for page in dynamodb.get_paginator("list_tables").paginate():
        for table in page["TableNames"]:
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
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            versions = page.get("Versions", []) + page.get("DeleteMarkers", [])
            if versions:
                objects = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions]
                s3.delete_objects(Bucket=name, Delete={"Objects": objects, "Quiet": True})
        s3.delete_bucket(Bucket=name)


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
