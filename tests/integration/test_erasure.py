"""Erasure by subject (issue 15): every spelling of the number finds the calls, an interrupted
erasure is finished by a rerun, previews are exact and audited, later messages of an erased subject
are fenced, and afterwards no trace of the number is left anywhere (objects, tables, logs)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from callsight.auth.tokens import Role
from callsight.models.call import CallStatus
from callsight.storage.artefacts import CallArtefacts
from callsight.storage.audit_log import AuditLog
from callsight.sweeps.deletion import DeletionResult
from callsight.sweeps.erasure import InvalidPhone, SubjectErasure
from callsight.sweeps.holds import LegalHolds
from chalice.test import Client

from tests.audio_factory import pcm_wav
from tests.integration.conftest import Stack
from tests.integration.test_api import bearer, get
from tests.integration.test_compliance import ADMIN, everything, make_call
from tests.integration.test_observability import function_logs  # noqa: F401 (fixture)


@pytest.fixture
def client(env: Stack) -> Any:
    from tests.integration.test_api import api_module

    with Client(api_module().app) as test_client:
        yield test_client


def _post(client: Client, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
    response = client.http.post(
        path, headers=headers | {"Content-Type": "application/json"}, body=json.dumps(body)
    )
    return response.status_code, json.loads(response.body or b"null")


# --- item 3: an interrupted erasure ----------------------------------------------------------------


def test_an_erasure_killed_after_its_claim_is_finished_by_a_rerun_and_the_call_is_never_served(
    env: Stack, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an erasure killed right after it claimed the call (DELETED, lease held)
    call = make_call(env, "+79031234567", days_ago=5, secret="resume1")

    def killed(self: Any, record: Any) -> Any:
        raise RuntimeError("Lambda timed out")

    monkeypatch.setattr(CallArtefacts, "delete_all", killed)
    with pytest.raises(RuntimeError):
        SubjectErasure(env.settings).erase("+79031234567", ADMIN)
    monkeypatch.undo()
    half = env.calls.get(call.call_id)
    assert half is not None and half.status is CallStatus.DELETED

    # Then the API serves it on no route
    admin = bearer(env, Role.ADMIN)
    assert get(client, f"/calls/{call.call_id}", admin)[0] == 404
    assert get(client, f"/calls/{call.call_id}/transcript", admin)[0] == 404
    assert get(client, f"/calls/{call.call_id}/audio", admin)[0] == 404
    assert call.call_id not in json.dumps(get(client, "/calls", admin)[1])
    assert call.call_id not in json.dumps(get(client, "/search?q=телефон", admin)[1])
    assert call.call_id not in json.dumps(get(client, "/feed", bearer(env, Role.CRM))[1])

    # When the erasure is run again at once (the killed run's lease has not run out)
    from callsight.cli import app
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["erase", "--phone", "+79031234567"])

    # Then it finishes the deletion and says so
    assert result.exit_code == 0, result.output
    assert "deleted" in result.output and "another sweep" not in result.output
    assert call.call_id not in everything(env) and "resume1" not in everything(env)
    requests = [
        e for e in AuditLog(env.settings).for_target(f"subject:{SubjectErasure(env.settings).subject_hash('+79031234567')}")
        if e.action == "erasure.request"
    ]  # fmt: skip
    assert requests[-1].outcome == "ok" and requests[-1].details["deleted"] == 1
    receipts = [
        e for e in AuditLog(env.settings).for_target(f"call:{call.call_id}") if e.action == "erasure.delete"
    ]
    assert len(receipts) == 1 and receipts[0].details["index_entries"] > 0


# --- item 8: previews are audited and exact ---------------------------------------------------------


def test_an_erasure_preview_is_audited_and_counts_what_the_run_deletes(env: Stack, client: Client) -> None:
    call = make_call(env, "+79031234567", days_ago=5, secret="preview1")
    subject = SubjectErasure(env.settings).subject_hash("+79031234567")

    from callsight.cli import app
    from typer.testing import CliRunner

    cli = CliRunner().invoke(app, ["erase", "--phone", "+79031234567", "--dry-run"])
    assert cli.exit_code == 0, cli.output
    status, api = _post(
        client, "/erasure", bearer(env, Role.ADMIN), {"phone": "+79031234567", "dry_run": True}
    )
    assert status == 200
    [preview] = api["outcomes"]
    assert preview["result"] == DeletionResult.WOULD_DELETE.value
    previews = [
        e for e in AuditLog(env.settings).for_target(f"subject:{subject}") if e.action == "erasure.preview"
    ]
    assert len(previews) == 2 and all(e.details["calls"] == 1 for e in previews)
    assert "9031234567" not in json.dumps([e.model_dump(mode="json") for e in previews])
    assert env.calls.get(call.call_id) is not None  # a preview deletes nothing

    report = SubjectErasure(env.settings).erase("+79031234567", ADMIN)
    [done] = report.outcomes
    assert done.result is DeletionResult.DELETED
    assert (preview["objects"], preview["index_entries"]) == (done.objects, done.index_entries)
    assert done.index_entries > 0


# --- item 2: every spelling of the number finds the calls -------------------------------------------


def test_erasure_by_the_real_number_finds_calls_whose_names_wrote_it_without_a_plus(
    env: Stack, client: Client
) -> None:
    from callsight.phone import phone_lookup_hash
    from callsight.storage.tables import CallItem

    # Given a US number dialled out as the PBX writes it (no +), a number that is Moscow with the
    # trunk 8 or Vietnam (+84) alike, and a call stored by the old code (the digits' hash only)
    us = env.ingest("out-14155550147-201-20261120-113000-1.1.wav", pcm_wav(seconds=1))
    assert us.customer_phone_masked == "+1415*****47"
    ambiguous = env.ingest("out-84955551234-201-20261120-113100-2.1.wav", pcm_wav(seconds=1))
    assert ambiguous.customer_phone_masked == "+7495*****34"  # the PBX's region first
    legacy = env.ingest("out-14155550147-202-20261120-113200-3.1.wav", pcm_wav(seconds=1))
    key = env.settings.phone_hash_key.get_secret_value().encode()
    CallItem.get(legacy.call_id).update(
        actions=[CallItem.customer_phone_hash.set(phone_lookup_hash("14155550147", key)),
                 CallItem.customer_phone_masked.set("141******47")]
    )  # fmt: skip
    other = env.ingest("in-201-+79031234567-20261120-113300-4.1.wav", pcm_wav(seconds=1))

    # When the subject asks with their real E.164 number (API, any spelling), then the CLI
    status, body = _post(client, "/erasure", bearer(env, Role.ADMIN), {"phone": "+1 (415) 555-0147"})
    assert status == 200
    assert {o["call_id"]: o["result"] for o in body["outcomes"]} == {
        us.call_id: "deleted",
        legacy.call_id: "deleted",
    }
    from callsight.cli import app
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["erase", "--phone", "+84955551234"])
    assert result.exit_code == 0, result.output
    assert ambiguous.call_id in result.output and "deleted" in result.output

    # An ambiguous spelling is refused rather than guessed (it could erase someone else)
    with pytest.raises(InvalidPhone, match="ambiguous"):
        SubjectErasure(env.settings).erase("84955551234", ADMIN)

    # Then those calls are gone and the other subject's call is untouched
    remaining = everything(env)
    for call in (us, legacy, ambiguous):
        assert call.call_id not in remaining
    assert other.call_id in remaining


# --- item 6: no raw number in any log line -----------------------------------------------------------


def number_forms(e164: str) -> list[str]:
    """The subject's number as anything might write it: E.164, digits, national, trunk, masked."""
    from callsight.phone import mask_phone

    national = e164[2:]
    return [e164, e164[1:], national, "8" + national, f"{national[:3]} {national[3:6]}", mask_phone(e164)]


