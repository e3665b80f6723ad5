"""The weekly report from the daily statistics rollup on the emulator: equal to the report over the
week's calls read live, for an admin and a QA user, whatever mix of days is rolled up, changed since
(marked), today or not rolled up; a day rolled up by an older rollup (cells without the report's
sums) is read live.

Calls are ingested and analysed by the real handlers' services (``analysed_call``); the rollup is the
real ``StatsRollup``, the report the real ``GET /reports/weekly`` route, the scheduled function's
``WeeklyReports`` and ``weekly_report_for`` (with ``now`` moved into the week for "today").
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from callsight.auth.tokens import Principal, Role
from callsight.stats.cells import CELL_VERSION
from callsight.storage.audit_log import AuditLog
from callsight.storage.call_repository import CallRepository, CallUpdates
from callsight.storage.daily_stats import DailyStatsStore
from callsight.sweeps.deletion import Actor
from callsight.sweeps.stats_rollup import StatsRollup
from callsight.sweeps.weekly_reports import WeeklyReports, read_weekly_report, weekly_report_for
from chalice.test import Client

from tests.integration.conftest import Stack
from tests.integration.test_api import analysed_call, bearer, client, get

__all__ = ["client"]  # the fixture, imported so pytest finds it here

WEEK = "2026-W47"  # Monday 2026-11-16 .. Sunday 2026-11-22
MON, TUE, WED, FRI, SUN = (date(2026, 11, d) for d in (16, 17, 18, 20, 22))
ROLLED = [MON, TUE, WED, FRI]  # the 22nd is never rolled up


def week_of_calls(env: Stack) -> list[Any]:
    """Seven analysed calls over five days, three agents, two teams, with customer questions (some
    asked alike in other words, some twice in one call) and one call of the next week."""
    made = [
        ("in-204-+79031234561-20261116-113001-1.1.wav", "Когда привезут мой заказ? Доставку задержали.", "sales-ru"),
        ("in-205-+79031234562-20261116-123002-2.1.wav", "Сколько стоит доставка до дома? Беру, оформляйте.", "support-ru"),
        ("in-204-+79031234563-20261117-113003-3.1.wav", "Когда привезут заказ? Я недоволен.", "sales-ru"),
        ("in-206-+79031234564-20261118-093004-4.1.wav", "Телевизор слишком дорого, перезвоните мне.", "support-ru"),
        ("in-205-+79031234565-20261120-113005-5.1.wav", "Когда привезут мой заказ? Когда привезут заказ?", "support-ru"),
        ("in-204-+79031234566-20261122-093006-6.1.wav", "Сколько стоит доставка до дома?", "sales-ru"),
        ("in-206-+79031234567-20261123-093007-7.1.wav", "Когда привезут мой заказ?", "support-ru"),
    ]  # fmt: skip
    return [analysed_call(env, name, text, Metadata={"team": team}) for name, text, team in made]


def later(hours: float = 1) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


VIEWS: dict[str, dict[str, Any]] = {
    "admin": {"role": Role.ADMIN},
    "qa sales": {"role": Role.QA, "teams": ["sales-ru"]},
}


def reports(env: Stack, client: Client) -> dict[str, Any]:
    """The route's answer for each view, without its time of generation."""
    answers = {}
    for name, claims in VIEWS.items():
        extra = {k: v for k, v in claims.items() if k != "role"}
        status, body = get(client, f"/reports/weekly?week={WEEK}", bearer(env, claims["role"], **extra))
        assert status == 200, body
        body.pop("generated_at")
        answers[name] = body
    return answers


def rolled_up_days(env: Stack, actor: str) -> int:
    entries = [e for e in AuditLog(env.settings).for_target(f"report:weekly/{WEEK}") if e.actor == actor]
    return int(entries[-1].details["rolled_up_days"])


