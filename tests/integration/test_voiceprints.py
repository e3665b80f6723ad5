"""Per-agent voice prints (issue 20) on the embedded emulator: the admin routes and CLI (opt-in with
consent, show, erase; 403 for other roles, 400 without consent, 404 for no entry; audited; never the
vector), enrollment from an opted-in agent's stereo call, its use on that agent's mono call, erasure,
and the leftover: a transcribe message for a call deleted on purpose is dropped, not dead-lettered.

Real handlers (ingest, transcribe, the API's Chalice app) on the sample events and recordings of
``events/``; the real speaker encoder (resemblyzer, torch CPU) and the real Whisper model run inside
the transcribe handler. Nothing is mocked. The bundled samples share one agent voice between a stereo
and a mono call (espeak en-us+f3, "Sarah"): the print is made from one call and used on another.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from callsight.auth.tokens import Role
from callsight.models.call import CallStatus
from callsight.models.transcript import Speaker, SpeakerAttribution, Transcript
from callsight.models.voiceprint import VoicePrintState
from callsight.storage.audit_log import AuditLog
from callsight.storage.tables import VoicePrintItem
from callsight.storage.transcripts import TranscriptStore
from callsight.storage.voiceprints import VoicePrintStore
from callsight.sweeps.deletion import CallDeleter, DeletionReason
from chalice.test import Client

from tests.conftest import SAMPLES
from tests.integration.conftest import Stack
from tests.integration.test_api import bearer
from tests.integration.test_compliance import ADMIN
from tests.integration.test_observability import emitted_metrics, function_logs, printed_json  # noqa: F401
from tests.integration.test_transcribe_pipeline import PIPELINE, invoke, request_for, transcribe_event

AGENT = "sarah.k"
PATH = f"/agents/{AGENT}/voiceprint"
EN_STEREO_SARAH = "in-202-+14155550123-20261120-113000-1795174200.15.wav"  # agent: espeak en-us+f3, left
EN_MONO_SARAH = "external-15035550188-+12125550199-20261125-163000-1795624200.41.wav"  # same agent voice
EN_STEREO_OTHER = "out-14155550147-201-20261116-151500-1794842100.21.wav"


@pytest.fixture
def client(env: Stack) -> Iterator[Client]:
    from tests.integration.test_api import api_module

    with Client(api_module().app) as test_client:
        yield test_client


def send(
    client: Client, method: str, path: str, headers: dict[str, str], body: Any = None
) -> tuple[int, Any]:
    if body is None:  # no body at all (no Content-Type either)
        response = getattr(client.http, method)(path, headers=headers)
    else:
        response = getattr(client.http, method)(
            path, headers=headers | {"Content-Type": "application/json"}, body=json.dumps(body)
        )
    return response.status_code, json.loads(response.body or b"null")


def audit(env: Stack, agent: str = AGENT) -> list[tuple[str, str, str]]:
    return [(e.action, e.outcome, e.role) for e in AuditLog(env.settings).for_target(f"agent:{agent}")]


def upload_with_agent(env: Stack, sample: str, agent: str, *, as_name: str | None = None) -> str:
    """The sample recording with a sidecar naming its agent (sidecar first, as a PBX writes it)."""
    name = as_name or sample
    env.put(name + ".json", json.dumps({"agent_id": agent}).encode())
    key: str = env.put(name, (SAMPLES / "recordings" / sample).read_bytes())["key"]
    return key


def transcript_of(env: Stack, key: str) -> Transcript:
    [call] = [c for c in env.all_calls() if c.source.key == key]
    assert call.status is CallStatus.TRANSCRIBED, (call.status, call.status_detail)
    assert call.agent_id is not None
    facts = call.transcription
    assert facts is not None
    return TranscriptStore(env.settings).get(facts.transcript_key, facts.transcript_version_id)


# --- the admin routes -------------------------------------------------------------------------------


def test_admin_opts_in_shows_and_erases_and_every_attempt_is_audited(env: Stack, client: Client) -> None:
    admin = bearer(env, Role.ADMIN)
    status, body = send(client, "get", PATH, admin)
    assert status == 404 and "not opted in" in body["message"]

    status, body = send(client, "post", PATH, admin, {"consent_confirmed": True, "note": "form HR-7"})
    assert status == 200, body
    assert body["created"] is True
    entry = body["entry"]
    assert (
        entry["state"] == "opted_in"
        and entry["consented_by"] == "admin-user"
        and entry["note"] == "form HR-7"
    )
    assert entry["enrolled_at"] is None
    again = send(client, "post", PATH, admin, {"consent_confirmed": True})
    assert again[0] == 200 and again[1]["created"] is False  # idempotent; nothing changed

    status, shown = send(client, "get", PATH, admin)
    assert status == 200 and shown["state"] == "opted_in" and shown["consented_at"] == entry["consented_at"]
    assert not {"embedding", "vector"} & set(shown)

    status, removed = send(client, "delete", PATH, admin)
    assert status == 200 and removed == {
        "agent_id": AGENT,
        "removed_state": "opted_in",
        "print_erased": False,
    }
    assert VoicePrintStore(env.settings).get(AGENT, consistent=True) is None
    status, body = send(client, "delete", PATH, admin)
    assert status == 404 and "no voice-print entry" in body["message"]

    assert audit(env) == [
        ("voiceprint.read", "not_found", "admin"),
        ("voiceprint.opt_in", "ok", "admin"),
        ("voiceprint.opt_in", "ok", "admin"),
        ("voiceprint.read", "ok", "admin"),
        ("voiceprint.remove", "ok", "admin"),
        ("voiceprint.remove", "not_found", "admin"),
    ]


@pytest.mark.parametrize("body", [None, {}, {"consent_confirmed": False}, {"note": "verbal"}])
def test_opt_in_without_confirmed_consent_is_refused(env: Stack, client: Client, body: Any) -> None:
    status, answer = send(client, "post", PATH, bearer(env, Role.ADMIN), body)
    assert status == 400 and "consent" in answer["message"] and "consent_confirmed" in answer["message"]
    assert VoicePrintStore(env.settings).get(AGENT, consistent=True) is None
    assert audit(env) == [("voiceprint.opt_in", "refused", "admin")]


def test_bad_bodies_and_agent_ids_get_a_clear_400(env: Stack, client: Client) -> None:
    admin = bearer(env, Role.ADMIN)
    status, answer = send(client, "post", PATH, admin, {"consent_confirmed": True, "vector": [0.1]})
    assert status == 400 and "vector" in answer["message"]
    status, answer = send(client, "get", "/agents/a%20b/voiceprint", admin)
    assert status == 400 and "agent_id" in answer["message"]


@pytest.mark.parametrize("role", [Role.QA, Role.AGENT, Role.CRM])
def test_other_roles_are_refused_and_the_refusal_audited(env: Stack, client: Client, role: Role) -> None:
    headers = (
        bearer(env, role, teams=["sales-ru"], agent_id=AGENT) if role is not Role.CRM else bearer(env, role)
    )
    for method, body in (("post", {"consent_confirmed": True}), ("get", None), ("delete", None)):
        status, answer = send(client, method, PATH, headers, body)
        assert status == 403 and answer["error"] == "forbidden", (method, answer)
    assert VoicePrintStore(env.settings).get(AGENT, consistent=True) is None
    assert sorted(audit(env)) == sorted(
        (action, "denied", role.value)
        for action in ("voiceprint.opt_in", "voiceprint.read", "voiceprint.remove")
    )


def test_missing_token_is_401(client: Client) -> None:
    assert send(client, "get", PATH, {})[0] == 401


def test_the_routes_are_documented(client: Client) -> None:
    document = json.loads(client.http.get("/openapi.json").body)
    operations = document["paths"]["/agents/{agent_id}/voiceprint"]
    assert set(operations) == {"get", "post", "delete"}
    assert all("403" in op["responses"] and "400" in op["responses"] for op in operations.values())
    fields = set(document["components"]["schemas"]["VoicePrintView"]["properties"])
    assert "state" in fields and not {"embedding", "vector"} & fields


def test_the_cli_opts_in_shows_and_removes(env: Stack) -> None:
    from callsight.cli import app
    from typer.testing import CliRunner

    runner = CliRunner()
    refused = runner.invoke(app, ["voiceprint", "opt-in", "--agent", AGENT])
    assert refused.exit_code != 0 and "--consent-confirmed" in refused.output
    done = runner.invoke(
        app, ["voiceprint", "opt-in", "--agent", AGENT, "--consent-confirmed", "--actor", "dpo"]
    )
    assert done.exit_code == 0 and "opted in" in done.output, done.output
    shown = runner.invoke(app, ["voiceprint", "show", "--agent", AGENT])
    assert shown.exit_code == 0 and "opted_in; consent by dpo" in shown.output
    assert runner.invoke(app, ["voiceprint", "remove", "--agent", AGENT]).exit_code == 0
    assert runner.invoke(app, ["voiceprint", "show", "--agent", AGENT]).exit_code == 1
    assert [a for a, _, _ in audit(env)] == [
        "voiceprint.opt_in", "voiceprint.read", "voiceprint.remove", "voiceprint.read"
    ]  # fmt: skip


# --- enrollment and use in the transcriber (real encoder, real Whisper) -------------------------------


def test_an_opted_in_agents_print_names_them_on_a_mono_call_until_erased(
    env: Stack,
    client: Client,
    function_logs: Callable[[], io.StringIO],  # noqa: F811
) -> None:
    admin = bearer(env, Role.ADMIN)
    assert send(client, "post", PATH, admin, {"consent_confirmed": True})[0] == 200
    runner = env.runner(stages=PIPELINE)
    logged = function_logs()

    # Given the agent's stereo call: the transcriber enrolls a print from the agent channel
    stereo_key = upload_with_agent(env, EN_STEREO_SARAH, AGENT)
    assert runner.drain(max_seconds=300)
    stereo = transcript_of(env, stereo_key)
    status, shown = send(client, "get", PATH, admin)
    assert status == 200 and shown["state"] == "enrolled", shown
    assert shown["source_call_id"] == stereo.call_id and shown["encoder"].startswith("resemblyzer")
    assert shown["speech_s"] > 5 and not {"embedding", "vector"} & set(shown)
    item = VoicePrintItem.get(AGENT, consistent_read=True)
    assert item.embedding is not None and len(bytes(item.embedding)) == 512  # 256 x float16
    assert ("voiceprint.enroll", "ok", "system") in audit(env)

    # When a mono call of the same agent (another call, same voice) is transcribed
    mono_key = upload_with_agent(env, EN_MONO_SARAH, AGENT)
    assert runner.drain(max_seconds=300)
    mono = transcript_of(env, mono_key)

    # Then the print named the agent, and the transcript says so with the similarities
    info = mono.diarization
    assert mono.speaker_attribution is SpeakerAttribution.VOICE and info is not None
    assert info.outcome == "separated" and info.agent_chosen_by == "voice_print", info
    assert info.voice_print_similarity is not None
    agent_sim, other_sim = info.voice_print_similarity
    assert info.voice_print_min_similarity is not None and info.voice_print_min_margin is not None
    assert (
        agent_sim >= info.voice_print_min_similarity and agent_sim - other_sim >= info.voice_print_min_margin
    )
    assert info.voice_print_agrees_with_phrases is True  # the sample's agent also greets
    assert mono.turns[0].speaker is Speaker.AGENT  # "Callsight Electronics, Sarah speaking."
    assert "enrolled voice print" in mono.speaker_note
    assert not any(isinstance(v, list) and len(v) > 2 for v in info.model_dump().values())  # no vector

    # When the admin erases the print, a later mono call of the agent falls back to the phrases
    assert send(client, "delete", PATH, admin)[1]["print_erased"] is True
    assert VoicePrintStore(env.settings).get(AGENT, consistent=True) is None
    again_key = upload_with_agent(
        env,
        EN_MONO_SARAH,
        AGENT,
        as_name="external-15035550188-+12125550199-20261126-163000-1795624300.42.wav",
    )
    assert runner.drain(max_seconds=300)
    again = transcript_of(env, again_key)
    assert again.diarization is not None and again.diarization.agent_chosen_by == "phrases"
    assert again.diarization.voice_print_similarity is None
    assert again.turns[0].speaker is Speaker.AGENT

    # The vector never reached a log line
    text = logged.getvalue()
    assert "agent voice print enrolled" in text
    assert "embedding" not in text and f"{item.embedding!r}"[:40] not in text


def test_an_agent_not_opted_in_never_gets_a_print(env: Stack) -> None:
    runner = env.runner(stages=PIPELINE)
    key = upload_with_agent(env, EN_STEREO_SARAH, "not.opted")
    assert runner.drain(max_seconds=300)
    transcript_of(env, key)
    assert VoicePrintStore(env.settings).get("not.opted", consistent=True) is None
    assert audit(env, "not.opted") == []  # no enrollment attempted


def test_a_withdrawal_during_transcription_wins_over_the_enrollment(env: Stack) -> None:
    # The store's conditional write: a print is only stored while the agent is still opted in.
    from callsight.models.voiceprint import EMBEDDING_DIM
    from callsight.sweeps.voiceprints import VoicePrintService

    service = VoicePrintService(env.settings)
    service.opt_in(AGENT, ADMIN)
    service.remove(AGENT, ADMIN)
    assert (
        service.enroll(AGENT, [1.0] * EMBEDDING_DIM, encoder="resemblyzer-x", call_id="c1", speech_s=9)
        is False
    )
    assert VoicePrintStore(env.settings).get(AGENT, consistent=True) is None
    assert audit(env)[-1] == ("voiceprint.enroll", "skipped", "system")
    service.opt_in(AGENT, ADMIN)
    assert service.enroll(AGENT, [1.0] * EMBEDDING_DIM, encoder="resemblyzer-x", call_id="c1", speech_s=9)
    entry = VoicePrintStore(env.settings).get(AGENT, consistent=True)
    assert entry is not None and entry.state is VoicePrintState.ENROLLED
    # an enrolled print is not refreshed by later calls
    assert service.wants_enrollment(AGENT) is False


# --- the leftover: a message for a call deleted before transcription --------------------------------


def test_a_message_for_a_call_deleted_before_transcription_is_dropped_not_dead_lettered(
    env: Stack,
    capsys: pytest.CaptureFixture[str],
    function_logs: Callable[[], io.StringIO],  # noqa: F811
) -> None:
    call = env.ingest(EN_STEREO_OTHER, (SAMPLES / "recordings" / EN_STEREO_OTHER).read_bytes())
    runner = env.runner(visibility_timeout_s=0, stages=PIPELINE)
    logged = function_logs()
    # Given the call is erased while its transcribe message waits in the queue
    deleted = CallDeleter(env.settings).delete(call.call_id, DeletionReason.ERASURE, ADMIN)
    assert deleted.result.value == "deleted" and env.calls.get(call.call_id) is None
    capsys.readouterr()
    # When the transcribe function receives it
    assert runner.drain(max_seconds=60)
    # Then it is acknowledged: nothing in the DLQ, no call brought back, one log line and one metric
    assert env.drain_queue("transcribe-dlq") == []
    assert env.drain_queue("transcribe") == []
    assert env.calls.get(call.call_id) is None
    metrics = emitted_metrics(printed_json(capsys.readouterr().out))
    assert metrics["Transcribe_call_deleted"]["values"] == [1.0]
    logs = [line for line in printed_json(logged.getvalue()) if line.get("service") == "transcribe"]
    [line] = [
        e
        for e in logs
        if e.get("message") == "transcribe message for a call deleted before transcription dropped"
    ]
    assert line["deleted_by"] == "erasure.delete" and line["call_id"] == call.call_id

    # A message naming a call that never existed still fails (a bug, not a deletion): the queue retries it
    unknown = transcribe_event(request_for(call).model_copy(update={"call_id": "never-existed"}))
    failures = invoke(env, unknown)["batchItemFailures"]
    assert [f["itemIdentifier"] for f in failures] == [unknown["Records"][0]["messageId"]]