def test_ingest_logs_no_customer_number_in_any_format(
    env: Stack,
    function_logs: Callable[[], io.StringIO],  # noqa: F811 (the imported fixture)
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)  # botocore debug lines quote requests; never on in production
    logged = function_logs()
    # received, duplicate delivery, quarantined (not audio), late sidecar, sidecar before recording
    call = env.ingest("in-204-+79031234567-20261120-113000-1.1.wav", pcm_wav(seconds=1))
    env.invoke(env.event_for(env.put("in-204-+79031234567-20261120-113000-1.1.wav", pcm_wav(seconds=1))))
    env.ingest("in-204-89031234567-20261120-113100-2.1.wav", b"<html>not audio</html>")
    sidecar = {"agent_id": "204", "customer_phone": "+7 903 123-45-67"}
    env.invoke(
        env.event_for(
            env.put("in-204-+79031234567-20261120-113000-1.1.wav.json", json.dumps(sidecar).encode())
        )
    )
    early = env.put("in-204-9031234567-20261120-113200-3.1.wav.json", json.dumps(sidecar).encode())
    env.put("in-204-9031234567-20261120-113200-3.1.wav", pcm_wav(seconds=1))
    env.clear_ingest_queue()
    env.invoke(env.event_for(early))

    text = logged.getvalue()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert any(e.get("message") == "recording received" and e.get("call_id") == call.call_id for e in lines)
    assert any(e.get("message") == "recording quarantined" for e in lines)
    assert any(e.get("message", "").startswith("sidecar before its recording") for e in lines)
    text += caplog.text  # anything that reached the root logger (Powertools' own, boto)
    for form in number_forms("+79031234567"):
        assert form not in text, (
            f"{form!r} logged: ...{text[max(0, text.find(form) - 200) : text.find(form) + 50]}"
        )


