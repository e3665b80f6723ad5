"""Access-anomaly alerts on the embedded emulator: an audit log written by real API calls (the Chalice
app with real tokens), the real ``functions/access_anomaly`` handler cold-started with a tenant's
settings and invoked with the sample scheduled event of ``events/``, and the alerts read back from an
SQS queue subscribed to the access-alerts topic. Nothing is mocked."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from callsight.auth.tokens import Role, mint_local_token
from callsight.config import reset_settings
from callsight.local.runner import LambdaContext
from callsight.resources import ACCESS_ALERTS_TOPIC
from callsight.storage import aws
from callsight.storage.audit_log import AuditLog
from chalice.test import Client

from tests.audio_factory import pcm_wav
from tests.conftest import REPO, load_event
from tests.integration.conftest import Stack
from tests.integration.test_api import api_module

TIMEZONE = "Asia/Tokyo"


def cold_start(monkeypatch: pytest.MonkeyPatch, **variables: str) -> ModuleType:
    """``functions/access_anomaly/app.py`` imported afresh with these ``CALLSIGHT_*`` settings, as a
    new execution environment of a deployment configured so would import it."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    name = f"callsight_function_access_anomaly_{len(sys.modules)}"
    spec = importlib.util.spec_from_file_location(name, REPO / "functions" / "access_anomaly" / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # as an import does (pydantic resolves the module's annotations there)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Settings read again after the test (its cold starts changed the environment)."""
    yield
    reset_settings()


@pytest.fixture
def client(env: Stack) -> Iterator[Client]:
    with Client(api_module().app) as test_client:
        yield test_client


def token(env: Stack, subject: str, role: Role, **extra: Any) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_local_token(env.settings, subject=subject, role=role, **extra)}


def subscribe(env: Stack) -> str:
    url = env.sqs.create_queue(QueueName=env.settings.name("access-alerts-tap"))["QueueUrl"]
    arn = env.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns: Any = aws.client("sns", env.settings)
    topic = sns.create_topic(Name=ACCESS_ALERTS_TOPIC.physical(env.settings))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return str(url)


def received(env: Stack, url: str) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while batch := env.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages", []
    ):
        bodies += [json.loads(m["Body"]) for m in batch]
        for message in batch:
            env.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def out_of_hours_now() -> str:
    """Working hours (Tokyo time) that start two hours from now: every request of this test is outside."""
    local = datetime.now(UTC).astimezone(ZoneInfo(TIMEZONE))
    start, end = local + timedelta(hours=2), local + timedelta(hours=3)
    return f"{start:%H}:00-{end:%H}:00"


