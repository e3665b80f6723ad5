"""``GET /alerts`` and ``GET /calls/{id}?include=audio`` (the dashboard's alert list and the call
view's single request) through the real API on the emulator.

Calls are ingested and analysed by the real handlers' services; which alert rules a call trips is
the analyzer's decision (the default rule pack: an agent who never says the call is recorded trips
``recording_notice_missing``; one who does, with a calm customer, trips none). Nothing is mocked.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from callsight.auth.tokens import Role
from chalice.test import Client

from tests.analysis_fixtures import build_transcript
from tests.audio_factory import pcm_wav
from tests.integration.conftest import DynamoDBRequests, Stack
from tests.integration.test_api import api_module, bearer, get

NOTICE = "Здравствуйте, разговор записывается, чем могу помочь?"
NO_NOTICE = "Здравствуйте, чем могу помочь?"


@pytest.fixture
def client(env: Stack) -> Iterator[Client]:
    with Client(api_module().app) as test_client:
        yield test_client


def analysed(env: Stack, name: str, agent_says: str, customer_says: str, team: str) -> Any:
    """Ingest ``name`` (PBX metadata naming its team), store a transcript, analyse it: the stored call."""
    from callsight.analysis.analyzer import Analyzer
    from callsight.analysis.rules import load_rules
    from callsight.models.messages import AnalyzeRequest
    from callsight.stages.analyze.service import AnalyzeService

    call = env.ingest(name, pcm_wav(seconds=1), Metadata={"team": team})
    turns = [
        {"speaker": "agent", "start": 0.1, "end": 2.0, "text": agent_says},
        {"speaker": "customer", "start": 2.5, "end": 6.0, "text": customer_says},
    ]
    key, version = env.transcribed(call.call_id, build_transcript(turns, "ru", 2, call_id=call.call_id))
    service = AnalyzeService(env.settings, Analyzer(load_rules(), "RU", lambda p: p[-4:]))
    service.handle(AnalyzeRequest(call_id=call.call_id, transcript_bucket=f"{env.settings.prefix}-transcripts",
                                  transcript_key=key, transcript_version_id=version, language="ru"))  # fmt: skip
    [stored] = [c for c in env.all_calls() if c.call_id == call.call_id]
    return stored


def some_calls(env: Stack) -> dict[str, Any]:
    """Three alerting calls (two teams, three agents, two days), one quiet analysed call, one not analysed."""
    calls = {
        "a1": analysed(env, "in-204-+79031234561-20261120-113001-1.1.wav", NO_NOTICE,
                       "Это ужасно, я очень недоволен и зол.", "sales-ru"),
        "a2": analysed(env, "in-205-+79031234562-20261120-123002-2.1.wav", NO_NOTICE,
                       "Доставку задержали, я недоволен.", "support-ru"),
        "a3": analysed(env, "in-206-+79031234563-20261121-093003-3.1.wav", NO_NOTICE,
                       "Когда привезут мой заказ?", "support-ru"),
        "quiet": analysed(env, "in-204-+79031234564-20261121-103004-4.1.wav", NOTICE,
                          "Спасибо, всё понятно, оформляйте.", "sales-ru"),
    }  # fmt: skip
    calls["raw"] = env.ingest(
        "in-204-+79031234565-20261121-113005-5.1.wav", pcm_wav(seconds=1), Metadata={"team": "sales-ru"}
    )
    return calls


def ids(client: Client, path: str, headers: dict[str, str]) -> list[str]:
    status, page = get(client, path, headers)
    assert status == 200, page
    return [item["call_id"] for item in page["items"]]


def test_alerts_are_the_callers_alerting_calls_newest_start_first(env: Stack, client: Client) -> None:
    calls = some_calls(env)
    a1, a2, a3 = (calls[k].call_id for k in ("a1", "a2", "a3"))
    for name in ("a1", "a2", "a3"):
        assert "recording_notice_missing" in calls[name].analysis.alerts  # the analyzer's own decision
    assert calls["quiet"].analysis.alerts == []  # analysed, said the notice, calm customer: not alerting

    admin = bearer(env, Role.ADMIN)
    status, page = get(client, "/alerts", admin)
    assert status == 200 and [i["call_id"] for i in page["items"]] == [a3, a2, a1], page
    assert page["next_cursor"] is None
    for item in page["items"]:
        assert "recording_notice_missing" in item["alerts"]
        assert "*" in item["customer_phone"] and "1234561" not in item["customer_phone"]  # masked
    # QA: their teams only (a team with no alert, or another team's: nothing leaks).
    assert ids(client, "/alerts", bearer(env, Role.QA, teams=["sales-ru"])) == [a1]
    assert ids(client, "/alerts", bearer(env, Role.QA, teams=["support-ru"])) == [a3, a2]
    assert ids(client, "/alerts", bearer(env, Role.QA, teams=["support-en"])) == []
    # Agents: their own calls only.
    assert ids(client, "/alerts", bearer(env, Role.AGENT, agent_id="205")) == [a2]
    assert ids(client, "/alerts", bearer(env, Role.AGENT, agent_id="204")) == [a1]
    assert ids(client, "/alerts", bearer(env, Role.AGENT, agent_id="299")) == []
    status, body = get(client, "/alerts", bearer(env, Role.AGENT))
    assert status == 400 and "agent_id" in body["message"]
    # The CRM integration has no alert list.
    status, body = get(client, "/alerts", bearer(env, Role.CRM))
    assert status == 403 and body["error"] == "forbidden" and "admin, QA and agent" in body["message"]
    # The period bounds the start time.
    assert ids(client, "/alerts?since=2026-11-21T00:00:00Z", admin) == [a3]
    assert ids(client, "/alerts?until=2026-11-21T00:00:00Z", admin) == [a2, a1]
    entries = [e for e in api_module().calls.audit.for_target("calls") if e.action == "alerts.list"]
    assert [e.outcome for e in entries].count("denied") == 1
    assert entries[-1].details["returned"] == 2


def test_alerts_page_through_a_signed_cursor_and_refuse_a_forged_one(env: Stack, client: Client) -> None:
    calls = some_calls(env)
    admin = bearer(env, Role.ADMIN)
    seen: list[str] = []
    cursor = ""
    for _ in range(5):
        status, page = get(client, f"/alerts?limit=1{'&cursor=' + cursor if cursor else ''}", admin)
        assert status == 200 and len(page["items"]) <= 1
        seen += [i["call_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [calls[k].call_id for k in ("a3", "a2", "a1")]  # no gap, no repeat

    first = get(client, "/alerts?limit=1", admin)[1]["next_cursor"]
    raw = bytearray(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)))
    raw[-3] ^= 0x01  # one bit of the position changed: the signature no longer holds
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    status, body = get(client, f"/alerts?cursor={forged}", admin)
    assert status == 400 and "cursor is not one this API issued" in body["message"]
    listing = get(client, "/calls?limit=1", admin)[1]["next_cursor"]
    status, body = get(client, f"/alerts?cursor={listing}", admin)  # another listing's cursor
    assert status == 400 and "belongs to another listing" in body["message"]
    status, body = get(client, f"/calls?cursor={first}", admin)  # and the other way round
    assert status == 400 and "belongs to another listing" in body["message"]
    # An agent's alert list pages through their own partition; another listing's cursor is refused.
    agent = bearer(env, Role.AGENT, agent_id="204")
    status, page = get(client, "/alerts?limit=1", agent)
    assert status == 200 and [i["call_id"] for i in page["items"]] == [calls["a1"].call_id]
    if page["next_cursor"]:
        assert get(client, f"/alerts?limit=1&cursor={page['next_cursor']}", agent)[1]["items"] == []
    status, body = get(client, f"/alerts?cursor={first}", agent)
    assert status == 400 and "belongs to another listing" in body["message"]
    # A refused cursor is a 400 that writes no audit entry: every listing entry is an answered page.
    entries = [
        e for e in api_module().calls.audit.for_target("calls") if e.action in ("alerts.list", "calls.list")
    ]
    assert entries and {e.outcome for e in entries} == {"ok"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit: Input should be greater than or equal to 1"),
        ("limit=101", "limit: Input should be less than or equal to 100"),
        ("colour=red", "colour: Extra inputs are not permitted"),
        ("since=2026-11-21T00:00:00Z&until=2026-11-20T00:00:00Z", "since is greater than until"),
        ("since=tomorrow", "since: Input should be a valid datetime"),
    ],
)
def test_bad_alert_queries_are_400_with_a_message(
    env: Stack, client: Client, query: str, message: str
) -> None:
    status, body = get(client, f"/alerts?{query}", bearer(env, Role.ADMIN))
    assert status == 400 and body["error"] == "bad_request" and message in body["message"], body


def audio_audits(call_id: str) -> list[str]:
    return [
        e.outcome for e in api_module().calls.audit.for_target(f"call:{call_id}") if e.action == "audio.url"
    ]


def test_call_detail_with_its_audio_in_one_request(env: Stack, client: Client) -> None:
    call = analysed(env, "in-204-+79031234567-20261120-113000-7.1.wav", NO_NOTICE, "Спасибо.", "sales-ru")
    path = f"/calls/{call.call_id}"
    status, plain = get(client, path, bearer(env, Role.ADMIN))
    assert status == 200 and plain["audio"] is None and plain["audio_unavailable"] is None
    assert audio_audits(call.call_id) == []  # no include: no audio URL made, none audited

    status, body = get(client, f"{path}?include=audio", bearer(env, Role.ADMIN))
    assert status == 200 and body["call_id"] == call.call_id
    assert "X-Amz-Signature" in body["audio"]["url"] and body["audio"]["redacted"] is False
    assert body["audio"]["expires_in_s"] == 300 and body["audio_unavailable"] is None
    assert audio_audits(call.call_id) == ["ok"]  # audited like GET /calls/{id}/audio

    # QA of the call's team: the detail, and why there is no URL (no redacted copy yet), audited.
    status, body = get(client, f"{path}?include=audio", bearer(env, Role.QA, teams=["sales-ru"]))
    assert status == 200 and body["audio"] is None and "no redacted audio" in body["audio_unavailable"]
    # The owning agent: agents may not download audio by default.
    status, body = get(client, f"{path}?include=audio", bearer(env, Role.AGENT, agent_id="204"))
    assert status == 200 and body["audio"] is None and "not allowed for agents" in body["audio_unavailable"]
    assert audio_audits(call.call_id) == ["ok", "not_found", "denied"]

    # Out of scope: 404 as without include, and no audio URL is made for them.
    for headers in (bearer(env, Role.AGENT, agent_id="205"), bearer(env, Role.QA, teams=["support-ru"])):
        status, body = get(client, f"{path}?include=audio", headers)
        assert status == 404 and body["error"] == "not_found" and "audio" not in body
    assert audio_audits(call.call_id) == ["ok", "not_found", "denied"]

    for bad, message in (("include=video", "include: Input should be 'audio'"),
                         ("colour=red", "colour: Extra inputs are not permitted")):  # fmt: skip
        status, body = get(client, f"{path}?{bad}", bearer(env, Role.ADMIN))
        assert status == 400 and body["error"] == "bad_request" and message in body["message"], body


def test_a_qa_listing_is_filtered_by_dynamodb_and_pages_through_its_teams(
    env: Stack, client: Client, requests: DynamoDBRequests
) -> None:
    calls = some_calls(env)
    sales = {calls[k].call_id for k in ("a1", "quiet", "raw")}
    qa = bearer(env, Role.QA, teams=["sales-ru"])
    requests.clear()
    assert set(ids(client, "/calls", qa)) == sales
    # The by-day index, filtered to the QA scope: one Query per call day (2026-11-21, 2026-11-20), after
    # one Query of the call-day bounds.
    assert requests["calls Query"] == 2 and requests["daily-stats Query"] == 1
    seen: list[str] = []
    cursor = ""
    for _ in range(5):
        status, page = get(client, f"/calls?limit=1{'&cursor=' + cursor if cursor else ''}", qa)
        assert status == 200 and len(page["items"]) <= 1
        seen += [i["call_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 3 and set(seen) == sales  # no gap, no repeat, no other team
    assert set(ids(client, "/calls?team=support-ru", bearer(env, Role.ADMIN))) == {
        calls["a2"].call_id,
        calls["a3"].call_id,
    }
    assert ids(client, "/calls?team=support-ru", qa) == []  # a filter never widens the scope


def test_a_transcript_gone_from_storage_is_a_404_not_a_500(env: Stack, client: Client) -> None:
    call = analysed(env, "in-204-+79031234568-20261120-113000-8.1.wav", NO_NOTICE, "Спасибо.", "sales-ru")
    assert call.transcription is not None
    path = f"/calls/{call.call_id}/transcript"
    assert get(client, path, bearer(env, Role.ADMIN))[0] == 200
    env.s3.delete_object(  # e.g. removed by hand, or a record restored without its objects
        Bucket=call.transcription.transcript_bucket,
        Key=call.transcription.transcript_key,
        VersionId=call.transcription.transcript_version_id,
    )
    for headers in (bearer(env, Role.ADMIN), bearer(env, Role.AGENT, agent_id="204")):
        status, body = get(client, path, headers)
        assert status == 404 and body["error"] == "not_found" and "not in storage" in body["message"], body
