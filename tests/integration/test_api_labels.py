"""QA label corrections through the real API handler on the emulator (issue 17 item 4): who may correct
which call, every bad body a 4xx that changes nothing, the review shown beside the machine labels, each
attempt audited without the note, reviewed calls as masked training examples, and erasure taking the
review with the call."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from callsight.analysis.analyzer import Analyzer
from callsight.analysis.rules import load_rules
from callsight.api.labels import label_feedback
from callsight.auth.tokens import Role
from callsight.models.call import CallRecord, CallStatus
from callsight.models.messages import AnalyzeRequest
from callsight.stages.analyze.service import AnalyzeService
from callsight.storage.transcripts import TranscriptStore
from callsight.sweeps.erasure import SubjectErasure
from chalice.test import Client

from tests.analysis_fixtures import build_transcript
from tests.audio_factory import pcm_wav
from tests.integration.conftest import Stack
from tests.integration.test_api import api_module, bearer, get
from tests.integration.test_compliance import ADMIN, everything

TEAM = "sales-ru"
PHONE = "+79031234567"
GOOD: dict[str, Any] = {
    "categories": ["price_complaint"],
    "purpose": "order",
    "outcome": "refusal",
    "refusal_reason": "too_expensive",
    "customer_sentiment": "negative",
    "note": "price objection missed by the rules",
}


@pytest.fixture
def client(env: Stack) -> Any:
    with Client(api_module().app) as test_client:
        yield test_client


def team_call(env: Stack, *, analyse: bool = True, code_word: str = "kodovoe") -> CallRecord:
    """A call of ``TEAM`` (sidecar metadata) where the customer says his number, analysed unless not."""
    started = datetime.now(UTC) - timedelta(days=2)
    name = f"exten-204-{started:%Y%m%d-%H%M%S}-{uuid.uuid4().int % 10**9}.1.wav"
    sidecar = {"agent_id": "204", "team": TEAM, "customer_phone": PHONE, "direction": "inbound"}
    env.put(f"{name}.json", json.dumps(sidecar).encode())
    env.clear_ingest_queue()
    call = env.ingest(name, pcm_wav(seconds=2))
    env.transcribe_requests()
    turns = [
        {"speaker": "agent", "start": 0.0, "end": 2.0, "text": "Здравствуйте, чем могу помочь?"},
        {"speaker": "customer", "start": 2.5, "end": 9.0,
         "text": f"Мой телефон {PHONE}, кодовое слово {code_word}. Телевизор слишком дорогой."},
    ]  # fmt: skip
    key, version = env.transcribed(call.call_id, build_transcript(turns, "ru", 2, call_id=call.call_id))
    if analyse:
        service = AnalyzeService(env.settings, Analyzer(load_rules(), "RU", lambda p: p[-4:]))
        service.handle(AnalyzeRequest(call_id=call.call_id, transcript_bucket=TranscriptStore(env.settings).bucket,
                                      transcript_key=key, transcript_version_id=version, language="ru"))  # fmt: skip
    stored = env.calls.get(call.call_id)
    assert stored is not None and stored.team == TEAM
    assert stored.status is (CallStatus.ANALYZED if analyse else CallStatus.TRANSCRIBED)
    return stored


def put(
    client: Client, call_id: str, headers: dict[str, str], body: Any, content_type: str = "application/json"
) -> tuple[int, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = client.http.put(
        f"/calls/{call_id}/labels", headers=headers | {"Content-Type": content_type}, body=raw
    )
    return response.status_code, json.loads(response.body or b"null")


def corrections(call_id: str) -> list[Any]:
    return [e for e in api_module().calls.audit.for_target(f"call:{call_id}") if e.action == "labels.correct"]


def test_qa_corrects_a_call_of_its_team_the_last_correction_wins_and_get_shows_it(
    env: Stack, client: Client
) -> None:
    # Given an analysed call of the QA's team
    call = team_call(env)
    qa = bearer(env, Role.QA, teams=[TEAM])
    status, before = get(client, f"/calls/{call.call_id}", qa)
    assert status == 200 and before["review"] is None

    # When QA corrects its labels, then an admin corrects them again
    status, review = put(client, call.call_id, qa, GOOD)
    assert status == 200, review
    assert review["reviewer"] == "qa-user" and review["labels"]["outcome"] == "refusal"
    assert review["rules_version"] == call.analysis.rules_version  # type: ignore[union-attr]
    second = GOOD | {
        "outcome": "callback",
        "refusal_reason": None,
        "categories": ["callback_request"],
        "note": None,
    }
    status, review = put(client, call.call_id, bearer(env, Role.ADMIN), second)
    assert status == 200 and review["reviewer_role"] == "admin"

    # Then the call shows the last correction beside the machine labels, and both PUTs are audited
    status, detail = get(client, f"/calls/{call.call_id}", qa)
    assert detail["review"]["labels"] == {k: v for k, v in second.items() if k != "note"}
    assert detail["review"]["note"] is None and detail["outcome"] == call.analysis.outcome  # type: ignore[union-attr]
    entries = corrections(call.call_id)
    assert [(e.role, e.outcome, e.details["replaced"]) for e in entries] == [
        ("qa", "ok", False),
        ("admin", "ok", True),
    ]
    assert GOOD["note"] not in json.dumps([e.model_dump(mode="json") for e in entries], ensure_ascii=False)

    # And the reviewed call is a training example with its turns masked, as QA sees them
    [example] = list(label_feedback(api_module().calls))
    assert example.call_id == call.call_id and example.language == "ru"
    assert example.labels.outcome == "callback" and [t.speaker.value for t in example.turns] == [
        "agent",
        "customer",
    ]
    text = " ".join(t.text for t in example.turns)
    assert "[PHONE]" in text and "9031234567" not in text.replace(" ", "")


def test_bad_bodies_are_400_with_a_message_and_change_nothing(env: Stack, client: Client) -> None:
    call = team_call(env)
    qa = bearer(env, Role.QA, teams=[TEAM])
    cases: list[tuple[Any, str, str]] = [
        (
            GOOD | {"categories": ["shipping"]},
            "application/json",
            "unknown category 'shipping'; valid: price_complaint",
        ),
        (
            GOOD | {"outcome": "won"},
            "application/json",
            "unknown outcome 'won'; valid: success, refusal, callback, none",
        ),
        (GOOD | {"purpose": "chat"}, "application/json", "unknown purpose 'chat'"),
        (GOOD | {"customer_sentiment": "furious"}, "application/json", "customer_sentiment: Input should be"),
        (
            GOOD | {"outcome": "success"},
            "application/json",
            "refusal_reason must be null unless outcome is 'refusal'",
        ),
        (GOOD | {"agent_id": "205"}, "application/json", "agent_id: Extra inputs are not permitted"),
        (
            GOOD | {"categories": "price_complaint"},
            "application/json",
            "categories: Input should be a valid list",
        ),
        (GOOD | {"note": "x" * 600}, "application/json", "note: String should have at most 500 characters"),
        (b"{not json", "application/json", "the request body is not valid JSON"),
        (b"", "application/json", "the request body is not valid JSON"),
        (b"null", "application/json", "needs a JSON object body"),
        ([GOOD], "application/json", "the request body must be a JSON object"),
    ]
    for body, content_type, message in cases:
        status, answer = put(client, call.call_id, qa, body, content_type)
        assert status == 400 and answer["error"] == "bad_request" and message in answer["message"], (
            body,
            answer,
        )
    status, answer = put(client, call.call_id, qa, json.dumps(GOOD).encode(), "text/plain")
    assert status == 415 and "text/plain" in answer["Message"]  # Chalice refuses it before the route
    after = env.calls.get(call.call_id)
    assert after is not None and after.review is None and after.version == call.version
    assert [e.outcome for e in corrections(call.call_id)] == ["invalid"] * len(cases)


def test_who_may_correct_which_call(env: Stack, client: Client) -> None:
    call = team_call(env)
    pending = team_call(env, analyse=False, code_word="vtoroe")
    for role, extra in ((Role.AGENT, {"agent_id": "204"}), (Role.CRM, {})):
        status, body = put(client, call.call_id, bearer(env, role, **extra), GOOD)
        assert status == 403 and body["message"] == "label corrections are for QA and admins"
    other_team = bearer(env, Role.QA, teams=["support-en"])
    assert get(client, f"/calls/{call.call_id}", other_team)[0] == 404  # as GET answers it
    assert put(client, call.call_id, other_team, GOOD)[0] == 404
    assert put(client, "00000000-0000-5000-8000-000000000000", bearer(env, Role.ADMIN), GOOD)[0] == 404
    status, body = put(client, pending.call_id, bearer(env, Role.QA, teams=[TEAM]), GOOD)
    assert status == 409 and body["error"] == "conflict" and "not analysed yet" in body["message"]
    assert env.calls.get(call.call_id).review is None  # type: ignore[union-attr]
    assert [e.outcome for e in corrections(call.call_id)] == ["denied", "denied", "denied"]
    assert [e.outcome for e in corrections(pending.call_id)] == ["conflict"]


def test_erasure_takes_the_review_with_the_call(env: Stack, client: Client) -> None:
    # Given a reviewed call of the subject
    call = team_call(env)
    marker = "reviewnote" + uuid.uuid4().hex[:8]
    assert put(client, call.call_id, bearer(env, Role.ADMIN), GOOD | {"note": marker})[0] == 200
    assert marker in everything(env)

    # When the subject is erased
    report = SubjectErasure(env.settings).erase(PHONE, ADMIN)
    assert [(o.call_id, o.result.value) for o in report.outcomes] == [(call.call_id, "deleted")]

    # Then the review is gone with the call: not stored, not a training example, and the call is a 404
    assert marker not in everything(env)
    assert list(label_feedback(api_module().calls)) == []
    admin = bearer(env, Role.ADMIN)
    assert get(client, f"/calls/{call.call_id}", admin)[0] == 404
    assert put(client, call.call_id, admin, GOOD)[0] == 404