# --- item 7: messages in flight after an erasure are fenced -------------------------------------------


def test_messages_of_an_erased_subject_arriving_later_are_fenced_and_leave_nothing(env: Stack) -> None:
    # Given a subject whose calls were erased
    call = make_call(env, "+79031234567", days_ago=2, secret="fence1")
    source = call.source
    delivered = {"key": source.key, "etag": source.etag, "version_id": source.version_id, "size": source.size}
    SubjectErasure(env.settings).erase("+79031234567", ADMIN)
    subject = SubjectErasure(env.settings).subject_hash("+79031234567")

    # When the recording's event is delivered again, a sidecar (retry) arrives for it, and the PBX
    # uploads a new call of the subject (national spelling)
    sidecar = {"agent_id": "202", "customer_phone": "+7 903 123-45-67"}
    assert env.invoke(env.event_for(delivered)) == {"batchItemFailures": []}
    late = env.put(
        source.key.removeprefix(env.settings.recordings_prefix) + ".json", json.dumps(sidecar).encode()
    )
    env.clear_ingest_queue()
    assert env.invoke(env.event_for(late)) == {"batchItemFailures": []}
    new = env.put("in-204-89031234567-20261121-100000-7.1.wav", pcm_wav(seconds=1))
    env.clear_ingest_queue()
    assert env.invoke(env.event_for(new)) == {"batchItemFailures": []}

    # Then nothing is recorded or queued, the objects are deleted, and each is audited
    assert env.all_calls() == []
    assert env.transcribe_requests() == []
    remaining = everything(env)
    for form in number_forms("+79031234567"):
        assert form not in remaining, (
            f"{form!r} left: ...{remaining[max(0, remaining.find(form) - 200) : remaining.find(form) + 50]}"
        )
    fenced = [
        e for e in AuditLog(env.settings).for_target(f"subject:{subject}") if e.action == "erasure.fence"
    ]
    assert len(fenced) == 3 and all(e.details["reason"] == "subject_erased" for e in fenced)
    assert "9031234567" not in json.dumps([e.model_dump(mode="json") for e in fenced])


# --- done when: a scan after erasure finds no trace of the subject -------------------------------------


