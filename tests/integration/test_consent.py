"""The consent registry / stop list (issue 20) on the embedded emulator: the admin routes and CLI,
ingest stopping opted-out numbers (policy delete or keep, one receipt, redeliveries, late and early
sidecars, calls without a number), consent revoked erasing past calls and fencing later uploads,
removal lifting both, and no number in any log line, response or audit entry.

Real handlers (ingest, the API's Chalice app, the transcriber with a fake model standing in for
Whisper) on the sample events of ``events/``.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from callsight.auth.tokens import Role
from callsight.models.call import CallStatus, SourceObject
from callsight.models.consent import ConsentEntry, ConsentState, OptOutPolicy
from callsight.stages.ingest.call_id import derive_call_id
from callsight.stages.ingest.service import IngestService
from callsight.storage.audit_log import AuditLog
from callsight.storage.consent_registry import ConsentRegistry
from callsight.storage.policy_store import PolicyStore
from callsight.sweeps.consent import ConsentService
from callsight.sweeps.holds import LegalHolds
from chalice.test import Client

from tests.audio_factory import pcm_wav
from tests.conftest import load_event
from tests.integration.conftest import Stack
from tests.integration.test_api import bearer, get
from tests.integration.test_compliance import ADMIN, everything, make_call
from tests.integration.test_erasure import number_forms
from tests.integration.test_observability import function_logs  # noqa: F401 (fixture)

NUMBER = "+79031234567"


@pytest.fixture
def client(env: Stack) -> Iterator[Client]:
    from tests.integration.test_api import api_module

    with Client(api_module().app) as test_client:
        yield test_client


def send(
    client: Client, method: str, path: str, headers: dict[str, str], body: Any = None
) -> tuple[int, Any]:
    response = getattr(client.http, method)(
        path,
        headers=headers | {"Content-Type": "application/json"},
        body=json.dumps(body) if body is not None else b"",
    )
    return response.status_code, json.loads(response.body or b"null")


def ingest_module() -> Any:
    from tests.faults.harness import function_module

    return function_module("ingest")


def deliver(env: Stack, obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The ingest function's per-record step on the sample event naming ``obj``: its outcomes."""
    env.clear_ingest_queue()
    record = ingest_module().SQSRecord(env.event_for(obj)["Records"][0])
    outcomes: list[dict[str, Any]] = ingest_module().record_handler(record)
    return outcomes


def versions(env: Stack, key: str) -> list[str]:
    listing = env.s3.list_object_versions(Bucket=env.bucket, Prefix=key)
    return [
        v["Key"] for v in [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])] if v["Key"] == key
    ]


def receipts(env: Stack, call_id: str) -> list[Any]:
    return [e for e in AuditLog(env.settings).for_target(f"call:{call_id}") if e.action == "consent.opt_out"]


def call_id_of(env: Stack, obj: dict[str, Any]) -> str:
    return derive_call_id(env.bucket, obj["key"], obj["version_id"], obj["etag"])


def subject(env: Stack, phone: str = NUMBER) -> str:
    return ConsentService(env.settings).subject(phone).phone_hash


# --- admin routes -----------------------------------------------------------------------------------


