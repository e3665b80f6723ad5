"""Keyword search reads about one page of call records however many calls said the word, and says
when a read limit left its answer unsure.

Calls are ingested by the real ingest handler on the emulator; their keyword-index entries are
written through ``SearchIndex.replace_call`` — the storage call the analyze service makes — so that
40 calls need no 40 transcripts. DynamoDB requests are counted at PynamoDB's connection
(``requests``, ``tests/integration/conftest.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from callsight.analysis.index_terms import TermEntry
from callsight.api import search
from callsight.auth.access import Owner
from callsight.auth.tokens import Role
from callsight.storage.call_repository import CallUpdates
from callsight.storage.search_index import SearchIndex
from chalice.test import Client

from tests.audio_factory import pcm_wav
from tests.integration.conftest import DynamoDBRequests, Stack
from tests.integration.test_api import api_module, bearer, get

DELIVERY = "ru#доставк"
TV = "ru#телевизор"


@pytest.fixture
def client(env: Stack) -> Iterator[Client]:
    with Client(api_module().app) as test_client:
        yield test_client


def forty_calls(env: Stack) -> list[Any]:
    """40 calls a minute apart (newest last); agent 301 took the three oldest, 302 the rest; every
    call said «доставка», every other one also «телевизор». Every tenth call's entries (9, 19, 29,
    39: agent 302) carry no owner, as entries written before owners were recorded."""
    index = SearchIndex(env.settings)
    calls = []
    for i in range(40):
        agent = "301" if i < 3 else "302"
        call = env.ingest(
            f"in-{agent}-+7903123{i:04d}-20261120-{10 + i // 60:02d}{i % 60:02d}00-{i}.1.wav",
            pcm_wav(seconds=1),
        )
        terms = {DELIVERY: TermEntry({"customer"}, [1.0 + i], 1)}
        if i % 2 == 0:
            terms[TV] = TermEntry({"agent"}, [2.0], 1)
        owner = None if i % 10 == 9 else Owner.of(call)
        index.replace_call(call.call_id, call.started_at, terms, owner)
        calls.append(call)
    return calls


def ids(body: dict[str, Any]) -> list[str]:
    return [hit["call"]["call_id"] for hit in body["items"]]


def test_one_word_reads_one_batch_of_calls_newest_first(
    env: Stack, client: Client, requests: DynamoDBRequests
) -> None:
    calls = forty_calls(env)
    admin = bearer(env, Role.ADMIN)
    requests.clear()
    status, body = get(client, "/search?q=доставка&limit=10", admin)
    assert status == 200 and body["complete"] is True
    assert ids(body) == [c.call_id for c in reversed(calls[-10:])]
    assert body["items"][0]["terms"] == {"доставка": [40.0]}
    # One BatchGetItem for the page, no GetItem per call (40 before), index pages per language.
    assert requests.of("BatchGetItem") == 1 and requests.of("GetItem") == 0
    assert requests.of("Query") <= 3  # ru entries, en entries, the audit log's chain head


def test_two_words_intersect_and_an_agent_finds_its_old_calls(
    env: Stack, client: Client, requests: DynamoDBRequests
) -> None:
    calls = forty_calls(env)
    status, body = get(client, "/search?q=доставка%20телевизор&limit=5", bearer(env, Role.ADMIN))
    assert status == 200 and ids(body) == [c.call_id for c in reversed(calls[::2])][:5]
    assert set(body["items"][0]["terms"]) == {"доставка", "телевизор"}
    requests.clear()
    agent = bearer(env, Role.AGENT, agent_id="301")
    status, body = get(client, "/search?q=доставка", agent)
    assert status == 200 and ids(body) == [c.call_id for c in reversed(calls[:3])] and body["complete"]
    # Entries name their owner: 33 of agent 302's calls are skipped unread; the 4 whose entries do
    # not say are read with the agent's 3, in one batch, and dropped on the record.
    assert requests.of("BatchGetItem") == 1 and requests.of("GetItem") == 0


def test_read_limits_are_reported_not_hidden(
    env: Stack, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = forty_calls(env)
    agent = bearer(env, Role.AGENT, agent_id="301")
    monkeypatch.setattr(search, "MAX_CALLS_EXAMINED", 3)  # the 3 newest ownerless entries (agent 302)
    status, body = get(client, "/search?q=доставка", agent)
    assert status == 200 and ids(body) == [] and body["complete"] is False
    monkeypatch.setattr(search, "MAX_CALLS_EXAMINED", 1000)
    monkeypatch.setattr(search, "MAX_ENTRIES_PER_TERM", 20)
    admin = bearer(env, Role.ADMIN)
    # The newest 20 entries of each word cover the newest 10 calls that said both: sure.
    status, body = get(client, "/search?q=доставка%20телевизор&limit=10", admin)
    assert ids(body) == [c.call_id for c in reversed(calls[::2])][:10] and body["complete"] is True
    # Asking for more than the entries read can vouch for: what was found, and complete false.
    status, body = get(client, "/search?q=доставка%20телевизор&limit=25", admin)
    assert ids(body) == [c.call_id for c in reversed(calls[::2])][:10] and body["complete"] is False
    status, body = get(client, "/search?q=доставка&limit=25", admin)
    assert len(ids(body)) == 20 and body["complete"] is False


def test_a_call_deleted_under_its_entries_is_skipped(env: Stack, client: Client) -> None:
    calls = forty_calls(env)
    CallUpdates(env.settings).delete(calls[-1].call_id)
    status, body = get(client, "/search?q=доставка&limit=3", bearer(env, Role.ADMIN))
    assert status == 200 and ids(body) == [c.call_id for c in reversed(calls[-4:-1])]