def test_access_anomalies_from_real_api_calls_alert_once_per_window(
    env: Stack, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: a daily window (the test must not straddle midnight UTC, so it waits out its last minutes)
    now = datetime.now(UTC)
    if now.hour == 23 and now.minute >= 57:
        time.sleep((60 - now.minute) * 60 - now.second + 2)
    handler = cold_start(
        monkeypatch,
        CALLSIGHT_ACCESS_WINDOW_MINUTES="1440", CALLSIGHT_ACCESS_VOLUME_FLOOR="4",
        CALLSIGHT_ACCESS_VOLUME_FACTOR="3", CALLSIGHT_ACCESS_DENIALS_THRESHOLD="2",
        CALLSIGHT_ACCESS_TIMEZONE=TIMEZONE, CALLSIGHT_ACCESS_WORKING_HOURS=out_of_hours_now(),
        CALLSIGHT_ACCESS_WORKING_DAYS="mon-sun", CALLSIGHT_ACCESS_OUT_OF_HOURS_ROLES="qa",
    ).lambda_handler  # fmt: skip
    tap = subscribe(env)
    calls = [
        env.ingest(f"in-{agent}-+7903123456{i}-20261120-11300{i}-{i}.1.wav", pcm_wav(seconds=1))
        for i, agent in enumerate(("204", "204", "205"))
    ]
    ids = [c.call_id for c in calls]
    # ... 'busy' (an agent) read 10 calls on each of the last three days: its usual volume
    audit = AuditLog(env.settings)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for days in (1, 2, 3):
        audit.record(actor="busy", role="agent", action="calls.list", target="calls",
                     details={"returned": 10}, at=today - timedelta(days=days) + timedelta(hours=10))  # fmt: skip

    # When: real API requests write today's audit log
    owner = token(env, "agent-204", Role.AGENT, agent_id="204")
    for _ in range(3):  # no history: 3 listings of 2 calls = 6 calls ≥ floor 4
        assert client.http.get("/calls", headers=owner).status_code == 200
    busy = token(env, "busy", Role.AGENT, agent_id="204")
    for _ in range(3):  # 7 calls with the detail below: over the floor, under 3 x its usual 10
        assert client.http.get("/calls", headers=busy).status_code == 200
    assert client.http.get(f"/calls/{ids[0]}", headers=busy).status_code == 200
    nosy = token(env, "nosy", Role.AGENT, agent_id="205")
    for _ in range(2):  # another agent's call: denied (answered 404), twice
        assert client.http.get(f"/calls/{ids[0]}", headers=nosy).status_code == 404
    night_qa = token(env, "qa-night", Role.QA, teams=["sales"])
    assert client.http.get(f"/calls/{ids[2]}/transcript", headers=night_qa).status_code in (404, 200)
    assert client.http.get("/calls", headers=night_qa).status_code == 200  # a read out of hours

    # ... and the schedule fires after the day closed (the sample event, its time set to then)
    event = load_event("access_anomaly/scheduled_hourly.json")
    event["time"] = (today + timedelta(days=1, minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = handler(event, LambdaContext(function_name="access-anomaly", timeout_s=300))
    second = handler(event, LambdaContext(function_name="access-anomaly", timeout_s=300))  # a retry

    # Then: one alert per principal and rule, with counts and the window, read back from SNS → SQS
    found = {(f["rule"], f["principal"]) for f in first["findings"]}
    assert found == {("volume", "agent-204"), ("denials", "nosy"), ("out_of_hours", "qa-night")}
    assert first["window_start"].startswith(today.date().isoformat()) and len(first["sent"]) == 3
    messages = received(env, tap)
    assert {(m["rule"], m["principal"]) for m in messages} == found and len(messages) == 3
    volume = next(m for m in messages if m["rule"] == "volume")
    assert volume["count"] == 6 and volume["threshold"] == 4 and volume["history_windows"] == 0
    assert volume["window_start"] == first["window_start"] and volume["window_end"] == first["window_end"]
    assert next(m for m in messages if m["rule"] == "denials")["count"] == 2
    body = json.dumps(messages)
    assert "7903123456" not in body and not any(call_id in body for call_id in ids)  # no numbers, no calls
    # ... 'busy' stayed within its baseline: 3 closed days were profiled once, then reused
    assert "busy" not in {p for _, p in found}
    assert first["baseline_days_read"] and second["baseline_days_read"] == []
    assert second["baseline_days_stored"] == len(first["baseline_days_read"])
    # ... the retry found the same anomalies and sent nothing again
    assert second["sent"] == [] and sorted(second["already_sent"]) == sorted(first["sent"])
    assert received(env, tap) == []
    # ... and each run is in the audit log with what it checked
    runs = audit.for_target(f"window:{first['window_start'].replace('Z', '+00:00')}/"
                            f"{first['window_end'].replace('Z', '+00:00')}")  # fmt: skip
    assert len(runs) == 2 and all(r.action == "access_anomaly.check" and r.role == "system" for r in runs)
    assert sorted(r.details["sent"] for r in runs) == [0, 3]
    assert {r.details["principals"] for r in runs} == {first["principals"]}


def test_an_empty_audit_log_checks_cleanly_and_alerts_nothing(
    env: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = cold_start(monkeypatch).lambda_handler
    tap = subscribe(env)
    result = handler(
        load_event("access_anomaly/scheduled_hourly.json"), LambdaContext(function_name="x", timeout_s=60)
    )
    assert (result["window_start"], result["window_end"]) == ("2026-12-04T13:00:00Z", "2026-12-04T14:00:00Z")
    assert result["entries"] == 0 and result["findings"] == [] and result["sent"] == []
    assert len(result["baseline_days_read"]) == 14  # 14 baseline days before the window's day
    assert received(env, tap) == []


def test_a_bad_working_hours_setting_stops_the_cold_start(
    env: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callsight.compliance.access_anomaly import AccessRulesError

    with pytest.raises(AccessRulesError, match="CALLSIGHT_ACCESS_WORKING_HOURS"):
        cold_start(monkeypatch, CALLSIGHT_ACCESS_WORKING_HOURS="9 to 5")


def test_a_direct_invocation_rechecks_one_window_and_refuses_an_unaligned_one(
    env: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = cold_start(monkeypatch).lambda_handler
    context = LambdaContext(function_name="x", timeout_s=60)
    result = handler({"window_end": "2026-12-04T10:00:00Z"}, context)
    assert result["window_start"] == "2026-12-04T09:00:00Z"
    with pytest.raises(ValueError, match="not on a 60-minute boundary"):
        handler({"window_end": "2026-12-04T10:30:00Z"}, context)
