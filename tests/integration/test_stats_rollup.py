"""The daily statistics rollup on the emulator: rolled-up statistics equal the live ones for every
role, cost a few reads per day however many calls, and a day changed after its rollup is read live
until the next run rolls it up again.

Calls are ingested and analysed by the real handlers' services (``analysed_call``); the rollup is
the real ``StatsRollup`` and ``GET /stats`` the real route. The rollup's ``now`` is moved an hour on
where a test needs a change to have settled (no waiting 15 minutes in a test).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from callsight.auth.tokens import Role
from callsight.storage.call_repository import CallUpdates
from callsight.storage.daily_stats import DailyStatsStore
from callsight.sweeps.stats_rollup import StatsRollup
from chalice.test import Client

from tests.integration.conftest import DynamoDBRequests, Stack
from tests.integration.test_api import analysed_call, api_module, bearer, get

DAYS = [date(2026, 11, 20), date(2026, 11, 21)]
PERIOD = "/stats?since=2026-11-19&until=2026-11-21"


@pytest.fixture
def client(env: Stack) -> Iterator[Client]:
    with Client(api_module().app) as test_client:
        yield test_client


def some_calls(env: Stack) -> list[Any]:
    """Five analysed calls over two days, two agents, two teams (metadata as the PBX sends it)."""
    made = [
        ("in-204-+79031234561-20261120-113001-1.1.wav", "Телевизор слишком дорого, перезвоните мне.", "sales-ru"),
        ("in-204-+79031234562-20261120-123002-2.1.wav", "Доставку задержали, я недоволен.", "sales-ru"),
        ("in-205-+79031234563-20261120-133003-3.1.wav", "Беру его, оформляйте заказ.", "support-ru"),
        ("in-205-+79031234564-20261121-113004-4.1.wav", "Спасибо, всё понятно, оформляйте.", "support-ru"),
        ("in-206-+79031234565-20261121-123005-5.1.wav", "Где мой заказ? Доставка опять задерживается.", "support-ru"),
    ]  # fmt: skip
    return [analysed_call(env, name, text, Metadata={"team": team}) for name, text, team in made]


def later(hours: float = 1) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


def all_views(env: Stack, client: Client) -> dict[str, Any]:
    views = {
        "admin": bearer(env, Role.ADMIN),
        "agent 205": bearer(env, Role.AGENT, agent_id="205"),
        "qa sales": bearer(env, Role.QA, teams=["sales-ru"]),
        "qa support": bearer(env, Role.QA, teams=["support-ru"]),
    }
    answers = {}
    for name, headers in views.items():
        status, body = get(client, PERIOD, headers)
        assert status == 200, body
        answers[name] = body
    return answers


def test_rolled_up_statistics_equal_the_live_ones_for_every_role(
    env: Stack, client: Client, requests: DynamoDBRequests
) -> None:
    some_calls(env)
    live = all_views(env, client)
    assert live["admin"]["calls"] == 5 and live["agent 205"]["calls"] == 2 and live["qa sales"]["calls"] == 2
    now = later()
    report = StatsRollup(env.settings).run(now=now)  # as scheduled: the marked days and yesterday
    yesterday = now.date() - timedelta(days=1)
    assert report.rolled_up == sorted({*DAYS, yesterday}) and report.calls == 5 and report.waiting == []
    assert report.cells == 4  # 20th: (204, sales), (205, support); 21st: (205, support), (206, support)
    requests.clear()
    assert all_views(env, client) == live
    # Four requests of three days: per request one markers Query, one BatchGetItem of the closed days'
    # meta items, the 19th (never rolled up: it had no calls, so no meta) read live through by-day;
    # no call is read.
    per_request = {k: v / 4 for k, v in requests.items() if "audit" not in k}
    assert per_request == {
        "daily-stats Query": 1,
        "daily-stats BatchGetItem": 1,
        "calls Query": 1,  # the 19th, live
    }, requests
    [entry, *_] = [e for e in api_module().calls.audit.for_target("calls") if e.action == "stats.read"][-1:]
    assert entry.details["rolled_up_days"] == 2


def test_a_changed_day_is_read_live_until_rolled_up_again(env: Stack, client: Client) -> None:
    calls = some_calls(env)
    rollup = StatsRollup(env.settings)
    rollup.run(now=later())
    CallUpdates(env.settings).delete(calls[0].call_id)  # e.g. erased
    store = DailyStatsStore(env.settings)
    assert set(store.markers(DAYS[0], DAYS[1])) == {DAYS[0]}
    admin = bearer(env, Role.ADMIN)
    assert get(client, PERIOD, admin)[1]["calls"] == 4  # the 20th, live: the deletion shows at once
    # A marker younger than the settle time is kept (the day stays live) until a run finds it settled.
    assert rollup.run(now=datetime.now(UTC)).waiting == [DAYS[0]]
    assert set(store.markers(DAYS[0], DAYS[1])) == {DAYS[0]}
    report = rollup.run(now=later())
    assert (
        report.rolled_up == [DAYS[0]] and report.changed_again == [] and store.markers(DAYS[0], DAYS[1]) == {}
    )
    rolled = get(client, PERIOD, admin)[1]
    assert rolled["calls"] == 4 and rolled["calls_per_day"] == {"2026-11-20": 2, "2026-11-21": 2}
    assert rollup.run(now=later()).rolled_up == []  # nothing due any more


def test_a_day_that_changes_while_it_is_rolled_up_stays_marked(
    env: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = some_calls(env)
    rollup = StatsRollup(env.settings)
    original = rollup.store.write_day

    def write_then_change(day: date, cells: Any, count: int) -> str:
        generation = original(day, cells, count)
        CallUpdates(env.settings).delete(calls[0].call_id)  # lands between the read and the clear
        return generation

    monkeypatch.setattr(rollup.store, "write_day", write_then_change)
    report = rollup.run(now=later(), days=[DAYS[0]])
    assert report.rolled_up == [DAYS[0]] and report.changed_again == [DAYS[0]]
    assert set(rollup.store.markers(DAYS[0], DAYS[0])) == {DAYS[0]}


def test_a_day_is_never_rolled_up_before_it_ends(env: Stack) -> None:
    today = datetime.now(UTC).date()
    report = StatsRollup(env.settings).run(days=[today, today + timedelta(days=1)])
    assert report.refused == [today, today + timedelta(days=1)] and report.rolled_up == []


def test_rollup_generations_replace_each_other(env: Stack) -> None:
    some_calls(env)
    rollup = StatsRollup(env.settings)
    first = rollup.run(now=later(), days=[DAYS[0]])
    again = rollup.run(now=later(), days=[DAYS[0]])
    assert first.cells == again.cells == 2
    stored = rollup.store.read_day(DAYS[0])
    assert stored is not None and stored.calls == 3 and len(stored.cells) == 2
    from callsight.storage.tables import DailyStatsItem

    items = [i.item_key for i in DailyStatsItem.query(DAYS[0].isoformat())]
    assert len(items) == 3 and all(k == "meta" or k.startswith(f"cell#{stored.generation}#") for k in items)


def test_the_command_backfills_a_range(env: Stack) -> None:
    from callsight.cli import app
    from typer.testing import CliRunner

    some_calls(env)
    result = CliRunner().invoke(app, ["stats", "rollup", "--since", "2026-11-19", "--until", "2026-11-21"])
    assert result.exit_code == 0, result.output
    assert "rolled up 3 day(s): 5 call(s) into 4 cell(s)" in result.output
    assert (
        "still read live (changed < 15 min ago; the next run confirms): 2026-11-20, 2026-11-21"
        in result.output
    )
    stored = DailyStatsStore(env.settings).read_day(DAYS[1])
    assert stored is not None and stored.calls == 2
    bad = CliRunner().invoke(app, ["stats", "rollup", "--since", "2026-11-21", "--until", "2026-11-19"])
    assert bad.exit_code != 0 and "--until is before --since" in bad.output
