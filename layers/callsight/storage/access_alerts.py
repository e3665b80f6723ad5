"""What the access-anomaly check keeps and sends: alerts already sent (one per principal, rule and
window: a conditional write in the counters table, expiring by TTL), each closed day's per-principal
read profile (policies table, kind ``access_profile``: later runs need not read that day's audit log
again) and the access-alerts SNS topic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError

from callsight import resources
from callsight.config import Settings
from callsight.storage.notifications import SnsTopic
from callsight.storage.tables import CounterItem, PolicyItem, bind_tables, condition_failed, get_or_none

#: An alert key is remembered this long: re-checking a window older than this would alert again.
SENT_TTL = timedelta(days=120)
PROFILE = "access_profile"


class SentAlerts:
    """One alert per key, however many runs check its window (conditional put in the counters table)."""

    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)

    def claim(self, key: str, now: datetime | None = None) -> bool:
        """True when this run is the first to claim ``key`` (it then sends the alert); False when the
        alert was sent already."""
        item = CounterItem(f"access-alert#{key}", value=1, ttl=(now or datetime.now(UTC)) + SENT_TTL)
        try:
            item.save(condition=CounterItem.counter_id.does_not_exist())
            return True
        except PutError as exc:
            if condition_failed(exc):
                return False
            raise

    def release(self, key: str) -> None:
        """Forget a claim whose alert could not be published (the next run sends it)."""
        item = get_or_none(CounterItem, f"access-alert#{key}")
        if item is not None:
            item.delete()


class AccessProfiles:
    """Per closed UTC day: calls read or exported per principal per window (``{actor: {bucket: n}}``)."""

    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)

    def get(self, day: date, window_minutes: int) -> dict[str, dict[int, int]] | None:
        """The stored profile of ``day`` for this window length, or None (not stored, other length)."""
        item = get_or_none(PolicyItem, PROFILE, day.isoformat())
        if item is None:
            return None
        document = item.document.as_dict()
        if document.get("window_minutes") != window_minutes:
            return None
        actors: dict[str, dict[str, Any]] = document.get("actors", {})
        return {actor: {int(b): int(n) for b, n in buckets.items()} for actor, buckets in actors.items()}

    def put(self, day: date, window_minutes: int, profile: dict[str, dict[int, int]]) -> None:
        item = PolicyItem(PROFILE, day.isoformat())
        item.document = {
            "window_minutes": window_minutes,
            "actors": {actor: {str(b): n for b, n in buckets.items()} for actor, buckets in profile.items()},
        }
        item.updated_at = datetime.now(UTC)
        item.updated_by = "access-anomaly"
        item.save()


class AccessAlertPublisher:
    """The access-alerts topic (security staff subscribe to it; kept apart from call alerts)."""

    def __init__(self, settings: Settings) -> None:
        self.topic = SnsTopic(settings, resources.ACCESS_ALERTS_TOPIC, settings.access_alerts_topic_arn)

    @property
    def topic_arn(self) -> str:
        return self.topic.arn

    def publish(self, subject: str, message: dict[str, Any]) -> str:
        return self.topic.publish(_subject(subject), message, "warning")


def _subject(text: str) -> str:
    """SNS subjects are printable ASCII without line breaks, at most 100 characters."""
    printable = "".join(c if " " <= c <= "~" else "?" for c in text)
    return printable[:100]
