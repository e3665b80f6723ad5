"""Outgoing signals: domain events on the EventBridge bus, alerts on the SNS topic, hourly counters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from callsight import resources
from callsight.config import Settings
from callsight.storage import aws
from callsight.storage.tables import CounterItem, bind_tables

#: Counters outlive their hour by a day (TTL), then DynamoDB removes them.
COUNTER_TTL_S = 25 * 3600


class EventPublisher:
    def __init__(self, settings: Settings) -> None:
        self._events: Any = aws.client("events", settings)
        self.bus = settings.name(resources.EVENT_BUS)

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        response = self._events.put_events(
            Entries=[
                {
                    "Source": resources.EVENT_SOURCE, "DetailType": detail_type,
                    "Detail": json.dumps(detail, default=str), "EventBusName": self.bus,
                }
            ]
        )  # fmt: skip
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused {detail_type}: {response['Entries']}")


class AlertPublisher:
    def __init__(self, settings: Settings) -> None:
        self._sns: Any = aws.client("sns", settings)
        self._settings = settings
        self._arn: str | None = settings.alerts_topic_arn

    @property
    def topic_arn(self) -> str:
        if self._arn is None:  # create_topic is idempotent and returns the ARN of an existing topic
            self._arn = str(
                self._sns.create_topic(Name=resources.ALERTS_TOPIC.physical(self._settings))["TopicArn"]
            )
        return self._arn

    def publish(self, subject: str, message: dict[str, Any], severity: str) -> str:
        response = self._sns.publish(
            TopicArn=self.topic_arn,
            Subject=subject[:100],
            Message=json.dumps(message, default=str),
            MessageAttributes={"severity": {"DataType": "String", "StringValue": severity}},
        )
        return str(response["MessageId"])


class HourlyCounter:
    """Atomic per-hour counters (``ADD``), e.g. calls tagged ``delivery_problem`` this hour."""

    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)

    def increment(self, name: str, at: datetime | None = None) -> int:
        hour = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H")
        item = CounterItem(f"{name}#{hour}")
        item.update(
            actions=[
                CounterItem.value.add(1),
                CounterItem.ttl.set(datetime.now(UTC) + timedelta(seconds=COUNTER_TTL_S)),
            ]
        )
        return int(item.value)