def _analyze(env: Stack, call_id: str, number_said: str) -> None:
    """A fixture transcript in which the customer says the number (no Whisper run), then the real
    analyze handler on the sample SQS event of events/analyze."""
    from callsight.local.runner import LambdaContext, load_handler
    from callsight.storage.transcripts import TranscriptStore

    from tests.analysis_fixtures import build_transcript
    from tests.conftest import load_event

    turns = [
        {"speaker": "agent", "start": 0.0, "end": 2.0, "text": "Hello, how can I help you?"},
        {"speaker": "customer", "start": 2.5, "end": 9.0, "text": f"Call me back on {number_said}, please."},
    ]
    key, version = env.transcribed(call_id, build_transcript(turns, "en", 2, call_id=call_id), versions=2)
    event = load_event("analyze/analyze_request_via_sqs.json")
    body = json.loads(event["Records"][0]["body"])
    body.update(
        call_id=call_id, transcript_bucket=TranscriptStore(env.settings).bucket, transcript_key=key,
        transcript_version_id=version, language="en",
    )  # fmt: skip
    event["Records"][0]["body"] = json.dumps(body)
    event["Records"][0]["messageAttributes"]["call_id"]["stringValue"] = call_id
    handler = load_handler("analyze")
    assert handler is not None
    assert handler(event, LambdaContext(function_name="analyze", timeout_s=60)) == {"batchItemFailures": []}
    analysed = env.calls.get(call_id)
    assert analysed is not None and analysed.status is CallStatus.ANALYZED


def test_after_an_erasure_no_trace_of_the_subject_is_left_in_any_bucket_table_or_log(
    env: Stack,
    function_logs: Callable[[], io.StringIO],  # noqa: F811 (the imported fixture)
    caplog: pytest.LogCaptureFixture,
) -> None:
    from callsight.local.runner import LambdaContext, load_handler

    from tests.conftest import load_event

    caplog.set_level(logging.INFO)
    logged = function_logs()
    # Given the subject's calls as a PBX leaves them: an outbound call named with the number without
    # its +, and a call whose sidecar (uploaded first) gives it in national US spelling with +1
    dialled = env.ingest("out-14155550147-201-20261120-113000-11.1.wav", pcm_wav(seconds=2))
    sidecar = {"agent_id": "203", "customer_phone": "+1 (415) 555-0147", "direction": "inbound"}
    env.put("exten-203-20261120-120000-12.1.wav.json", json.dumps(sidecar).encode())
    env.clear_ingest_queue()
    via_sidecar = env.ingest("exten-203-20261120-120000-12.1.wav", pcm_wav(seconds=2))
    other = env.ingest("in-202-+79031234567-20261120-121000-13.1.wav", pcm_wav(seconds=2))
    env.transcribe_requests()
    for call in (dialled, via_sidecar):
        _analyze(env, call.call_id, "+1 415 555 0147")
    _analyze(env, other.call_id, "+7 903 123 45 67")
    subject_forms = [*number_forms("+14155550147"), "415-555-0147", "(415) 555", "141******47"]
    before = everything(env) + logged.getvalue()
    assert "+1415*****47" in before and dialled.call_id in before  # the scan sees what is there

    # When the real erasure function runs on the sample event of events/erasure (not a dry run),
    # and afterwards the first recording's event is delivered once more
    event = load_event("erasure/erase_subject_dry_run.json") | {"phone": "+1 415 555 0147", "dry_run": False}
    erasure = load_handler("erasure")
    assert erasure is not None
    report = erasure(event, LambdaContext(function_name="erasure", timeout_s=300))
    assert {o["call_id"]: o["result"] for o in report["outcomes"]} == {
        dialled.call_id: "deleted",
        via_sidecar.call_id: "deleted",
    }
    src = dialled.source
    again = {"key": src.key, "etag": src.etag, "version_id": src.version_id, "size": src.size}
    assert env.invoke(env.event_for(again)) == {"batchItemFailures": []}

    # Then no object version, no item (audit log aside) and no log line holds the number in any form
    after = everything(env)
    logs = logged.getvalue() + caplog.text
    for form in subject_forms:
        for where, text in (("storage", after), ("logs", logs)):
            at = text.find(form)
            assert at < 0, f"{form!r} left in {where}: ...{text[max(0, at - 200) : at + 60]}"
    for call in (dialled, via_sidecar):
        assert call.call_id not in after
    assert other.call_id in after and "+7903*****67" in after  # the other customer is untouched


