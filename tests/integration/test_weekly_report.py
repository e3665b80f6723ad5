"""The weekly report on the emulator: one builder behind the API route (JSON and CSV, role-scoped,
audited) and the scheduled function (JSON + CSV in the reports bucket, announced on SNS)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from callsight.auth.tokens import Role
from callsight.local.runner import LambdaContext, load_handler
from callsight.storage.audit_log import AuditLog
from chalice.test import Client

from tests.conftest import REPO
from tests.integration.conftest import Stack
from tests.integration.test_analyze_pipeline import listen, received
from tests.integration.test_api import analysed_call, bearer, client, get

__all__ = ["client"]  # the fixture, imported so pytest finds it here

WEEK = "2026-W47"  # Monday 2026-11-16 .. Sunday 2026-11-22


def week_of_calls(env: Stack) -> None:
    analysed_call(
        env, "in-204-+79031234561-20261116-113001-1.1.wav", "Когда привезут мой заказ? Доставку задержали."
    )
    analysed_call(env, "in-204-+79031234562-20261118-123002-2.1.wav", "Когда привезут заказ? Я недоволен.")
    analysed_call(env, "in-205-+79031234563-20261120-113003-3.1.wav", "Беру его, оформляйте заказ.")
    analysed_call(env, "in-205-+79031234564-20261122-093004-4.1.wav", "Сколько стоит доставка до дома?")
    analysed_call(
        env, "in-206-+79031234565-20261123-093005-5.1.wav", "Когда привезут мой заказ?"
    )  # next week


def test_the_weekly_report_route_answers_json_and_csv_for_admin_and_qa(env: Stack, client: Client) -> None:
    week_of_calls(env)
    status, report = get(client, f"/reports/weekly?week={WEEK}", bearer(env, Role.ADMIN))
    assert status == 200, report
    assert (report["since"], report["until"], report["calls"], report["scope"]) == (
        "2026-11-16",
        "2026-11-22",
        4,
        "all",
    )
    assert report["top_questions"][0] == {
        "question": "когда привезут мой заказ?",
        "calls": 2,
        "languages": ["ru"],
    }
    assert len(report["top_questions"]) == 2  # «сколько стоит доставка до дома?» is the other
    assert report["agent_ranking"][0]["agent_id"] == "205"  # converted a sale
    assert [a["rank"] for a in report["agent_ranking"]] == [1, 2]
    assert set(report["sentiment_trend"]) == {"2026-11-16", "2026-11-18", "2026-11-20", "2026-11-22"}
    assert report["top_reasons"] and report["outcomes"]

    response = client.http.get(f"/reports/weekly?week={WEEK}&format=csv", headers=bearer(env, Role.ADMIN))
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.body.decode())))
    assert {r["section"] for r in rows} >= {"summary", "reason", "question", "agent", "sentiment"}
    assert next(r for r in rows if r["section"] == "summary" and r["name"] == "calls")["value"] == "4"
    assert [r["name"] for r in rows if r["section"] == "agent"] == ["205", "204"]

    qa = get(client, f"/reports/weekly?week={WEEK}", bearer(env, Role.QA, teams=["support-en"]))[1]
    assert qa["calls"] == 0 and qa["scope"] == "teams/queues: support-en"  # no call of theirs leaks
    audit = AuditLog(env.settings).for_target(f"report:weekly/{WEEK}")
    assert {(e.actor, e.action, e.details["format"]) for e in audit} >= {
        ("admin-user", "report.weekly.export", "json"), ("admin-user", "report.weekly.export", "csv")
    }  # fmt: skip


def test_the_weekly_report_route_refuses_other_roles_and_bad_weeks(env: Stack, client: Client) -> None:
    for role, extra in ((Role.AGENT, {"agent_id": "204"}), (Role.CRM, {})):
        status, body = get(client, f"/reports/weekly?week={WEEK}", bearer(env, role, **extra))
        assert status == 403 and body["error"] == "forbidden"
    admin = bearer(env, Role.ADMIN)
    for query, message in (
        ("week=2026-47", "week"),
        ("week=2026-W54", "not a week of that year"),
        ("format=xlsx", "format"),
        ("week=2026-W47&x=1", "x"),
    ):
        status, body = get(client, f"/reports/weekly?{query}", admin)
        assert status == 400 and message in body["message"], (query, body)
    assert get(client, f"/reports/weekly?week={WEEK}")[0] == 401


def test_the_scheduled_function_writes_json_and_csv_and_announces_them(env: Stack) -> None:
    week_of_calls(env)
    taps = listen(env)
    event = json.loads((REPO / "events" / "schedules" / "eventbridge_scheduled.json").read_text())
    handler = load_handler("weekly_report")
    assert handler is not None
    run: dict[str, Any] = handler(
        event | {"week": WEEK}, LambdaContext(function_name="weekly_report", timeout_s=900)
    )
    assert (run["week"], run["calls"], run["analysed"]) == (WEEK, 4, 4)
    s3 = env.s3
    stored = json.loads(s3.get_object(Bucket=run["bucket"], Key=run["json_key"])["Body"].read())
    assert stored["calls"] == 4 and stored["top_questions"][0]["calls"] == 2
    table = s3.get_object(Bucket=run["bucket"], Key=run["csv_key"])["Body"].read().decode()
    assert table.startswith("section,rank,name,calls,share,value") and "когда привезут мой заказ?" in table
    [announcement] = [m for m in received(env, taps["alerts-tap"]) if m.get("kind") == "weekly_report"]
    assert announcement["json_key"] == run["json_key"] and "top_questions" not in announcement
    [entry] = AuditLog(env.settings).for_target(f"report:weekly/{WEEK}")
    assert (entry.actor, entry.action) == ("weekly-report", "report.weekly.generate")
