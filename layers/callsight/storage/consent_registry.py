"""The consent table: the consent registry / stop list, one item per subject by keyed phone hash.

Owns reading and writing :class:`~callsight.storage.tables.ConsentItem`; holds no rule (what a
state means for ingest and erasure is :mod:`callsight.sweeps.consent`). Never sees a raw
number: callers pass keyed hashes and the masked form. Expired entries read as absent (DynamoDB TTL
removes them later; the emulators never do).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pynamodb.exceptions import DeleteError

from callsight.config import Settings
from callsight.models.consent import ConsentEntry, ConsentState
from callsight.storage.tables import ConsentItem, bind_tables, condition_failed, get_or_none

#: Items a listing request reads at most (a state filter may leave a page short: follow the cursor).
MAX_EXAMINED = 1000
#: DynamoDB deletes an expired entry this long after ``expires_at`` (reads filter on it before).
TTL_GRACE_S = 7 * 24 * 3600


class ConsentRegistry:
    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)

    def get(
        self, phone_hash: str | None, *, consistent: bool = False, include_expired: bool = False
    ) -> ConsentEntry | None:
        if not phone_hash:
            return None
        item = get_or_none(ConsentItem, phone_hash, consistent_read=consistent)
        if item is None:
            return None
        entry = _entry(item)
        return None if entry.expired() and not include_expired else entry

    def find(self, *phone_hashes: str | None) -> ConsentEntry | None:
        """The live entry of the first of ``phone_hashes`` that has one (a call's likeliest reading,
        then its second one), else None."""
        for phone_hash in dict.fromkeys(h for h in phone_hashes if h):
            entry = self.get(phone_hash)
            if entry is not None:
                return entry
        return None

    def put(self, entry: ConsentEntry) -> None:
        """Create or replace (a repeated add updates state, source, time and who)."""
        expires = int(entry.expires_at.timestamp()) if entry.expires_at else None
        ConsentItem(
            entry.phone_hash,
            state=entry.state.value,
            source=entry.source,
            set_at=entry.set_at,
            set_by=entry.set_by,
            phone_masked=entry.phone_masked,
            other_hashes=list(entry.other_hashes),
            expires_at=expires,
            ttl=datetime.fromtimestamp(expires + TTL_GRACE_S, UTC) if expires else None,
        ).save()

    def delete(self, phone_hash: str) -> bool:
        """Remove the entry; False when there was none."""
        try:
            ConsentItem(phone_hash).delete(condition=ConsentItem.phone_hash.exists())
            return True
        except DeleteError as exc:
            if condition_failed(exc):
                return False
            raise

    def page(
        self, limit: int, after: str | None = None, state: ConsentState | None = None
    ) -> tuple[list[ConsentEntry], str | None]:
        """Up to ``limit`` live entries (table order) after the hash ``after``; the hash to continue
        after, or None at the end. Reads at most :data:`MAX_EXAMINED` items per call."""
        start = {"phone_hash": {"S": after}} if after else None
        condition = (ConsentItem.state == state.value) if state is not None else None
        entries: list[ConsentEntry] = []
        last: str | None = None
        now = time.time()
        scan = ConsentItem.scan(
            filter_condition=condition, last_evaluated_key=start, page_size=min(MAX_EXAMINED, limit + 1)
        )
        for examined, item in enumerate(scan):
            if len(entries) >= limit or examined >= MAX_EXAMINED:
                return entries, last  # there is more: continue after the last one read
            last = item.phone_hash
            entry = _entry(item)
            if not entry.expired(now):
                entries.append(entry)
        return entries, None


def _entry(item: ConsentItem) -> ConsentEntry:
    return ConsentEntry(
        phone_hash=item.phone_hash,
        state=ConsentState(item.state),
        source=item.source,
        set_at=item.set_at,
        set_by=item.set_by,
        phone_masked=item.phone_masked,
        other_hashes=list(item.other_hashes or []),
        expires_at=datetime.fromtimestamp(item.expires_at, UTC) if item.expires_at is not None else None,
    )
