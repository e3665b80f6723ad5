"""Input the API must answer with a 400 and a reason, never a 500 (issue 15, item 4), and what masked
roles and silent calls get back (items 12c and 12e). Chalice test client on the emulator."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from callsight.auth.tokens import Role
from chalice.test import Client

from tests.integration.conftest import Stack
from tests.integration.test_api import analysed_call, api_module, bearer, client, get

__all__ = ["client"]  # the fixture, imported for this module's tests

ROLES: list[tuple[Role, dict[str, Any]]] = [
    (Role.ADMIN, {}),
    (Role.CRM, {}),
    (Role.QA, {"teams": ["sales-ru"]}),
    (Role.AGENT, {"agent_id": "204"}),
]
ROLE_IDS = [role.value for role, _ in ROLES]


def signed_cursor(env: Stack, payload: Any) -> str:
    """A cursor signed with the test secret exactly as the API signs its own, whatever the payload."""
    key = hashlib.sha256(b"cursor:" + env.settings.auth_local_secret.get_secret_value().encode()).digest()
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    mac = hmac.new(key, body, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(mac + body).decode().rstrip("=")


@pytest.mark.parametrize(("role", "extra"), ROLES, ids=ROLE_IDS)
@pytest.mark.parametrize("since", ["2026-11-01", "2026-11-20T11:00:00", "2026-11-20T11:00"])
def test_a_date_or_naive_since_is_read_as_utc(
    env: Stack, client: Client, role: Role, extra: dict[str, Any], since: str
) -> None:
    call = analysed_call(
        env,
        "in-204-+79031234561-20261120-113001-1.1.wav",
        "Когда привезут заказ?",
        Metadata={"team": "sales-ru"},
    )
    status, body = get(client, f"/calls?since={since}", bearer(env, role, **extra))
    assert status == 200, body
    assert [i["call_id"] for i in body["items"]] == [call.call_id]
    assert get(client, "/calls?since=2026-11-21", bearer(env, role, **extra))[1]["items"] == []
    # the same instant written naive and with an offset selects the same calls (it started 11:30:01 UTC)
    headers = bearer(env, role, **extra)
    naive = get(client, "/calls?until=2026-11-20T11:31:00", headers)[1]["items"]
    aware = get(client, "/calls?until=2026-11-20T14:31:00%2B03:00", headers)[1]["items"]
    assert [i["call_id"] for i in naive] == [i["call_id"] for i in aware] == [call.call_id]
    assert get(client, "/calls?until=2026-11-20T11:31:00%2B05:00", headers)[1]["items"] == []


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/calls?since=2026-11-21&until=2026-11-20T23:00:00Z", "since is greater than until"),
        ("/calls?since=0001-01-01T00:00:00%2B01:00", "since: "),
        ("/calls?until=9999-12-31T23:59:59-01:00", "until: "),
        ("/calls?agent=204&since=0001-01-01T00:00:00%2B14:00", "since: "),
        ("/reports/weekly?week=9999-W52", "week: "),
        ("/reports/weekly?week=0000-W01", "week: "),
        ("/reports/weekly?week=2025-W53", "week: "),
    ],
)
def test_extreme_dates_and_weeks_are_400(env: Stack, client: Client, path: str, message: str) -> None:
    status, body = get(client, path, bearer(env, Role.ADMIN))
    assert status == 400 and body["error"] == "bad_request" and message in body["message"], body


@pytest.mark.parametrize(
    "path",
    [
        "/calls?since=2026-11-20T10:00:00&until=2026-11-20T12:00:00Z",
        "/calls?agent=204&since=2026-11-20&until=2026-11-21T00:00:00%2B03:00",
        "/calls?since=0001-01-01T00:00:00Z&until=9999-12-31T23:59:59Z",
        "/stats?since=9999-12-31&until=9999-12-31",
        "/stats?since=0001-01-01&until=0001-01-01",
        "/reports/weekly?week=0001-W01",
        "/reports/weekly?week=9999-W51",
    ],
)
def test_extreme_but_valid_bounds_answer(env: Stack, client: Client, path: str) -> None:
    status, body = get(client, path, bearer(env, Role.ADMIN))
    assert status == 200, body


CURSOR_PAYLOADS: list[Any] = [
    [],
    "text",
    None,
    {"s": "calls:by-update"},
    {"s": "calls:by-update", "k": {}},
    {"s": "calls:by-update", "k": {"call_id": "x"}},
    {"s": "calls:by-update", "k": {"call_id": {"S": "abc"}}},
    {"s": "calls:by-update", "k": {"call_id": {"N": "1"}, "feed_shard": {"S": "0"}, "updated_at": {"S": "x"}}},
    {"s": "calls:by-update", "k": {"call_id": {"S": "a"}, "feed_shard": {"S": "0"}, "updated_at": {"S": "x"}}},
    {"s": "calls:by-update", "k": {"call_id": {"S": "a"}, "feed_shard": {"S": "9"},
                                   "updated_at": {"S": "2026-11-20T11:30:01.000000+0000"}}},
    {"s": "calls:by-update", "k": {"call_id": {"S": "a"}, "feed_shard": {"S": "0"},
                                   "updated_at": {"S": "2026-11-20T11:30:01.000000+0000"}, "extra": {"S": "1"}}},
    {"s": "calls:by-update", "k": {"call_id": {"S": "a", "N": "1"}, "feed_shard": {"S": "0"},
                                   "updated_at": {"S": "2026-11-20T11:30:01.000000+0000"}}},
    {"s": "calls:by-update", "k": {"call_id": {"S": ["a"]}, "feed_shard": {"S": "0"},
                                   "updated_at": {"S": "2026-11-20T11:30:01.000000+0000"}}},
    {"s": "calls:by-update", "k": {"call_id": {"S": ""}, "feed_shard": {"S": "0"},
                                   "updated_at": {"S": "2026-11-20T11:30:01.000000+0000"}}},
]  # fmt: skip


@pytest.mark.parametrize("payload", CURSOR_PAYLOADS)
@pytest.mark.parametrize("route", ["/calls", "/feed"])
def test_signed_cursors_of_any_shape_are_400(env: Stack, client: Client, payload: Any, route: str) -> None:
    if isinstance(payload, dict) and route == "/feed" and "s" in payload:
        payload = payload | {"s": "feed"}
    cursor = signed_cursor(env, payload)
    status, body = get(client, f"{route}?cursor={cursor}", bearer(env, Role.ADMIN))
    assert status == 400 and body["error"] == "bad_request" and "cursor" in body["message"], body


def test_an_agent_cursor_for_another_agent_or_of_another_shape_is_400(env: Stack, client: Client) -> None:
    agent = bearer(env, Role.AGENT, agent_id="204")
    for key in (
        {"call_id": {"S": "abcdefgh"}, "agent_id": {"S": "205"}, "started_at": {"S": "2026-11-20T11:30:01.000000+0000"}},
        {"call_id": {"S": "abcdefgh"}, "agent_id": {"S": "204"}, "started_at": {"S": "yesterday"}},
        {"call_id": {"S": "abcdefgh"}, "feed_shard": {"S": "0"}, "updated_at": {"S": "2026-11-20T11:30:01.000000+0000"}},
    ):  # fmt: skip
        cursor = signed_cursor(env, {"s": "calls:by-agent:204", "k": key})
        status, body = get(client, f"/calls?cursor={cursor}", agent)
        assert status == 400 and "cursor" in body["message"], body


def test_real_cursors_still_resume(env: Stack, client: Client) -> None:
    for i in range(3):
        analysed_call(env, f"in-204-+7903123456{i}-20261120-11300{i}-{i}.1.wav", "Когда привезут заказ?")
    for headers, route in (
        (bearer(env, Role.ADMIN), "/calls"),
        (bearer(env, Role.AGENT, agent_id="204"), "/calls"),
        (bearer(env, Role.CRM), "/feed"),
    ):
        status, first = get(client, f"{route}?limit=2", headers)
        assert status == 200 and first["next_cursor"], first
        status, rest = get(client, f"{route}?limit=2&cursor={first['next_cursor']}", headers)
        assert status == 200, rest
        assert len({i["call_id"] for i in first["items"] + rest["items"]}) == 3


# --- 12c: the phone lookup hash is for roles that hold PII --------------------------------------------


@pytest.mark.parametrize(("role", "extra"), ROLES, ids=ROLE_IDS)
def test_only_pii_roles_get_the_phone_lookup_hash(
    env: Stack, client: Client, role: Role, extra: dict[str, Any]
) -> None:
    call = analysed_call(
        env,
        "in-204-+79031234561-20261120-113001-1.1.wav",
        "Мой телефон +7 903 765 43 21, перезвоните.",
        Metadata={"team": "sales-ru"},
    )
    status, detail = get(client, f"/calls/{call.call_id}", bearer(env, role, **extra))
    assert status == 200, detail
    [phone] = [e for e in detail["entities"] if e["type"] == "phone"]
    assert "*" in phone["display"]
    if role in (Role.ADMIN, Role.CRM):
        assert phone["lookup_hash"]
    else:
        assert phone["lookup_hash"] is None
        assert "4321" not in json.dumps(detail)  # the test's hash is the number's last four digits


def test_the_document_says_since_may_be_a_date(env: Stack, client: Client) -> None:
    document = api_module().DOCUMENT
    [since] = [p for p in document["paths"]["/calls"]["get"]["parameters"] if p["name"] == "since"]
    assert "UTC" in json.dumps(since)
