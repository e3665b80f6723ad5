"""The stage queues named in :mod:`callsight.resources` and their DLQs: sending pipeline messages,
reading depths, and peeking at messages without consuming them (the reconciler)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from callsight.config import Settings
from callsight.resources import QueueSpec
from callsight.storage import aws

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef


class StageQueue:
    """One SQS queue of the pipeline; the URL is looked up once."""

    def __init__(self, spec: QueueSpec, settings: Settings, *, dead_letters: bool = False) -> None:
        self._sqs = aws.client("sqs", settings)
        self._name = spec.dlq_physical(settings) if dead_letters else spec.physical(settings)
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = str(self._sqs.get_queue_url(QueueName=self._name)["QueueUrl"])
        return self._url

    def send(self, message: BaseModel, *, correlation_id: str | None = None) -> str:
        attributes: dict[str, MessageAttributeValueTypeDef] = (
            {"call_id": {"DataType": "String", "StringValue": correlation_id}} if correlation_id else {}
        )
        response = self._sqs.send_message(
            QueueUrl=self.url, MessageBody=message.model_dump_json(), MessageAttributes=attributes
        )
        return str(response["MessageId"])

    def send_body(self, body: str) -> str:
        """Send a message body as is (e.g. an S3 notification the reconciler re-announces)."""
        return str(self._sqs.send_message(QueueUrl=self.url, MessageBody=body)["MessageId"])

    def depth(self) -> tuple[int, int]:
        """Approximate (visible, in flight) message counts."""
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attributes.get("ApproximateNumberOfMessages", 0)),
            int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        )

    def receive(self, max_messages: int, visibility_s: int) -> list[dict[str, Any]]:
        """One batch of up to ``max_messages`` (at most 10), with attributes, hidden ``visibility_s``
        (no wait: an empty queue answers at once). The local runner's event-source mapping."""
        batch = self._sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=min(max_messages, 10),
            VisibilityTimeout=visibility_s,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        return [{**message} for message in batch]

    def delete(self, receipt_handles: list[str]) -> None:
        """Delete received messages by receipt handle (one batch request: at most 10)."""
        self._sqs.delete_message_batch(
            QueueUrl=self.url,
            Entries=[{"Id": str(i), "ReceiptHandle": handle} for i, handle in enumerate(receipt_handles)],
        )

    def peek(self, wanted: int, visibility_s: int) -> list[dict[str, Any]]:
        """Up to ``wanted`` distinct messages (with attributes), made visible again at once: none is
        deleted. Each stays hidden ``visibility_s`` at most if this process dies meanwhile."""
        seen: dict[str, dict[str, Any]] = {}
        handles: list[str] = []
        try:
            empty = 0
            while len(seen) < wanted and empty < 2:
                batch = self._sqs.receive_message(
                    QueueUrl=self.url,
                    MaxNumberOfMessages=min(10, wanted - len(seen)),
                    VisibilityTimeout=visibility_s,
                    WaitTimeSeconds=0 if empty == 0 else 1,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
                empty = 0 if batch else empty + 1
                for message in batch:
                    seen.setdefault(message["MessageId"], {**message})
                    handles.append(message["ReceiptHandle"])
        finally:
            self._release(handles)
        return list(seen.values())

    def _release(self, handles: list[str]) -> None:
        for start in range(0, len(handles), 10):
            self._sqs.change_message_visibility_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for i, handle in enumerate(handles[start : start + 10])
                ],
            )
