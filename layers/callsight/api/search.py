"""Keyword search over the index: candidates newest first, calls fetched in batches until a page is full.

Index entries live in ``<lang>#<stem>`` partitions sorted by ``<started_at>#<call_id>``, so every
word's candidates come newest first. One word: its partitions (one per language) are merged and
read page by page only as far as the answer needs. Several words: each word's entries are read (up
to ``MAX_ENTRIES_PER_TERM`` per language) and intersected. The candidates' call records are then
read with BatchGetItem, newest first, in batches that grow while the caller sees few of them, until
``limit`` visible calls are found or ``MAX_CALLS_EXAMINED`` records have been read. Each entry
carries its call's owner (agent, team, queue), so an agent's or a QA's search skips other people's
calls without reading them; the record read still decides (an entry is never trusted to grant).

So a search reads about ``limit`` call records whatever the size of the index (the benchmark's
common word: 584 DynamoDB requests per search before, one GetItem per call that said it). Where a
read limit stops the search before it is sure it has the newest matching calls, the answer says so
(``complete`` false) rather than silently leaving older calls out.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from callsight.auth.access import Owner, can_see_call
from callsight.auth.tokens import Principal
from callsight.models.call import CallRecord
from callsight.storage.call_repository import CallRepository
from callsight.storage.search_index import SearchIndex, owner_of

#: Index entries read per word and language (newest calls first).
MAX_ENTRIES_PER_TERM = 2000
#: Call records read per search at most (a caller who sees few of the matching calls gets a short,
#: incomplete page rather than a search that reads the whole index).
MAX_CALLS_EXAMINED = 1000
#: Index entries per Query page when reading lazily.
ENTRY_PAGE = 100
#: BatchGetItem takes at most 100 keys.
MAX_BATCH = 100


@dataclass(frozen=True)
class Candidate:
    """A call that said every word: its index sort key (newest first), each word's offsets, and its
    owner as the index entry recorded it (None for entries written before owners were)."""

    ref: str
    call_id: str
    terms: dict[str, list[float]]
    owner: Owner | None = None


@dataclass
class SearchOutcome:
    hits: list[tuple[CallRecord, dict[str, list[float]]]]
    complete: bool
    examined: int


@dataclass
class Cutoff:
    """The newest entry after which some partition stopped at its read limit: candidates older than
    this may be missing (a call there might have said the word in an entry that was not read)."""

    ref: str | None = None

    def cut(self, ref: str) -> None:
        self.ref = ref if self.ref is None else max(self.ref, ref)

    def uncertain(self, ref: str) -> bool:
        return self.ref is not None and ref < self.ref


@dataclass
class _Stream:
    """One partition's entries (optionally only those said by ``speaker``), newest first."""

    index: SearchIndex
    term_key: str
    word: str
    speaker: str | None
    cutoff: Cutoff
    page_size: int = ENTRY_PAGE
    read: int = field(default=0, init=False)

    def __iter__(self) -> Iterator[Candidate]:
        last: str | None = None
        for entry in self.index.entries(self.term_key, limit=MAX_ENTRIES_PER_TERM, page_size=self.page_size):
            self.read += 1
            last = entry.entry_ref
            if self.speaker is None or self.speaker in (entry.speakers or set()):
                offsets = [float(o) for o in entry.offsets or []]  # type: ignore[arg-type]
                yield Candidate(entry.entry_ref, entry.call_id, {self.word: offsets}, owner_of(entry))
        if self.read >= MAX_ENTRIES_PER_TERM and last is not None:
            self.cutoff.cut(last)


def candidates(
    index: SearchIndex,
    term_keys: list[tuple[str, list[str]]],
    speaker: str | None,
    cutoff: Cutoff,
    principal: Principal,
) -> Iterator[Candidate]:
    """Calls that said every word, newest first, leaving out those whose entry names an owner the
    caller may not see (their records are never read). ``term_keys``: (word, its key per language)."""
    for cand in _matching(index, term_keys, speaker, cutoff):
        if cand.owner is None or cand.owner.visible_to(principal):
            yield cand


def _matching(
    index: SearchIndex, term_keys: list[tuple[str, list[str]]], speaker: str | None, cutoff: Cutoff
) -> Iterator[Candidate]:
    if len(term_keys) == 1:
        word, keys = term_keys[0]
        streams = [_Stream(index, key, word, speaker, cutoff) for key in keys]
        yield from _dedupe(heapq.merge(*streams, key=lambda c: c.ref, reverse=True))
        return
    per_word: list[dict[str, Candidate]] = []
    for word, keys in term_keys:
        found: dict[str, Candidate] = {}
        for key in keys:
            for cand in _Stream(index, key, word, speaker, cutoff, page_size=MAX_ENTRIES_PER_TERM):
                found.setdefault(cand.call_id, cand)
        per_word.append(found)
    common = set.intersection(*(set(found) for found in per_word))
    merged = [
        Candidate(
            max(found[cid].ref for found in per_word),
            cid,
            {word: offsets for found in per_word for word, offsets in found[cid].terms.items()},
            next((found[cid].owner for found in per_word if found[cid].owner is not None), None),
        )
        for cid in common
    ]
    yield from sorted(merged, key=lambda c: c.ref, reverse=True)


def _dedupe(stream: Iterable[Candidate]) -> Iterator[Candidate]:
    seen: set[str] = set()
    for cand in stream:
        if cand.call_id not in seen:
            seen.add(cand.call_id)
            yield cand


def visible_hits(
    calls: CallRepository, principal: Principal, found: Iterator[Candidate], limit: int, cutoff: Cutoff
) -> SearchOutcome:
    """The newest ``limit`` candidates the caller may see, read in growing batches."""
    hits: list[tuple[CallRecord, dict[str, list[float]]]] = []
    examined = 0
    complete = True
    batch_size = min(MAX_BATCH, limit)
    while len(hits) < limit:
        batch = _take(found, min(batch_size, MAX_CALLS_EXAMINED - examined))
        if not batch:
            break
        records = calls.get_many([c.call_id for c in batch])
        examined += len(batch)
        for cand in batch:
            if len(hits) >= limit:
                break
            if cutoff.uncertain(cand.ref):
                complete = False
            record = records.get(cand.call_id)
            if record is not None and can_see_call(principal, record):
                hits.append((record, cand.terms))
        if examined >= MAX_CALLS_EXAMINED and len(hits) < limit:
            complete = next(found, None) is None and complete
            break
        batch_size = min(MAX_BATCH, batch_size * 2)
    if len(hits) < limit and cutoff.ref is not None:
        complete = False  # every candidate used, but a partition was cut: older matches may exist
    return SearchOutcome(hits=hits, complete=complete, examined=examined)


def _take(stream: Iterator[Candidate], n: int) -> list[Candidate]:
    batch: list[Candidate] = []
    for cand in stream:
        batch.append(cand)
        if len(batch) >= n:
            break
    return batch