def test_admins_add_list_and_remove_entries_audited_and_never_see_the_number(
    env: Stack, client: Client
) -> None:
    admin = bearer(env, Role.ADMIN)
    # When an admin lists a number (the sample request of events/api), then again in its national
    # spelling from another source
    sample = load_event("api/consent_add.json")
    method, path, body = sample["httpMethod"].lower(), sample["path"], json.loads(sample["body"])
    status, first = send(client, method, path, admin, body)
    assert status == 200, first
    assert first["previous_state"] is None and first["entry"]["phone_masked"] == "+7903*****67"
    assert first["entry"]["source"] == "crm"
    status, again = send(
        client,
        "post",
        "/consent",
        admin,
        {"phone": "8 (903) 123-45-67", "state": "opted_out", "source": "ivr"},
    )

    # Then the second add updated the one entry (idempotent): same hash, new source and time
    assert status == 200 and again["previous_state"] == "opted_out"
    assert again["entry"]["phone_hash"] == first["entry"]["phone_hash"] == subject(env)
    assert again["entry"]["source"] == "ivr" and again["entry"]["set_at"] >= first["entry"]["set_at"]
    status, page = get(client, "/consent", admin)
    assert status == 200 and [e["source"] for e in page["items"]] == ["ivr"] and page["next_cursor"] is None
    assert all(form not in json.dumps([first, again, page]) for form in number_forms(NUMBER)[:4])

    # And removing it works once; a second removal (or of an unknown number) is a 404
    assert send(client, "delete", "/consent", admin, {"phone_hash": subject(env)}) == (
        200, {"phone_hash": subject(env), "removed_state": "opted_out", "fence_lifted": False},
    )  # fmt: skip
    status, missing = send(client, "delete", "/consent", admin, {"phone": NUMBER})
    assert status == 404 and missing["error"] == "not_found"
    assert get(client, "/consent", admin)[1]["items"] == []

    actions = [
        (e.action, e.outcome, e.actor) for e in AuditLog(env.settings).for_target(f"subject:{subject(env)}")
    ]
    assert actions == [
        ("consent.add", "ok", "admin-user"), ("consent.add", "ok", "admin-user"),
        ("consent.remove", "ok", "admin-user"), ("consent.remove", "not_found", "admin-user"),
    ]  # fmt: skip
    assert [e.action for e in AuditLog(env.settings).for_target("consent")] == [
        "consent.list",
        "consent.list",
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"phone": "12", "state": "opted_out"}, "too short"),
        ({"phone": "+7 903", "state": "opted_out"}, "too short"),
        ({"phone": "banana", "state": "opted_out"}, "no digits"),
        ({"phone": "+999 123 456 789", "state": "opted_out"}, "unknown country code"),
        ({"phone": "84955551234", "state": "opted_out"}, "ambiguous"),
        ({"phone": NUMBER, "state": "unsubscribed"}, "'opted_out' or 'consent_revoked'"),
        ({"phone": NUMBER}, "state: Field required"),
        ({"phone": NUMBER, "state": "opted_out", "source": "crm; drop"}, "source"),
        ({"phone": NUMBER, "state": "opted_out", "expires_at": "2020-01-01"}, "must be in the future"),
    ],
)
def test_bad_entries_are_400_naming_the_problem_and_store_nothing(
    env: Stack, client: Client, body: dict[str, Any], message: str
) -> None:
    status, answer = send(client, "post", "/consent", bearer(env, Role.ADMIN), body)
    assert status == 400 and message in answer["message"], answer
    if len(body.get("phone", "")) > 4:
        assert body["phone"] not in answer["message"]  # the number is not echoed back
    assert ConsentRegistry(env.settings).page(10) == ([], None)


def test_bad_removals_and_listings_are_400(env: Stack, client: Client) -> None:
    admin = bearer(env, Role.ADMIN)
    assert send(client, "delete", "/consent", admin, {})[0] == 400  # neither phone nor hash
    assert send(client, "delete", "/consent", admin, {"phone": NUMBER, "phone_hash": "a" * 64})[0] == 400
    assert send(client, "delete", "/consent", admin, {"phone_hash": "not-a-hash"})[0] == 400
    assert send(client, "delete", "/consent", admin)[0] == 400  # no body
    assert get(client, "/consent?state=unsubscribed", admin)[0] == 400
    assert get(client, "/consent?limit=1000", admin)[0] == 400
    assert get(client, "/consent?cursor=" + "f" * 64, admin) == (200, {"items": [], "next_cursor": None})
    far = {"phone": NUMBER, "state": "opted_out", "expires_at": "9999-12-31T23:59:59Z"}
    assert send(client, "post", "/consent", admin, far)[0] == 400


