"""Keyword-search index items: one per (language#stem, call), with who said it and when.

A call's entries are replaced as a whole when it is (re-)analysed: the old ones are found through
the ``by-call`` index (never a scan) and deleted, then the new ones written in batches.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from datetime import datetime

from callsight.analysis.index_terms import TermEntry
from callsight.auth.access import Owner
from callsight.config import Settings
from callsight.storage.tables import SearchEntryItem, bind_tables

#: Offsets kept per term and call (enough to jump to the first mentions).
MAX_OFFSETS = 20


def entry_ref(started_at: datetime | None, call_id: str) -> str:
    return f"{started_at.isoformat() if started_at else '0000'}#{call_id}"


def entry_items(
    call_id: str, started_at: datetime | None, terms: dict[str, TermEntry], owner: Owner | None
) -> Iterator[SearchEntryItem]:
    """The index items of one call (``term_key`` → entry)."""
    ref = entry_ref(started_at, call_id)
    owned = json.dumps([owner.agent_id, owner.team, owner.queue]) if owner is not None else None
    for term_key, entry in terms.items():
        yield SearchEntryItem(
            term_key, ref, call_id=call_id, speakers=entry.speakers or None,
            offsets=[round(o, 2) for o in entry.offsets[:MAX_OFFSETS]], hits=entry.hits, owner=owned,
        )  # fmt: skip


def owner_of(entry: SearchEntryItem) -> Owner | None:
    """The call's owner as its entry recorded it (None: an entry written before owners were)."""
    if entry.owner is None:
        return None
    agent_id, team, queue = json.loads(entry.owner)
    return Owner(agent_id, team, queue)


class SearchIndex:
    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)

    def replace_call(
        self, call_id: str, started_at: datetime | None, terms: dict[str, TermEntry], owner: Owner | None
    ) -> int:
        """Drop ``call_id``'s entries and write ``terms`` (``term_key`` → entry); returns items written."""
        self.delete_call(call_id)
        with SearchEntryItem.batch_write() as batch:
            for item in entry_items(call_id, started_at, terms, owner):
                batch.save(item)
        return len(terms)

    def count_call(self, call_id: str) -> int:
        """How many entries :meth:`delete_call` would delete now."""
        return sum(1 for _ in SearchEntryItem.by_call.query(call_id))

    def delete_call(self, call_id: str) -> int:
        keys = [(e.term_key, e.entry_ref) for e in SearchEntryItem.by_call.query(call_id)]
        with SearchEntryItem.batch_write() as batch:
            for term_key, ref in keys:
                batch.delete(SearchEntryItem(term_key, ref))
        return len(keys)

    def delete_terms(self, call_id: str, term_keys: Collection[str]) -> int:
        """Drop ``call_id``'s entries of these terms (found through ``by-call``); returns items deleted."""
        if not term_keys:
            return 0
        keys = [
            (e.term_key, e.entry_ref)
            for e in SearchEntryItem.by_call.query(call_id)
            if e.term_key in term_keys
        ]
        with SearchEntryItem.batch_write() as batch:
            for term_key, ref in keys:
                batch.delete(SearchEntryItem(term_key, ref))
        return len(keys)

    def entries(self, term_key: str, limit: int, page_size: int = 100) -> Iterator[SearchEntryItem]:
        """The term's entries, newest calls first, read lazily ``page_size`` at a time (up to ``limit``)."""
        return iter(
            SearchEntryItem.query(term_key, scan_index_forward=False, limit=limit, page_size=page_size)
        )
