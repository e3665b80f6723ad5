"""``GET /calls`` through the ``by-day`` index: newest start first, day by day between the call-day
bounds the daily-stats table keeps, through the real API on the emulator.

Calls are ingested by the real ingest handler (the file name gives agent and start time; PBX
metadata the team), so the bounds are the ones the repository's creates widened. Nothing is mocked.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from callsight.auth.tokens import Role
from callsight.storage.daily_stats import CALL_DAYS, backfill_call_days, call_day_bounds
from callsight.storage.tables import DailyStatsItem
from chalice.test import Client

from tests.audio_factory import pcm_wav
from tests.integration.conftest import DynamoDBRequests, Stack
from tests.integration.test_api import api_module, bearer, get

#: name → (agent, team, start "YYYYMMDD-HHMMSS"); day 2026-11-21 has no call, 2026-09-01 is far back.
CALLS = {
    "old": ("207", "sales-ru", "20260901-100000"),
    "c1": ("204", "sales-ru", "20261118-100000"),
    "c2": ("205", "support-ru", "20261120-090000"),
    "c3": ("204", "sales-ru", "20261120-150000"),
    "c4": ("206", "support-ru", "20261122-080000"),
    "c5": ("204", "support-ru", "20261122-120000"),
}


@pytest.fixture
def client(env: Stack) -> Iterator[Client]:
    with Client(api_module().app) as test_client:
        yield test_client


def ingest_all(env: Stack, names: tuple[str, ...] = tuple(CALLS)) -> dict[str, str]:
    """Ingest the named calls (in this order, so ``by-update`` order is creation order); their ids."""
    ids: dict[str, str] = {}
    for n, name in enumerate(names):
        agent, team, start = CALLS[name]
        file = f"in-{agent}-+7903123456{n}-{start}-{n}.1.wav"
        ids[name] = env.ingest(file, pcm_wav(seconds=1), Metadata={"team": team}).call_id
    return ids


def listing(client: Client, path: str, headers: dict[str, str]) -> dict[str, Any]:
    status, page = get(client, path, headers)
    assert status == 200, page
    return page


def ids_of(client: Client, path: str, headers: dict[str, str]) -> list[str]:
    return [item["call_id"] for item in listing(client, path, headers)["items"]]


def every_page(client: Client, path: str, headers: dict[str, str]) -> list[list[str]]:
    """The listing's pages, following cursors to the end."""
    pages: list[list[str]] = []
    cursor = ""
    for _ in range(20):
        sep = "&" if "?" in path else "?"
        page = listing(client, path + (f"{sep}cursor={cursor}" if cursor else ""), headers)
        pages.append([item["call_id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if not cursor:
            return pages
    raise AssertionError("the listing never ended")


def test_calls_are_listed_newest_start_first_across_days(
    env: Stack, client: Client, requests: DynamoDBRequests
) -> None:
    ids = ingest_all(env)
    bounds = call_day_bounds()
    assert bounds is not None and (bounds.earliest, bounds.latest) == ("2026-09-01", "2026-11-22")
    admin = bearer(env, Role.ADMIN)
    newest_first = [ids[k] for k in ("c5", "c4", "c3", "c2", "c1")]

    requests.clear()
    page = listing(client, "/calls", admin)
    # 31 days back from the last call day (2026-11-22) at most: the call of 2026-09-01 is on a later page.
    assert [i["call_id"] for i in page["items"]] == newest_first and page["next_cursor"]
    assert requests["daily-stats Query"] == 1  # the bounds
    assert requests["calls Query"] == 31  # one per day, empty days included
    # The next request reads the 31 days before (none of them has a call: an empty page and a cursor),
    # the one after reaches 2026-09-01, the first call day: its call, and no cursor.
    assert every_page(client, "/calls", admin) == [newest_first, [], [ids["old"]]]

    # Small pages: no gap, no repeat, in order, across days and the empty ones.
    pages = every_page(client, "/calls?limit=2", admin)
    assert [call for p in pages for call in p] == [*newest_first, ids["old"]]
    assert all(len(p) <= 2 for p in pages)
    pages = every_page(client, "/calls?limit=1", admin)
    assert [call for p in pages for call in p] == [*newest_first, ids["old"]]


def test_each_role_lists_its_own_calls_by_day(env: Stack, client: Client) -> None:
    ids = ingest_all(env, ("c1", "c2", "c3", "c4", "c5"))
    agent = bearer(env, Role.AGENT, agent_id="204")
    assert ids_of(client, "/calls", agent) == [ids[k] for k in ("c5", "c3", "c1")]
    # An agent's filter for another agent never widens their scope: their calls of that agent, none.
    assert ids_of(client, "/calls?agent=205", agent) == []
    sales = bearer(env, Role.QA, teams=["sales-ru"])
    assert ids_of(client, "/calls", sales) == [ids[k] for k in ("c3", "c1")]
    support = bearer(env, Role.QA, teams=["support-ru"])
    assert [c for p in every_page(client, "/calls?limit=1", support) for c in p] == [
        ids[k] for k in ("c5", "c4", "c2")
    ]
    assert ids_of(client, "/calls?team=support-ru", sales) == []
    admin = bearer(env, Role.ADMIN)
    assert ids_of(client, "/calls", admin) == [ids[k] for k in ("c5", "c4", "c3", "c2", "c1")]
    assert ids_of(client, "/calls?team=sales-ru", admin) == [ids[k] for k in ("c3", "c1")]
    assert ids_of(client, "/calls?agent=204", admin) == [ids[k] for k in ("c5", "c3", "c1")]


def test_a_date_range_reads_only_its_days(env: Stack, client: Client, requests: DynamoDBRequests) -> None:
    ids = ingest_all(env, ("c1", "c2", "c3", "c4", "c5"))
    admin = bearer(env, Role.ADMIN)
    requests.clear()
    assert ids_of(client, "/calls?since=2026-11-20T00:00:00Z&until=2026-11-22T00:00:00Z", admin) == [
        ids["c3"],
        ids["c2"],
    ]
    assert requests["calls Query"] == 3  # 2026-11-22 (until's day), 21, 20: never the days outside
    assert ids_of(client, "/calls?since=2026-11-20T12:00:00Z", admin) == [ids[k] for k in ("c5", "c4", "c3")]
    assert ids_of(client, "/calls?until=2026-11-20T12:00:00Z", admin) == [ids["c2"], ids["c1"]]
    assert ids_of(client, "/calls?since=2026-12-01T00:00:00Z", admin) == []
    sales = bearer(env, Role.QA, teams=["sales-ru"])
    assert ids_of(client, "/calls?since=2026-11-19T00:00:00Z", sales) == [ids["c3"]]


def test_a_tampered_or_foreign_cursor_is_a_400(env: Stack, client: Client) -> None:
    ingest_all(env, ("c1", "c2", "c3"))
    admin = bearer(env, Role.ADMIN)
    cursor = listing(client, "/calls?limit=1", admin)["next_cursor"]
    assert cursor
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-3] ^= 0x01  # one bit of the signed body
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    agent_cursor = listing(client, "/calls?limit=1", bearer(env, Role.AGENT, agent_id="204"))["next_cursor"]
    assert agent_cursor
    for bad in (forged, "not-a-cursor", agent_cursor):
        status, body = get(client, f"/calls?cursor={bad}", admin)
        assert status == 400 and body["error"] == "bad_request", body
    # The by-day cursor handed to another listing: a 400 too.
    status, body = get(client, f"/calls?cursor={cursor}", bearer(env, Role.AGENT, agent_id="204"))
    assert status == 400 and "another listing" in body["message"]
    status, body = get(client, f"/feed?cursor={cursor}", admin)
    assert status == 400


def test_without_bounds_the_listing_falls_back_to_newest_change_first(env: Stack, client: Client) -> None:
    from callsight.cli import app
    from callsight.storage.call_repository import CallUpdates
    from typer.testing import CliRunner

    ids = ingest_all(env, ("c1", "c2", "c3"))
    CallUpdates(env.settings).set_legal_hold(ids["c1"], True)  # c1 changed last
    admin = bearer(env, Role.ADMIN)
    assert ids_of(client, "/calls", admin) == [ids["c3"], ids["c2"], ids["c1"]]  # by start
    by_day_cursor = listing(client, "/calls?limit=1", admin)["next_cursor"]
    for item in DailyStatsItem.query(CALL_DAYS):  # an older deployment: no bounds
        item.delete()
    assert call_day_bounds() is None
    assert ids_of(client, "/calls", admin) == [ids["c1"], ids["c3"], ids["c2"]]  # by change
    assert [c for p in every_page(client, "/calls?limit=1", admin) for c in p] == [
        ids["c1"],
        ids["c3"],
        ids["c2"],
    ]
    status, _ = get(client, f"/calls?cursor={by_day_cursor}", admin)
    assert status == 400  # a by-day cursor is not a position in the by-update listing

    # A new call there does not start the bounds (its day alone would hide the older calls) ...
    ids |= ingest_all(env, ("c4",))
    assert call_day_bounds() is None
    assert ids_of(client, "/calls", admin) == [ids["c4"], ids["c1"], ids["c3"], ids["c2"]]
    # ... the backfill (`callsight stats call-days`) sets them from the stored calls: by start again.
    result = CliRunner().invoke(app, ["stats", "call-days"])
    assert result.exit_code == 0 and "call days 2026-11-18 .. 2026-11-22" in result.output, result.output
    bounds = backfill_call_days(page_size=2)  # again, in pages of two calls: the same bounds
    assert bounds is not None and (bounds.earliest, bounds.latest) == ("2026-11-18", "2026-11-22")
    assert ids_of(client, "/calls", admin) == [ids["c4"], ids["c3"], ids["c2"], ids["c1"]]


def test_a_replaced_call_moves_to_its_new_day_and_one_without_a_start_is_not_listed(
    env: Stack, client: Client
) -> None:
    ids = ingest_all(env, ("c1", "c2", "c3"))
    admin = bearer(env, Role.ADMIN)
    stored = env.calls.get(ids["c1"])
    assert stored is not None
    env.calls.replace(stored.model_copy(update={"started_at": datetime(2026, 11, 25, 9, 0, tzinfo=UTC)}))
    bounds = call_day_bounds()
    assert bounds is not None and bounds.latest == "2026-11-25"  # widened by the replace
    assert ids_of(client, "/calls", admin) == [ids["c1"], ids["c3"], ids["c2"]]
    assert ids_of(client, "/calls?until=2026-11-19T00:00:00Z", admin) == []  # gone from its old day

    stored = env.calls.get(ids["c2"])
    assert stored is not None
    env.calls.replace(stored.model_copy(update={"started_at": None}))
    assert ids_of(client, "/calls", admin) == [ids["c1"], ids["c3"]]  # no start time: no day to list it on
    status, body = get(client, f"/calls/{ids['c2']}", admin)
    assert status == 200 and body["call_id"] == ids["c2"]  # still there for the call view
    status, feed = get(client, "/feed", admin)
    assert status == 200 and ids["c2"] in [i["call_id"] for i in feed["items"]]  # and the change feed