def test_the_report_from_the_rollup_equals_the_live_one_for_admin_and_qa(env: Stack, client: Client) -> None:
    calls = week_of_calls(env)
    live = reports(env, client)
    assert live["admin"]["calls"] == 6 and live["qa sales"]["calls"] == 3
    assert live["admin"]["top_questions"][0] == {
        "question": "когда привезут мой заказ?", "calls": 3, "languages": ["ru"]
    }  # fmt: skip
    assert rolled_up_days(env, "admin-user") == 0

    # Given four days rolled up (the 22nd is not), the report reads them from their cells.
    rollup = StatsRollup(env.settings)
    assert rollup.run(now=later(), days=ROLLED).rolled_up == ROLLED
    assert reports(env, client) == live
    assert rolled_up_days(env, "admin-user") == rolled_up_days(env, "qa-user") == 4

    # When a rolled-up day changes (a call erased), that day is read live until rolled up again.
    CallUpdates(env.settings).delete(calls[2].call_id)  # the 17th
    assert set(DailyStatsStore(env.settings).markers(MON, SUN)) == {
        TUE,
        SUN,
    }  # the 22nd: since its calls came
    changed = reports(env, client)
    assert changed["admin"]["calls"] == 5 and changed["qa sales"]["calls"] == 2
    assert rolled_up_days(env, "admin-user") == 3
    repository, store = CallRepository(env.settings), DailyStatsStore(env.settings)
    for name, claims in VIEWS.items():
        principal = Principal(subject="x", role=claims["role"], teams=claims.get("teams", []))
        all_live = weekly_report_for(repository, principal, WEEK).model_dump(
            mode="json", exclude={"generated_at"}
        )
        assert changed[name] == {**all_live, "scope": changed[name]["scope"]}
    # Then rolled up again: every closed day but the 22nd from the rollup, the same answers.
    rollup.run(now=later(), days=[TUE])
    assert reports(env, client) == changed and rolled_up_days(env, "admin-user") == 4

    # "Today" in the week (the 20th) is read live although it has cells; later days too.
    for claims in VIEWS.values():
        principal = Principal(subject="x", role=claims["role"], teams=claims.get("teams", []))
        mid_week, rolled = read_weekly_report(repository, principal, WEEK, store, now=FRI)
        assert rolled == 3  # the 16th to the 18th
        live_mid = weekly_report_for(repository, principal, WEEK, now=FRI)
        assert mid_week.model_dump(exclude={"generated_at"}) == live_mid.model_dump(exclude={"generated_at"})


def test_the_scheduled_report_reads_the_rollup_too(env: Stack) -> None:
    week_of_calls(env)
    live = weekly_report_for(CallRepository(env.settings), WeeklyReports.SYSTEM, WEEK)
    StatsRollup(env.settings).run(now=later(), days=ROLLED)
    run = WeeklyReports(env.settings).run(Actor(actor="scheduler", role="system"), WEEK, announce=False)
    stored = json.loads(env.s3.get_object(Bucket=run.bucket, Key=run.json_key)["Body"].read())
    stored.pop("generated_at")
    assert stored == live.model_dump(mode="json", exclude={"generated_at"})
    [entry] = AuditLog(env.settings).for_target(f"report:weekly/{WEEK}")
    assert entry.details["rolled_up_days"] == 4


def strip_to_version_1(day: date) -> None:
    """Rewrite a rolled-up day's stored cells as a rollup before cell version 2 wrote them."""
    from callsight.storage.tables import DailyStatsItem

    new = {"version", "summarised", "purposes", "summarised_tags", "questions", "wordings", "first_worded"}

    def old(cell: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in cell.items() if k not in new}

    for item in DailyStatsItem.query(day.isoformat()):
        if item.data is None:
            continue
        decoded = json.loads(item.data)
        item.data = json.dumps([old(c) for c in decoded] if isinstance(decoded, list) else old(decoded))
        item.save()


def test_a_day_rolled_up_by_an_older_rollup_is_read_live_by_the_report_only(
    env: Stack, client: Client
) -> None:
    week_of_calls(env)
    live = reports(env, client)
    live_stats = get(client, "/stats?since=2026-11-16&until=2026-11-22", bearer(env, Role.ADMIN))[1]
    StatsRollup(env.settings).run(now=later(), days=ROLLED)
    strip_to_version_1(MON)
    stored = DailyStatsStore(env.settings).read_day(MON)
    assert stored is not None and stored.cells and {c.version for c in stored.cells} == {1}
    assert stored.cells[0].questions == {}  # what an old cell lacks: the report must not use it
    assert reports(env, client) == live
    assert rolled_up_days(env, "admin-user") == 3  # the 16th live
    # GET /stats still reads the old cells (they hold all it needs).
    assert get(client, "/stats?since=2026-11-16&until=2026-11-22", bearer(env, Role.ADMIN))[1] == live_stats
    [entry, *_] = [e for e in AuditLog(env.settings).for_target("calls") if e.action == "stats.read"][-1:]
    assert entry.details["rolled_up_days"] == 4


def test_the_first_run_of_a_day_rolls_up_again_the_recent_days_of_an_older_rollup(env: Stack) -> None:
    week_of_calls(env)
    rollup = StatsRollup(env.settings)
    rollup.run(now=later(), days=ROLLED)
    strip_to_version_1(MON)
    strip_to_version_1(WED)
    # The first run on the 23rd rolls up yesterday (the 22nd) and checks the 13 days before it.
    report = rollup.run(now=datetime(2026, 11, 23, 0, 30, tzinfo=UTC))
    assert report.outdated == [MON, WED] and set(report.rolled_up) == {MON, WED, SUN}
    for day in (MON, WED):
        stored = DailyStatsStore(env.settings).read_day(day)
        assert stored is not None and {c.version for c in stored.cells} == {CELL_VERSION}
    # Later runs that day find yesterday rolled up and check nothing more.
    assert rollup.run(now=datetime(2026, 11, 23, 1, 30, tzinfo=UTC)).outdated == []
