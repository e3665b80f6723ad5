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
        self._events = aws.client("events", settings)
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


class SnsTopic:
    """One SNS topic: its ARN (configured, or looked up by name on first use) and JSON messages with a
    ``severity`` attribute subscribers can filter on."""

    def __init__(self, settings: Settings, topic: resources.TopicSpec, arn: str | None) -> None:
        self._sns = aws.client("sns", settings)
        self._name = topic.physical(settings)
        self._arn = arn

    @property
    def arn(self) -> str:
        if self._arn is None:  # create_topic is idempotent and returns the ARN of an existing topic
            self._arn = str(self._sns.create_topic(Name=self._name)["TopicArn"])
        return self._arn

    def publish(self, subject: str, message: dict[str, Any], severity: str) -> str:
        """Publish ``message`` as JSON; ``subject`` must already be what SNS accepts. Returns the message id."""
        response = self._sns.publish(
            TopicArn=self.arn,
            Subject=subject,
            Message=json.dumps(message, default=str),
            MessageAttributes={"severity": {"DataType": "String", "StringValue": severity}},
        )
        return str(response["MessageId"])


class AlertPublisher:
    """The alerts topic (per-call alert rules, the weekly report's announcement)."""

    def __init__(self, settings: Settings) -> None:
        self.topic = SnsTopic(settings, resources.ALERTS_TOPIC, settings.alerts_topic_arn)

    @property
    def topic_arn(self) -> str:
        return self.topic.arn

    def publish(self, subject: str, message: dict[str, Any], severity: str) -> str:
        return self.topic.publish(subject[:100], message, severity)


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
