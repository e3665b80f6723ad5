"""Sending pipeline messages to the stage queues named in :mod:`callsight.resources`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from callsight.config import Settings
from callsight.resources import QueueSpec
from callsight.storage import aws


class StageQueue:
    """One SQS queue of the pipeline; the URL is looked up once."""

    def __init__(self, spec: QueueSpec, settings: Settings) -> None:
        self._sqs: Any = aws.client("sqs", settings)
        self._name = spec.physical(settings)
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = str(self._sqs.get_queue_url(QueueName=self._name)["QueueUrl"])
        return self._url

    def send(self, message: BaseModel, *, correlation_id: str | None = None) -> str:
        attributes = (
            {"call_id": {"DataType": "String", "StringValue": correlation_id}} if correlation_id else {}
        )
        response = self._sqs.send_message(
            QueueUrl=self.url, MessageBody=message.model_dump_json(), MessageAttributes=attributes
        )
        return str(response["MessageId"])
