"""``GET /stats`` over the dashboard's 30 days: past days from the daily rollup (one ``meta`` item
each, the cells inline), today live, and the same answer as computing every day from its calls, for
each role's scope.

Calls are ingested and analysed by the real services on the emulator; the rollup is the real
``StatsRollup`` (its ``now`` moved an hour on so the ingest's change markers count as settled).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from callsight.auth.tokens import Role
from callsight.storage.tables import DailyStatsItem
from callsight.sweeps.stats_rollup import StatsRollup
from chalice.test import Client

from tests.conftest import utc_today_clear_of_midnight
from tests.integration.conftest import DynamoDBRequests, Stack
from tests.integration.test_api import analysed_call, api_module, bearer, get

TODAY = datetime.now(UTC).date()
SINCE = TODAY - timedelta(days=30)
PERIOD = f"/stats?since={SINCE}&until={TODAY}"


@pytest.fixture(autouse=True)
def _today() -> None:
    """The period ends on the day each test starts (a run can cross midnight UTC after import)."""
    global TODAY, SINCE, PERIOD
    TODAY = utc_today_clear_of_midnight()
    SINCE = TODAY - timedelta(days=30)
    PERIOD = f"/stats?since={SINCE}&until={TODAY}"


ROLES = {
    "admin": {"role": Role.ADMIN},
    "qa sales": {"role": Role.QA, "teams": ["sales-ru"]},
    "qa support": {"role": Role.QA, "teams": ["support-ru"]},
    "qa elsewhere": {"role": Role.QA, "teams": ["support-en"]},
    "agent 204": {"role": Role.AGENT, "agent_id": "204"},
    "agent 205": {"role": Role.AGENT, "agent_id": "205"},
}


@pytest.fixture
def client(env: Stack) -> Iterator[Client]:
    with Client(api_module().app) as test_client:
        yield test_client


def name(agent: str, day: date, n: int) -> str:
    return f"in-{agent}-+7903123456{n}-{day:%Y%m%d}-0000{n:02d}-{n}.1.wav"


def month_of_calls(env: Stack) -> list[Any]:
    """Calls on the period's first day, two days in its middle, yesterday and today (two teams, three
    agents); the start times are the first seconds of the day, so today's are never in the future."""
    made = [
        ("204", SINCE, "Телевизор слишком дорого, перезвоните мне.", "sales-ru"),
        ("205", TODAY - timedelta(days=12), "Беру его, оформляйте заказ.", "support-ru"),
        ("204", TODAY - timedelta(days=12), "Доставку задержали, я недоволен.", "sales-ru"),
        ("206", TODAY - timedelta(days=1), "Где мой заказ? Доставка опять задерживается.", "support-ru"),
        ("205", TODAY, "Спасибо, всё понятно, оформляйте.", "support-ru"),
        ("204", TODAY, "Это ужасно, я очень недоволен.", "sales-ru"),
    ]  # fmt: skip
    return [
        analysed_call(env, name(agent, day, n), text, Metadata={"team": team})
        for n, (agent, day, text, team) in enumerate(made, start=1)
    ]


def every_role(env: Stack, client: Client) -> dict[str, Any]:
    answers = {}
    for role, claims in ROLES.items():
        status, body = get(client, PERIOD, bearer(env, **claims))
        assert status == 200, body
        answers[role] = body
    return answers


def test_a_month_reads_past_days_from_the_rollup_and_today_live(
    env: Stack, client: Client, requests: DynamoDBRequests
) -> None:
    month_of_calls(env)
    live = every_role(env, client)  # nothing rolled up yet: every day computed from its calls
    assert live["admin"]["calls"] == 6 and live["admin"]["calls_per_day"][str(TODAY)] == 2
    assert live["qa sales"]["calls"] == 3 and live["qa support"]["calls"] == 3
    assert live["qa elsewhere"]["calls"] == 0 and live["qa elsewhere"]["agents"] == []
    assert live["agent 205"]["calls"] == 2 and {a["agent_id"] for a in live["agent 205"]["agents"]} == {"205"}
    assert live["agent 204"]["calls"] == 3

    past = [SINCE + timedelta(days=n) for n in range((TODAY - SINCE).days)]
    report = StatsRollup(env.settings).run(now=datetime.now(UTC) + timedelta(hours=1), days=past)
    assert len(report.rolled_up) == 30 and report.calls == 4 and report.waiting == []
    requests.clear()
    assert every_role(env, client) == live  # the same numbers, every role's scope kept
    # Per request: one markers Query, one BatchGetItem of the 30 past days' meta items (cells
    # inline), and today's calls through the by-day index: no past call is read.
    per_request = {k: v / len(ROLES) for k, v in requests.items() if "audit" not in k}
    assert per_request == {"daily-stats Query": 1, "daily-stats BatchGetItem": 1, "calls Query": 1}, requests
    [entry] = [e for e in api_module().calls.audit.for_target("calls") if e.action == "stats.read"][-1:]
    assert entry.details["rolled_up_days"] == 30


def test_a_day_rolled_up_before_inline_cells_is_read_from_its_cell_items(
    env: Stack, client: Client, requests: DynamoDBRequests
) -> None:
    month_of_calls(env)
    live = every_role(env, client)
    past = [SINCE + timedelta(days=n) for n in range((TODAY - SINCE).days)]
    StatsRollup(env.settings).run(now=datetime.now(UTC) + timedelta(hours=1), days=past)
    middle = (TODAY - timedelta(days=12)).isoformat()
    meta = DailyStatsItem.get(middle, "meta")
    assert meta.data is not None and meta.data.startswith("[")
    meta.update(actions=[DailyStatsItem.data.remove()])  # as the rollup wrote it before this change
    requests.clear()
    assert every_role(env, client) == live
    # That day costs one Query more (its generation's cell items); the others come in the batch.
    assert requests["daily-stats Query"] / len(ROLES) == 1 + 1, requests
    assert requests["daily-stats BatchGetItem"] / len(ROLES) == 1, requests
