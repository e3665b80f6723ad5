"""Keyword search's candidate logic (``callsight.api.search``) without the emulator: the index and
the call table are in-memory stand-ins with the same reading contract (entries newest first, up to a
limit; records by id), so the ordering, intersection, owner pre-filter, read limits and the
``complete`` flag are checked exactly. The emulator-backed API tests cover the real tables."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from callsight.analysis.index_terms import TermEntry
from callsight.api import search
from callsight.api.search import Cutoff, candidates, visible_hits
from callsight.auth.access import Owner
from callsight.auth.tokens import Principal, Role
from callsight.models.call import CallRecord, CallStatus, SourceObject
from callsight.storage.search_index import entry_items
from callsight.storage.tables import SearchEntryItem

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ADMIN = Principal(subject="admin", role=Role.ADMIN)
QA_SALES = Principal(subject="qa", role=Role.QA, teams=["sales"])
AGENT_7 = Principal(subject="agent", role=Role.AGENT, agent_id="7")


class FakeIndex:
    """Entries per term key, served newest first up to ``limit`` (as the DynamoDB query is)."""

    def __init__(self) -> None:
        self.by_key: dict[str, list[SearchEntryItem]] = {}
        self.reads = 0

    def add(self, call_id: str, minute: int, words: dict[str, TermEntry], owner: Owner | None) -> None:
        for item in entry_items(call_id, T0 + timedelta(minutes=minute), words, owner):
            self.by_key.setdefault(str(item.term_key), []).append(item)

    def entries(self, term_key: str, limit: int, page_size: int = 100) -> Iterator[SearchEntryItem]:
        for entry in sorted(self.by_key.get(term_key, []), key=lambda e: str(e.entry_ref), reverse=True)[
            :limit
        ]:
            self.reads += 1
            yield entry


class FakeCalls:
    def __init__(self, records: list[CallRecord]) -> None:
        self.records = {r.call_id: r for r in records}
        self.batches: list[int] = []

    def get_many(self, call_ids: list[str]) -> dict[str, CallRecord]:
        self.batches.append(len(call_ids))
        return {cid: self.records[cid] for cid in call_ids if cid in self.records}


def record(
    call_id: str, agent: str = "7", team: str = "sales", status: CallStatus = CallStatus.ANALYZED
) -> CallRecord:
    return CallRecord(
        call_id=call_id, status=status, source=SourceObject(bucket="r", key=call_id), agent_id=agent, team=team,
        created_at=T0, updated_at=T0,
    )  # fmt: skip


def said(*offsets: float, speaker: str = "customer") -> TermEntry:
    return TermEntry(speakers={speaker}, offsets=list(offsets), hits=len(offsets))


def run(
    index: FakeIndex, calls: FakeCalls, term_keys: list[tuple[str, list[str]]], principal: Principal = ADMIN,
    speaker: str | None = None, limit: int = 10,
) -> search.SearchOutcome:  # fmt: skip
    cutoff = Cutoff()
    found = candidates(cast(Any, index), term_keys, speaker, cutoff, principal)
    return visible_hits(cast(Any, calls), principal, found, limit, cutoff)


def ids(outcome: search.SearchOutcome) -> list[str]:
    return [rec.call_id for rec, _ in outcome.hits]


def test_one_word_merges_its_languages_newest_first_without_duplicates() -> None:
    index = FakeIndex()
    index.add("a", 1, {"en#refund": said(3.0)}, Owner("7", "sales", None))
    index.add("b", 3, {"ru#refund": said(1.0)}, Owner("7", "sales", None))
    index.add("c", 2, {"en#refund": said(4.0), "ru#refund": said(9.0)}, Owner("7", "sales", None))
    calls = FakeCalls([record("a"), record("b"), record("c")])
    outcome = run(index, calls, [("refund", ["en#refund", "ru#refund"])])
    assert ids(outcome) == ["b", "c", "a"] and outcome.complete
    assert dict(outcome.hits[2][1]) == {"refund": [3.0]}


def test_several_words_keep_only_calls_that_said_all_with_each_words_offsets() -> None:
    index = FakeIndex()
    owner = Owner("7", "sales", None)
    index.add("a", 1, {"en#refund": said(3.0), "en#card": said(5.0, 7.5)}, owner)
    index.add("b", 2, {"en#refund": said(1.0)}, owner)
    index.add("c", 3, {"en#card": said(2.0)}, owner)
    outcome = run(
        index, FakeCalls([record(c) for c in "abc"]), [("refund", ["en#refund"]), ("card", ["en#card"])]
    )
    assert ids(outcome) == ["a"]
    assert outcome.hits[0][1] == {"refund": [3.0], "card": [5.0, 7.5]}


def test_a_speaker_filter_keeps_only_entries_said_by_that_speaker() -> None:
    index = FakeIndex()
    index.add("a", 1, {"en#refund": said(1.0, speaker="agent")}, Owner("7", "sales", None))
    index.add("b", 2, {"en#refund": said(2.0, speaker="customer")}, Owner("7", "sales", None))
    outcome = run(index, FakeCalls([record("a"), record("b")]), [("refund", ["en#refund"])], speaker="agent")
    assert ids(outcome) == ["a"]


def test_entries_of_calls_the_caller_may_not_see_are_never_read_as_records() -> None:
    index = FakeIndex()
    index.add("mine", 1, {"en#refund": said(1.0)}, Owner("7", "sales", None))
    index.add("theirs", 2, {"en#refund": said(1.0)}, Owner("8", "support", None))
    calls = FakeCalls([record("mine"), record("theirs", agent="8", team="support")])
    for principal in (QA_SALES, AGENT_7):
        calls.batches.clear()
        outcome = run(index, calls, [("refund", ["en#refund"])], principal=principal)
        assert ids(outcome) == ["mine"] and outcome.examined == 1


def test_the_record_decides_when_the_entry_is_stale_or_has_no_owner() -> None:
    index = FakeIndex()
    index.add("moved", 3, {"en#refund": said(1.0)}, Owner("7", "sales", None))  # the call moved team since
    index.add("old", 2, {"en#refund": said(1.0)}, None)  # written before entries carried owners
    index.add("gone", 1, {"en#refund": said(1.0)}, Owner("7", "sales", None))
    calls = FakeCalls(
        [record("moved", team="support", agent="9"), record("old"), record("gone", status=CallStatus.DELETED)]
    )
    outcome = run(index, calls, [("refund", ["en#refund"])], principal=QA_SALES)
    assert ids(outcome) == ["old"]  # an entry never grants: the record is read and checked
    assert outcome.examined == 3


def test_a_page_reads_about_limit_records_in_growing_batches() -> None:
    index = FakeIndex()
    for n in range(50):
        index.add(f"c{n:02}", n, {"en#refund": said(1.0)}, Owner("7", "sales", None))
    calls = FakeCalls([record(f"c{n:02}") for n in range(50)])
    outcome = run(index, calls, [("refund", ["en#refund"])], limit=5)
    assert ids(outcome) == ["c49", "c48", "c47", "c46", "c45"]
    assert calls.batches == [5] and outcome.examined == 5 and outcome.complete


def test_a_term_cut_at_its_read_limit_makes_older_pages_incomplete(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "MAX_ENTRIES_PER_TERM", 4)
    index = FakeIndex()
    for n in range(10):
        index.add(f"c{n}", n, {"en#refund": said(1.0)}, Owner("7", "sales", None))
    calls = FakeCalls([record(f"c{n}") for n in range(10)])
    short = run(index, calls, [("refund", ["en#refund"])], limit=2)
    assert ids(short) == ["c9", "c8"] and short.complete  # the newest two are certain
    everything = run(index, calls, [("refund", ["en#refund"])], limit=10)
    assert ids(everything) == ["c9", "c8", "c7", "c6"] and not everything.complete


def test_reading_stops_at_the_records_limit_and_says_the_answer_is_incomplete(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(search, "MAX_CALLS_EXAMINED", 6)
    index = FakeIndex()
    for n in range(20):  # the agent's own calls are the oldest: most records read are someone else's
        owner = Owner("7" if n < 2 else "8", "sales", None)
        index.add(f"c{n:02}", n, {"en#refund": said(1.0)}, None if n >= 2 else owner)
    calls = FakeCalls([record(f"c{n:02}", agent="7" if n < 2 else "8") for n in range(20)])
    outcome = run(index, calls, [("refund", ["en#refund"])], principal=AGENT_7, limit=5)
    assert ids(outcome) == [] and outcome.examined == 6 and not outcome.complete


def test_no_entries_is_a_complete_empty_answer() -> None:
    outcome = run(FakeIndex(), FakeCalls([]), [("refund", ["en#refund", "ru#refund"])])
    assert (ids(outcome), outcome.complete, outcome.examined) == ([], True, 0)
