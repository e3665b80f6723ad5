"""The API (Chalice test client) on the emulator: tokens, roles, not-found-not-forbidden, filters,
cursors, masked transcripts and the audit trail of every read."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from callsight.auth.tokens import Role, mint_local_token
from callsight.ui import UI_ROUTES
from chalice.test import Client

from tests.analysis_fixtures import build_transcript
from tests.audio_factory import pcm_wav
from tests.conftest import REPO
from tests.integration.conftest import Stack


def api_module() -> ModuleType:
    name = "callsight_function_api"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "functions" / "api" / "app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def client(env: Stack) -> Iterator[Client]:
    with Client(api_module().app) as test_client:
        yield test_client


def bearer(env: Stack, role: Role, **extra: Any) -> dict[str, str]:
    return {
        "Authorization": "Bearer "
        + mint_local_token(env.settings, subject=f"{role.value}-user", role=role, **extra)
    }


def get(client: Client, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    response = client.http.get(path, headers=headers or {})
    return response.status_code, json.loads(response.body or b"null")


def three_calls(env: Stack) -> list[Any]:
    return [
        env.ingest(f"in-{agent}-+7903123456{i}-20261120-11300{i}-{i}.1.wav", pcm_wav(seconds=1))
        for i, agent in enumerate(("204", "204", "205"))
    ]


def test_health_and_missing_or_bad_tokens(env: Stack, client: Client) -> None:
    assert get(client, "/health") == (200, {"status": "ok"})
    status, body = get(client, "/calls")
    assert status == 401 and body == {"error": "unauthorized", "message": "missing Authorization header"}
    assert get(client, "/calls", {"Authorization": "Bearer x.y.z"})[0] == 401


def test_roles_see_their_calls_and_nothing_leaks(env: Stack, client: Client) -> None:
    mine, also_mine, theirs = three_calls(env)
    status, page = get(client, "/calls", bearer(env, Role.ADMIN))
    assert status == 200 and len(page["items"]) == 3
    assert all("*" in item["customer_phone"] for item in page["items"])  # masked in listings
    agent = bearer(env, Role.AGENT, agent_id="204")
    status, page = get(client, "/calls", agent)
    assert {i["call_id"] for i in page["items"]} == {mine.call_id, also_mine.call_id}
    assert get(client, f"/calls/{mine.call_id}", agent)[0] == 200
    denied = get(client, f"/calls/{theirs.call_id}", agent)
    missing = get(client, "/calls/00000000-0000-5000-8000-000000000000", agent)
    assert denied[0] == missing[0] == 404 and denied[1]["error"] == missing[1]["error"] == "not_found"
    qa_elsewhere = bearer(env, Role.QA, teams=["support-en"])
    assert get(client, f"/calls/{mine.call_id}", qa_elsewhere)[0] == 404
    assert get(client, "/calls", qa_elsewhere)[1]["items"] == []
    audit = api_module().calls.audit
    outcomes = [e.outcome for e in audit.for_target(f"call:{theirs.call_id}") if e.action == "call.read"]
    assert outcomes == ["denied"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=1000", "limit: Input should be less than or equal to 100"),
        ("limit=abc", "limit: Input should be a valid integer"),
        ("status=BOGUS", "status: Input should be"),
        ("colour=red", "colour: Extra inputs are not permitted"),
        ("tag=%27%20OR%201%3D1--", "tag: String should match pattern"),
        ("cursor=bm90LWEtY3Vyc29y", "cursor is not one this API issued"),
        ("since=yesterday", "since: Input should be a valid datetime"),
        ("sentiment_min=0.5&sentiment_max=-0.5", "sentiment_min is greater than sentiment_max"),
        ("sentiment_min=2", "sentiment_min: Input should be less than or equal to 1"),
        ("min_duration_s=-1", "min_duration_s: Input should be greater than or equal to 0"),
        ("outcome=success%3B%20DROP", "outcome: String should match pattern"),
        ("since=2026-11-21T00:00:00Z&until=2026-11-20T00:00:00Z", "since is greater than until"),
    ],
)
def test_bad_queries_are_400_with_a_message(env: Stack, client: Client, query: str, message: str) -> None:
    status, body = get(client, f"/calls?{query}", bearer(env, Role.ADMIN))
    assert status == 400 and body["error"] == "bad_request" and message in body["message"], body


def test_cursor_pages_through_without_gaps_or_repeats(env: Stack, client: Client) -> None:
    calls = three_calls(env)
    admin = bearer(env, Role.ADMIN)
    status, first = get(client, "/calls?limit=2", admin)
    assert status == 200 and len(first["items"]) == 2 and first["next_cursor"]
    status, second = get(client, f"/calls?limit=2&cursor={first['next_cursor']}", admin)
    assert status == 200 and second["next_cursor"] is None
    seen = [i["call_id"] for i in first["items"] + second["items"]]
    assert sorted(seen) == sorted(c.call_id for c in calls)
    assert (
        get(client, "/calls?status=RECEIVED&agent=205", admin)[1]["items"][0]["call_id"] == calls[2].call_id
    )


def test_transcripts_are_masked_unless_the_role_holds_pii(env: Stack, client: Client) -> None:
    call = env.ingest("in-204-+79031234567-20261120-113000-9.1.wav", pcm_wav(seconds=1))
    turns = [
        {
            "speaker": "customer",
            "start": 0.1,
            "end": 4.0,
            "text": "Мой телефон девять ноль три, один два три, четыре пять, шесть семь",
        }
    ]
    env.transcribed(call.call_id, build_transcript(turns, "ru", 2, call_id=call.call_id))
    status, masked = get(client, f"/calls/{call.call_id}/transcript", bearer(env, Role.AGENT, agent_id="204"))
    assert (
        status == 200
        and "[PHONE]" in masked["turns"][0]["text"]
        and "девять" not in json.dumps(masked, ensure_ascii=False)
    )
    status, raw = get(client, f"/calls/{call.call_id}/transcript", bearer(env, Role.ADMIN))
    assert status == 200 and "девять ноль три" in raw["turns"][0]["text"]
    actions = [e.action for e in api_module().calls.audit.for_target(f"call:{call.call_id}")]
    assert actions.count("transcript.read") == 2


def analysed_call(env: Stack, name: str, text: str, **upload: Any) -> Any:
    from callsight.analysis.analyzer import Analyzer
    from callsight.analysis.rules import load_rules
    from callsight.models.messages import AnalyzeRequest
    from callsight.stages.analyze.service import AnalyzeService

    call = env.ingest(name, pcm_wav(seconds=1), **upload)
    turns = [
        {"speaker": "agent", "start": 0.1, "end": 2.0, "text": "Здравствуйте, чем могу помочь?"},
        {"speaker": "customer", "start": 2.5, "end": 6.0, "text": text},
    ]
    key, version = env.transcribed(call.call_id, build_transcript(turns, "ru", 2, call_id=call.call_id))
    service = AnalyzeService(env.settings, Analyzer(load_rules(), "RU", lambda p: p[-4:]))
    bucket = f"{env.settings.prefix}-transcripts"
    service.handle(AnalyzeRequest(call_id=call.call_id, transcript_bucket=bucket, transcript_key=key,
                                  transcript_version_id=version, language="ru"))  # fmt: skip
    return call


def test_search_is_stemmed_anded_filtered_by_speaker_and_role(env: Stack, client: Client) -> None:
    pricey = analysed_call(
        env, "in-204-+79031234561-20261120-113001-1.1.wav", "Доставку задержали, и телевизор дорогой."
    )
    other = analysed_call(
        env, "in-205-+79031234562-20261120-113002-2.1.wav", "Доставка задерживается уже неделю."
    )
    admin = bearer(env, Role.ADMIN)
    status, body = get(client, "/search?q=доставка", admin)  # «доставку», «доставка»: one stem
    assert status == 200 and {h["call"]["call_id"] for h in body["items"]} == {pricey.call_id, other.call_id}
    status, body = get(client, "/search?q=доставка%20телевизор", admin)  # AND
    assert [h["call"]["call_id"] for h in body["items"]] == [pricey.call_id]
    assert body["items"][0]["terms"]["телевизор"][0] >= 2.5
    assert get(client, "/search?q=доставка&speaker=agent", admin)[1]["items"] == []
    agent = bearer(env, Role.AGENT, agent_id="205")
    assert [h["call"]["call_id"] for h in get(client, "/search?q=доставка", agent)[1]["items"]] == [
        other.call_id
    ]
    assert get(client, "/search?q=", admin)[0] == 400


def test_the_feed_is_for_the_crm_and_resumes_from_its_cursor(env: Stack, client: Client) -> None:
    calls = three_calls(env)
    crm = bearer(env, Role.CRM)
    status, first = get(client, "/feed?limit=2", crm)
    assert status == 200 and len(first["items"]) == 2
    updated = [i["updated_at"] for i in first["items"]]
    assert updated == sorted(updated)
    env.calls.transition(
        calls[0].call_id, __import__("callsight.models.call", fromlist=["CallStatus"]).CallStatus.TRANSCRIBING
    )
    status, rest = get(client, f"/feed?cursor={first['next_cursor']}", crm)
    later = [i["call_id"] for i in rest["items"]]
    assert calls[0].call_id in later  # changed after delivery: delivered again (at least once)
    assert {i["call_id"] for i in first["items"] + rest["items"]} == {c.call_id for c in calls}
    status, body = get(client, "/feed", bearer(env, Role.AGENT, agent_id="204"))
    assert status == 403 and body["error"] == "forbidden"


def test_listings_feed_and_search_audit_each_answer_once_and_no_400(env: Stack, client: Client) -> None:
    """One entry per answered request (``ok``, or ``denied`` for a role refused with 403, without
    details); a 400 (a cursor not ours, an agent token without agent_id, too many terms) writes none."""
    three_calls(env)
    admin, crm = bearer(env, Role.ADMIN), bearer(env, Role.CRM)
    assert get(client, "/calls?limit=1&cursor=AAAA", admin)[0] == 400
    assert get(client, "/calls", bearer(env, Role.AGENT))[0] == 400
    assert get(client, "/calls?limit=1&agent=204", admin)[0] == 200
    assert get(client, "/feed?cursor=AAAA", crm)[0] == 400
    assert get(client, "/feed", bearer(env, Role.QA, teams=["sales-ru"]))[0] == 403
    assert get(client, "/feed?limit=2", crm)[0] == 200
    assert get(client, "/search?q=" + "%20".join(["слово"] * 11), admin)[0] == 400
    assert get(client, "/search?q=доставка", admin)[0] == 200
    entries = api_module().calls.audit.for_target("calls")
    by_action = {a: [e for e in entries if e.action == a] for a in ("calls.list", "feed.read", "search")}
    [listing] = by_action["calls.list"]
    assert (listing.actor, listing.role, listing.outcome) == ("admin-user", "admin", "ok")
    assert listing.details["returned"] == 1 and listing.details["filters"]["agent"] == "204"
    assert "cursor" not in listing.details["filters"]
    feed = sorted(by_action["feed.read"], key=lambda e: e.outcome)
    assert [(e.role, e.outcome, e.details) for e in feed] == [
        ("qa", "denied", {}),
        ("crm", "ok", {"returned": 2}),
    ]
    [search] = by_action["search"]
    assert (
        search.outcome == "ok"
        and search.details["terms"] == ["доставка"]
        and search.details["speaker"] is None
    )
    assert set(search.details) == {"terms", "speaker", "returned", "examined", "complete"}


def test_openapi_document_names_exactly_the_routes(env: Stack, client: Client) -> None:
    status, document = get(client, "/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.")
    app_routes = {path for path in api_module().app.routes}
    # The dashboard's static files (public, no data) are the app's only routes outside the document.
    assert app_routes >= UI_ROUTES
    assert set(document["paths"]) == app_routes - UI_ROUTES
    assert {p["name"] for p in document["paths"]["/calls"]["get"]["parameters"]} >= {
        "limit",
        "cursor",
        "status",
        "tag",
    }
    for path, item in document["paths"].items():
        declared = {method.upper() for method in item}
        assert declared == set(api_module().app.routes[path]), path  # same methods as the app serves
        for operation in item.values():
            if path not in ("/health", "/openapi.json"):
                assert operation["security"] == [{"bearer": []}] and "401" in operation["responses"]
    assert "CallDetail" in document["components"]["schemas"]


def test_admin_routes_act_through_compliance_and_refuse_others(env: Stack, client: Client) -> None:
    call = env.ingest("in-204-+79031234567-20261120-113000-4.1.wav", pcm_wav(seconds=1))
    admin, qa = bearer(env, Role.ADMIN), bearer(env, Role.QA, teams=["sales-ru"])

    def send(method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
        response = getattr(client.http, method)(
            path,
            headers=headers | {"Content-Type": "application/json"},
            body=json.dumps(body) if body is not None else b"",
        )
        return response.status_code, json.loads(response.body or b"null")

    assert send("put", f"/calls/{call.call_id}/legal-hold", qa, {"reason": "dispute"})[0] == 403
    assert (
        send("put", f"/calls/{call.call_id}/legal-hold", admin, {"reason": "x"})[0] == 400
    )  # reason too short
    assert send("put", f"/calls/{call.call_id}/legal-hold", admin, {"reason": "dispute 17"}) == (
        200, {"call_id": call.call_id, "legal_hold": True},
    )  # fmt: skip
    held = send("post", "/erasure", admin, {"phone": "+7 903 123 45 67"})[1]
    assert [(o["call_id"], o["result"]) for o in held["outcomes"]] == [(call.call_id, "held")]
    assert send("delete", f"/calls/{call.call_id}/legal-hold", admin)[0] == 200
    assert send("post", "/erasure", admin, {"phone": "banana"})[0] == 400
    assert send("post", "/erasure", qa, {"phone": "+79031234567"})[0] == 403

    status, policies = get(client, "/policies/retention", admin)
    assert status == 200 and [p["policy_id"] for p in policies] == ["default"]
    assert send("put", "/policies/retention/finance", admin, {"days": 0, "tags": ["x"]})[0] == 400
    status, body = send(
        "put", "/policies/retention/finance", admin, {"days": 1095, "tags": ["cancellation_refund"]}
    )
    assert status == 200 and body["policy"]["days"] == 1095

    status, entries = get(client, f"/audit?target=call:{call.call_id}", admin)
    assert status == 200 and [e["action"] for e in entries][:3] == [
        "legal_hold.set",
        "erasure.skip",
        "legal_hold.release",
    ]
    assert get(client, f"/audit?target=call:{call.call_id}", qa)[0] == 403


def test_audio_urls_are_presigned_and_redacted_unless_admin(env: Stack, client: Client) -> None:
    call = env.ingest("in-204-+79031234567-20261120-113000-6.1.wav", pcm_wav(seconds=1))
    status, body = get(client, f"/calls/{call.call_id}/audio", bearer(env, Role.ADMIN))
    assert (
        status == 200
        and body["redacted"] is False
        and "X-Amz-Signature" in body["url"]
        and body["expires_in_s"] == 300
    )
    assert (
        get(client, f"/calls/{call.call_id}/audio", bearer(env, Role.QA, teams=["sales-ru"]))[0] == 404
    )  # no redacted copy yet
    status, body = get(client, f"/calls/{call.call_id}/audio", bearer(env, Role.AGENT, agent_id="204"))
    assert status == 403 and "not allowed for agents" in body["message"]  # policy: off by default
    status, _ = get(client, f"/calls/{call.call_id}/audio", bearer(env, Role.AGENT, agent_id="205"))
    assert status == 404  # someone else's call: not found, as always


def test_the_api_is_served_on_localhost(env: Stack) -> None:
    import urllib.request

    from callsight.local.api_server import LocalApi

    api = LocalApi(port=0)
    url = api.start()
    try:
        token = mint_local_token(env.settings, subject="x", role=Role.ADMIN)
        request = urllib.request.Request(f"{url}/calls", headers={"Authorization": f"Bearer {token}"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # our own localhost server
            assert response.status == 200 and json.loads(response.read())["items"] == []
    finally:
        api.stop()


def test_stats_aggregate_the_visible_calls_of_a_period(env: Stack, client: Client) -> None:
    analysed_call(
        env, "in-204-+79031234561-20261120-113001-11.1.wav", "Телевизор слишком дорого, перезвоните мне."
    )
    analysed_call(env, "in-204-+79031234562-20261120-123002-12.1.wav", "Доставку задержали, я недоволен.")
    analysed_call(env, "in-205-+79031234563-20261121-113003-13.1.wav", "Беру его, оформляйте заказ.")
    status, stats = get(client, "/stats?since=2026-11-20&until=2026-11-21", bearer(env, Role.ADMIN))
    assert status == 200 and stats["calls"] == stats["analysed"] == 3
    assert stats["calls_per_day"] == {"2026-11-20": 2, "2026-11-21": 1}
    assert stats["topic_shares"]["price_complaint"] == round(1 / 3, 3)
    assert {a["agent_id"]: a["calls"] for a in stats["agents"]} == {"204": 2, "205": 1}
    assert next(a for a in stats["agents"] if a["agent_id"] == "205")["conversion"] == 1.0
    mine = get(client, "/stats?since=2026-11-20&until=2026-11-21", bearer(env, Role.AGENT, agent_id="205"))[1]
    assert mine["calls"] == 1  # an agent's stats cover their own calls only
    assert get(client, "/stats?since=2026-11-21&until=2026-11-20", bearer(env, Role.ADMIN))[0] == 400
    assert get(client, "/stats?since=2026-01-01&until=2026-12-31", bearer(env, Role.ADMIN))[0] == 400


def test_listing_filters_by_outcome_sentiment_duration_and_agent(env: Stack, client: Client) -> None:
    sale = analysed_call(
        env, "in-204-+79031234561-20261120-113001-21.1.wav", "Беру его, оформляйте заказ, спасибо."
    )
    angry = analysed_call(
        env, "in-205-+79031234562-20261120-123002-22.1.wav", "Это ужасно, я очень недоволен и зол."
    )
    admin = bearer(env, Role.ADMIN)

    def ids(query: str, headers: dict[str, str] = admin) -> set[str]:
        status, page = get(client, f"/calls?{query}", headers)
        assert status == 200, page
        return {item["call_id"] for item in page["items"]}

    assert ids("outcome=success") == {sale.call_id}
    assert ids("sentiment_max=-0.2") == {angry.call_id}
    assert ids("min_duration_s=0.5&max_duration_s=2") == {sale.call_id, angry.call_id}
    assert ids("min_duration_s=5") == set()
    # Found by schemathesis: a float DynamoDB cannot store (in the audit entry's filters) was a 500.
    assert get(client, "/calls?sentiment_min=3e-233", admin)[0] == 200
    assert ids("agent=205") == {angry.call_id}  # through the by-agent index
    assert ids("agent=205&since=2026-11-21T00:00:00Z") == set()
    # A cursor is bound to its listing: one from the by-agent listing is refused by the general one.
    first = get(client, "/calls?agent=204&limit=1", admin)[1]
    second = analysed_call(env, "in-204-+79031234563-20261120-133003-23.1.wav", "Спасибо, всё понятно.")
    cursor = get(client, "/calls?agent=204&limit=1", admin)[1]["next_cursor"]
    assert first["items"] and second and cursor
    status, body = get(client, f"/calls?cursor={cursor}", admin)
    assert status == 400 and "belongs to another listing" in body["message"]
    assert get(client, f"/calls?agent=204&cursor={cursor}", admin)[0] == 200