@pytest.mark.parametrize("role", [Role.QA, Role.AGENT, Role.CRM])
def test_every_other_role_is_refused_and_the_attempt_audited(env: Stack, client: Client, role: Role) -> None:
    scopes: dict[Role, dict[str, Any]] = {Role.QA: {"teams": ["sales-ru"]}, Role.AGENT: {"agent_id": "204"}}
    extra = scopes.get(role, {})
    headers = bearer(env, role, **extra)
    assert send(client, "post", "/consent", headers, {"phone": NUMBER, "state": "opted_out"})[0] == 403
    assert send(client, "delete", "/consent", headers, {"phone": NUMBER})[0] == 403
    assert get(client, "/consent", headers)[0] == 403
    assert get(client, "/consent", {})[0] == 401
    denied = [(e.action, e.outcome, e.role) for e in AuditLog(env.settings).for_target("consent")]
    assert sorted(denied) == sorted(
        [
            ("consent.add", "denied", role.value),
            ("consent.remove", "denied", role.value),
            ("consent.list", "denied", role.value),
        ]
    )
    assert ConsentRegistry(env.settings).page(10) == ([], None)


def test_listing_pages_through_every_entry_once_and_filters_by_state(env: Stack, client: Client) -> None:
    admin = bearer(env, Role.ADMIN)
    numbers = [f"+7903123450{i}" for i in range(5)]
    for i, number in enumerate(numbers):
        state = "consent_revoked" if i % 2 else "opted_out"
        assert send(client, "post", "/consent", admin, {"phone": number, "state": state})[0] == 200
    seen: list[str] = []
    cursor: str | None = None
    while True:
        status, page = get(client, "/consent?limit=2" + (f"&cursor={cursor}" if cursor else ""), admin)
        assert status == 200 and len(page["items"]) <= 2
        seen += [e["phone_hash"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(subject(env, n) for n in numbers) and len(set(seen)) == 5
    status, revoked = get(client, "/consent?state=consent_revoked", admin)
    assert {e["phone_masked"] for e in revoked["items"]} == {"+7903*****01", "+7903*****03"}


# --- ingest: opted-out numbers ----------------------------------------------------------------------


def test_an_opted_out_recording_is_deleted_with_one_receipt_even_when_delivered_again(env: Stack) -> None:
    # Given a number on the stop list and an earlier recording of someone else
    ConsentService(env.settings).add(NUMBER, ConsentState.OPTED_OUT, "crm", ADMIN)
    other = env.ingest("in-204-+79161234567-20261120-110000-1.1.wav", pcm_wav(seconds=1))
    env.transcribe_requests()

    # When the PBX uploads a call of that number (and its sidecar) and S3 announces the recording
    env.put("in-204-+79031234567-20261120-113000-2.1.wav.json", json.dumps({"agent_id": "204"}).encode())
    obj = env.put("in-204-+79031234567-20261120-113000-2.1.wav", pcm_wav(seconds=1))
    [outcome] = deliver(env, obj)

    # Then it is not recorded or transcribed; recording and sidecar are gone; one receipt says so
    call_id = call_id_of(env, obj)
    assert (
        outcome["kind"] == "opted_out"
        and outcome["call_id"] == call_id
        and "9031234567" not in json.dumps(outcome)
    )
    assert [c.call_id for c in env.all_calls()] == [other.call_id] and env.transcribe_requests() == []
    assert versions(env, obj["key"]) == [] and versions(env, obj["key"] + ".json") == []
    [receipt] = receipts(env, call_id)
    assert receipt.outcome == "deleted" and receipt.details["subject"] == subject(env)
    assert receipt.details["object_versions"] == 2 and receipt.details["policy"] == "delete"
    assert "9031234567" not in receipt.model_dump_json()

    # When S3 delivers the event again: through the handler (idempotency), and once the idempotency
    # record is gone (after its TTL), straight through the ingest rules
    assert env.invoke(env.event_for(obj)) == {"batchItemFailures": []}
    source = SourceObject(bucket=env.bucket, key=obj["key"], version_id=obj["version_id"], etag=obj["etag"])
    again = IngestService(env.settings).ingest_recording(source)

    # Then nothing new is recorded and there is still exactly one receipt
    assert again.kind.value == "opted_out" and "before" in (again.detail or "")
    assert [c.call_id for c in env.all_calls()] == [other.call_id]
    assert len(receipts(env, call_id)) == 1


def test_keep_policy_keeps_the_recording_quarantined_and_untranscribed(
    env: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module().service, "opt_out_policy", OptOutPolicy.KEEP)
    ConsentService(env.settings).add(NUMBER, ConsentState.OPTED_OUT, "ivr", ADMIN)
    obj = env.put("in-204-89031234567-20261120-113000-3.1.wav", pcm_wav(seconds=1))
    [outcome] = deliver(env, obj)

    assert outcome["kind"] == "opted_out"
    [call] = env.all_calls()
    assert call.status is CallStatus.QUARANTINED and call.status_reason == "opted_out"
    assert call.customer_phone_masked == "+7903*****67" and call.expires_at is not None  # retention applies
    assert env.transcribe_requests() == [] and versions(env, obj["key"]) == [obj["key"]]
    assert [r.outcome for r in receipts(env, call.call_id)] == ["kept"]
    # a redelivery: the handler's idempotency answers it, the rules see a duplicate; no second receipt
    assert [o["kind"] for o in deliver(env, obj)] == ["opted_out"]
    source = SourceObject(bucket=env.bucket, key=obj["key"], version_id=obj["version_id"], etag=obj["etag"])
    assert ingest_module().service.ingest_recording(source).kind.value == "duplicate"
    assert len(receipts(env, call.call_id)) == 1 and env.transcribe_requests() == []


def test_a_legal_hold_keeps_an_opted_out_recording_instead_of_deleting_it(env: Stack) -> None:
    ConsentService(env.settings).add(NUMBER, ConsentState.OPTED_OUT, "crm", ADMIN)
    LegalHolds(env.settings).hold_subject(NUMBER, ADMIN, reason="regulator inquiry")
    obj = env.put("in-204-+79031234567-20261120-113000-4.1.wav", pcm_wav(seconds=1))
    assert [o["kind"] for o in deliver(env, obj)] == ["opted_out"]
    [call] = env.all_calls()
    assert call.status_reason == "opted_out" and versions(env, obj["key"]) == [obj["key"]]


def test_calls_without_a_caller_number_pass_and_are_counted(
    env: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    ConsentService(env.settings).add(NUMBER, ConsentState.OPTED_OUT, "crm", ADMIN)
    capsys.readouterr()
    # a name the PBX pattern does not match and no sidecar: no number to check
    anonymous = env.put("exten-203-20261120-120000-5.1.wav", pcm_wav(seconds=1))
    assert env.invoke(env.event_for(anonymous)) == {"batchItemFailures": []}
    known = env.put("in-204-+79161234567-20261120-120000-6.1.wav", pcm_wav(seconds=1))
    [outcome] = deliver(env, known)

    calls = {c.source.key: c for c in env.all_calls()}
    assert (
        calls[anonymous["key"]].status is CallStatus.RECEIVED
        and calls[anonymous["key"]].customer_phone_hash is None
    )
    assert outcome["kind"] == "received" and outcome["caller_number"] is True
    metrics = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')
    ]
    counted = [m for m in metrics if "Ingest_no_caller_number" in m]
    assert len(counted) == 1 and counted[0]["Ingest_no_caller_number"] == [1.0]
    assert len(env.transcribe_requests()) == 2


def test_a_sidecar_arriving_after_the_audio_stops_the_call_it_shows_to_be_opted_out(
    env: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.faults.harness import FakeTranscriber, use_fake_transcriber

    ConsentService(env.settings).add(NUMBER, ConsentState.OPTED_OUT, "crm", ADMIN)
    # Given two recordings without a number in their names, ingested and queued for transcription
    first = env.ingest("exten-203-20261120-120000-7.1.wav", pcm_wav(seconds=1))
    env.transcribe_requests()  # (its message would find no call once it is deleted: not part of this test)
    second = env.ingest("exten-203-20261120-120000-8.1.wav", pcm_wav(seconds=1))
    assert first.status is CallStatus.RECEIVED and first.customer_phone_hash is None

    # When the first one's sidecar arrives late, naming the opted-out number (policy delete)
    sidecar = {"agent_id": "203", "customer_phone": "+7 903 123 45 67", "direction": "inbound"}
    late = env.put("exten-203-20261120-120000-7.1.wav.json", json.dumps(sidecar).encode())
    [outcome] = deliver(env, late)

    # Then the call and everything it left are deleted through the deleter, with a receipt
    assert outcome["kind"] == "opted_out" and "deleted" in outcome["detail"]
    assert env.calls.get(first.call_id) is None
    assert versions(env, first.source.key) == [] and versions(env, late["key"]) == []
    assert [r.outcome for r in receipts(env, first.call_id)] == ["deleted"]
    actions = [e.action for e in AuditLog(env.settings).for_target(f"call:{first.call_id}")]
    assert actions == ["opt_out.delete", "consent.opt_out"]  # the deleter's receipt, then ingest's

    # And with policy keep, the second call's late sidecar quarantines it before transcription
    monkeypatch.setattr(ingest_module().service, "opt_out_policy", OptOutPolicy.KEEP)
    [kept] = deliver(env, env.put("exten-203-20261120-120000-8.1.wav.json", json.dumps(sidecar).encode()))
    assert kept["kind"] == "opted_out"
    stopped = env.calls.get(second.call_id)
    assert (
        stopped is not None
        and stopped.status is CallStatus.QUARANTINED
        and stopped.status_reason == "opted_out"
    )
    # the transcriber's message for it is dropped as stale: nothing transcribed
    fake = use_fake_transcriber(monkeypatch, FakeTranscriber())
    assert env.runner(stages=("transcribe",)).drain(max_seconds=60)
    assert fake.calls == [] and env.drain_queue("analyze") == []


def test_a_late_sidecar_of_a_held_customer_leaves_a_call_under_way_alone(env: Stack) -> None:
    ConsentService(env.settings).add(NUMBER, ConsentState.OPTED_OUT, "crm", ADMIN)
    LegalHolds(env.settings).hold_subject(NUMBER, ADMIN, reason="court order")
    call = env.ingest("exten-203-20261120-120000-21.1.wav", pcm_wav(seconds=1))
    env.calls.transition(call.call_id, CallStatus.TRANSCRIBING)  # the transcriber has it
    sidecar = {"customer_phone": NUMBER}
    [outcome] = deliver(env, env.put("exten-203-20261120-120000-21.1.wav.json", json.dumps(sidecar).encode()))
    assert outcome["kind"] == "opted_out" and "held" in outcome["detail"]
    kept = env.calls.get(call.call_id)
    assert (
        kept is not None
        and kept.status is CallStatus.TRANSCRIBING
        and kept.customer_phone_hash == subject(env)
    )
    assert [r.outcome for r in receipts(env, call.call_id)] == ["held"]


def test_a_sidecar_uploaded_before_its_recording_stops_it_at_ingest(env: Stack) -> None:
    ConsentService(env.settings).add(NUMBER, ConsentState.OPTED_OUT, "crm", ADMIN)
    sidecar = env.put(
        "exten-203-20261120-120000-9.1.json", json.dumps({"customer_phone": "89031234567"}).encode()
    )
    assert [o["kind"] for o in deliver(env, sidecar)] == ["sidecar_waiting"]
    obj = env.put("exten-203-20261120-120000-9.1.wav", pcm_wav(seconds=1))
    assert [o["kind"] for o in deliver(env, obj)] == ["opted_out"]
    assert env.all_calls() == [] and versions(env, sidecar["key"]) == [] and versions(env, obj["key"]) == []


def test_removing_an_opted_out_entry_lets_later_calls_through(env: Stack, client: Client) -> None:
    admin = bearer(env, Role.ADMIN)
    send(client, "post", "/consent", admin, {"phone": NUMBER, "state": "opted_out"})
    assert [
        o["kind"]
        for o in deliver(env, env.put("in-204-+79031234567-20261121-100000-10.1.wav", pcm_wav(seconds=1)))
    ] == ["opted_out"]
    assert send(client, "delete", "/consent", admin, {"phone": "+7 903 123-45-67"})[0] == 200
    assert [
        o["kind"]
        for o in deliver(env, env.put("in-204-+79031234567-20261121-110000-11.1.wav", pcm_wav(seconds=1)))
    ] == ["received"]


def test_an_expired_entry_no_longer_applies(env: Stack) -> None:
    expired = ConsentService(env.settings).subject(NUMBER)
    ConsentRegistry(env.settings).put(ConsentEntry(
        phone_hash=expired.phone_hash, state=ConsentState.OPTED_OUT, source="crm", set_at=datetime.now(UTC),
        set_by="t", phone_masked=expired.masked, expires_at=datetime.now(UTC) - timedelta(seconds=1),
    ))  # fmt: skip
    assert [
        o["kind"]
        for o in deliver(env, env.put("in-204-+79031234567-20261121-100000-12.1.wav", pcm_wav(seconds=1)))
    ] == ["received"]
    # a tombstone with an expiry lapses too
    store = PolicyStore(env.settings)
    store.set_subject_erased("h" * 64, "t", until=datetime.now(UTC) - timedelta(seconds=1))
    store.set_subject_erased("g" * 64, "t", until=datetime.now(UTC) + timedelta(days=1))
    assert store.subject_erased("h" * 64) is None and store.subject_erased("g" * 64) == "g" * 64


# --- consent revoked --------------------------------------------------------------------------------


def test_consent_revoked_erases_past_calls_fences_later_ones_and_removal_lifts_the_fence(
    env: Stack, client: Client
) -> None:
    admin = bearer(env, Role.ADMIN)
    # Given a subject with an analysed call, and another customer's call
    past = make_call(env, NUMBER, days_ago=3, secret="revoke1")
    other = make_call(env, "+79161234567", days_ago=3, secret="keepme")

    # When an admin records that the subject revoked consent (from the CRM)
    status, change = send(
        client, "post", "/consent", admin, {"phone": NUMBER, "state": "consent_revoked", "source": "crm"}
    )

    # Then the subject's calls were erased by the erasure flow and the answer carries its report
    assert status == 200 and [(o["call_id"], o["result"]) for o in change["erasure"]["outcomes"]] == [
        (past.call_id, "deleted")
    ]
    remaining = everything(env)
    assert past.call_id not in remaining and "revoke1" not in remaining and other.call_id in remaining
    assert all(form not in remaining for form in number_forms(NUMBER)[:5])  # only the masked form stays
    assert any(
        e.action == "erasure.delete" for e in AuditLog(env.settings).for_target(f"call:{past.call_id}")
    )

    # And a later upload of the subject is fenced (deleted, audited), not recorded
    later = env.put("in-204-89031234567-20261122-100000-13.1.wav", pcm_wav(seconds=1))
    assert [o["kind"] for o in deliver(env, later)] == ["fenced"] and versions(env, later["key"]) == []

    # When the entry is removed, then later uploads are recorded again; the erasure stays done
    status, removal = send(client, "delete", "/consent", admin, {"phone": NUMBER})
    assert status == 200 and removal == {
        "phone_hash": subject(env),
        "removed_state": "consent_revoked",
        "fence_lifted": True,
    }
    again = env.put("in-204-89031234567-20261123-100000-14.1.wav", pcm_wav(seconds=1))
    assert [o["kind"] for o in deliver(env, again)] == ["received"]
    assert env.calls.get(past.call_id) is None


def test_the_registry_fences_a_revoked_subject_even_if_the_erasure_never_ran(env: Stack) -> None:
    # An entry written, then the erasure killed before its tombstones: ingest fences by the entry
    revoked = ConsentService(env.settings).subject(NUMBER)
    ConsentRegistry(env.settings).put(ConsentEntry(
        phone_hash=revoked.phone_hash, state=ConsentState.CONSENT_REVOKED, source="crm",
        set_at=datetime.now(UTC), set_by="t", phone_masked=revoked.masked,
    ))  # fmt: skip
    [outcome] = deliver(env, env.put("in-204-+79031234567-20261121-100000-15.1.wav", pcm_wav(seconds=1)))
    assert outcome["kind"] == "fenced" and outcome["reason"] == "consent_revoked" and env.all_calls() == []


def test_turning_revoked_into_opted_out_lifts_the_fence_and_stops_calls_as_opted_out(env: Stack) -> None:
    service = ConsentService(env.settings)
    service.add(NUMBER, ConsentState.CONSENT_REVOKED, "crm", ADMIN)
    change = service.add(NUMBER, ConsentState.OPTED_OUT, "crm", ADMIN)
    assert change.fence_lifted and change.previous_state is ConsentState.CONSENT_REVOKED
    assert PolicyStore(env.settings).subject_erased(subject(env)) is None
    assert [
        o["kind"]
        for o in deliver(env, env.put("in-204-+79031234567-20261121-100000-16.1.wav", pcm_wav(seconds=1)))
    ] == ["opted_out"]


def test_consent_revoked_while_a_call_is_transcribed_discards_the_transcript(
    env: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.faults.harness import FakeTranscriber, use_fake_transcriber

    call = env.ingest("in-204-+79031234567-20261120-113000-17.1.wav", pcm_wav(seconds=1))

    def revoke_meanwhile(call_id: str) -> None:
        ConsentService(env.settings).add(NUMBER, ConsentState.CONSENT_REVOKED, "ivr", ADMIN)

    use_fake_transcriber(monkeypatch, FakeTranscriber(before=revoke_meanwhile))
    assert env.runner(stages=("transcribe",)).drain(max_seconds=60)
    remaining = everything(env)
    assert f"transcripts/{call.call_id}/" not in remaining and env.calls.get(call.call_id) is None
    assert env.drain_queue("analyze") == []


# --- CLI and logs -----------------------------------------------------------------------------------


def test_the_cli_adds_lists_and_removes_entries(env: Stack) -> None:
    from callsight.cli import app
    from typer.testing import CliRunner

    cli = CliRunner(env={"COLUMNS": "300"})  # error boxes on one line
    added = cli.invoke(
        app,
        [
            "consent",
            "add",
            "--phone",
            "8 903 123 45 67",
            "--state",
            "opted_out",
            "--source",
            "crm",
            "--actor",
            "dpo",
        ],
    )
    assert added.exit_code == 0, added.output
    assert "+7903*****67 opted_out" in added.output and subject(env) in added.output
    listed = cli.invoke(app, ["consent", "list"])
    assert listed.exit_code == 0 and "+7903*****67" in listed.output and "crm" in listed.output
    assert all(form not in added.output + listed.output for form in number_forms(NUMBER)[:4])
    bad_state = cli.invoke(app, ["consent", "add", "--phone", NUMBER, "--state", "nope"])
    assert bad_state.exit_code == 2 and "opted_out, consent_revoked" in bad_state.output
    bad_phone = cli.invoke(app, ["consent", "add", "--phone", "12", "--state", "opted_out"])
    assert bad_phone.exit_code == 2 and "too short" in bad_phone.output
    removed = cli.invoke(app, ["consent", "remove", "--hash", subject(env), "--actor", "dpo"])
    assert removed.exit_code == 0 and "removed opted_out" in removed.output
    again = cli.invoke(app, ["consent", "remove", "--phone", NUMBER])
    assert again.exit_code == 1 and "no consent registry entry" in again.output
    actors = {e.actor for e in AuditLog(env.settings).for_target(f"subject:{subject(env)}")}
    assert "dpo" in actors


def test_no_log_line_holds_the_number(
    env: Stack,
    client: Client,
    function_logs: Callable[[], io.StringIO],  # noqa: F811 (the imported fixture)
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.INFO)
    logged = function_logs()
    admin = bearer(env, Role.ADMIN)
    send(
        client, "post", "/consent", admin, {"phone": "8 903 123-45-67", "state": "opted_out", "source": "crm"}
    )
    deliver(env, env.put("in-204-+79031234567-20261120-113000-18.1.wav", pcm_wav(seconds=1)))
    monkeypatch.setattr(ingest_module().service, "opt_out_policy", OptOutPolicy.KEEP)
    deliver(env, env.put("in-204-89031234567-20261120-113000-19.1.wav", pcm_wav(seconds=1)))
    send(client, "post", "/consent", admin, {"phone": NUMBER, "state": "consent_revoked", "source": "crm"})
    deliver(env, env.put("in-204-89031234567-20261120-113000-20.1.wav", pcm_wav(seconds=1)))
    send(client, "delete", "/consent", admin, {"phone": NUMBER})
    text = logged.getvalue() + caplog.text
    assert "opted-out number" in text and "consent entry set" in text  # the scan sees the lines
    for form in number_forms(NUMBER):
        at = text.find(form)
        assert at < 0, f"{form!r} logged: ...{text[max(0, at - 200) : at + 50]}"