def test_erasure_deletes_a_sidecar_named_after_the_recordings_stem(env: Stack) -> None:
    # Given a recording whose sidecar is named <stem>.json (the second name ingest looks for)
    sidecar = {"agent_id": "203", "customer_phone": "+1 (415) 555-0147", "direction": "inbound"}
    stem_sidecar = env.put("exten-203-20261120-120000-14.1.json", json.dumps(sidecar).encode())
    env.clear_ingest_queue()
    call = env.ingest("exten-203-20261120-120000-14.1.wav", pcm_wav(seconds=1))
    assert call.customer_phone_masked == "+1415*****47"  # the sidecar was read

    # When the subject is erased
    [outcome] = SubjectErasure(env.settings).erase("+14155550147", ADMIN).outcomes

    # Then the sidecar, which holds the number, is gone with every version
    assert outcome.result is DeletionResult.DELETED
    listing = env.s3.list_object_versions(Bucket=env.bucket, Prefix=stem_sidecar["key"])
    assert listing.get("Versions", []) == [] and listing.get("DeleteMarkers", []) == []
    assert "555-0147" not in everything(env)


def test_a_transcription_running_while_its_subject_is_erased_leaves_no_transcript(
    env: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.faults.harness import FakeTranscriber, use_fake_transcriber

    # Given a call being transcribed (the fake stands in for Whisper) when its subject is erased
    call = env.ingest("in-204-+79031234567-20261120-113000-21.1.wav", pcm_wav(seconds=1))
    erased: list[str] = []

    def erase_meanwhile(call_id: str) -> None:
        erased.append(call_id)
        SubjectErasure(env.settings).erase("+79031234567", ADMIN)

    use_fake_transcriber(monkeypatch, FakeTranscriber(before=erase_meanwhile))
    # When the transcriber finishes afterwards
    assert env.runner(stages=("transcribe",)).drain(max_seconds=60)
    # Then its transcript is discarded, not left behind, and no analysis is requested
    assert erased == [call.call_id]
    remaining = everything(env)
    assert f"transcripts/{call.call_id}/" not in remaining and "analysis/" not in remaining
    assert all(form not in remaining for form in number_forms("+79031234567"))
    # (the transcriber's own idempotency record names the call id, no personal data; it expires)
    assert env.drain_queue("analyze") == []


def _outcomes(env: Stack, name: str) -> list[dict[str, Any]]:
    """Upload ``name`` and run the ingest function's per-object step on it; its outcomes."""
    from tests.faults.harness import function_module

    obj = env.put(name, pcm_wav(seconds=1))
    env.clear_ingest_queue()
    record = function_module("ingest").SQSRecord(env.event_for(obj)["Records"][0])
    outcomes: list[dict[str, Any]] = function_module("ingest").record_handler(record)
    return outcomes


def test_a_legal_hold_wins_over_the_fence(env: Stack) -> None:
    # Given an erased subject who is put under legal hold afterwards (a regulator asks)
    SubjectErasure(env.settings).erase("+79031234567", ADMIN)
    fenced = _outcomes(env, "in-204-+79031234567-20261121-100000-31.1.wav")
    assert [o["kind"] for o in fenced] == ["fenced"]
    LegalHolds(env.settings).hold_subject("+79031234567", ADMIN, reason="regulator inquiry")
    # When the PBX uploads another call of theirs, then it is recorded, not deleted
    kept = _outcomes(env, "in-204-+79031234567-20261121-110000-32.1.wav")
    assert [o["kind"] for o in kept] == ["received"]
