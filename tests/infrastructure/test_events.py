"""``events/`` holds a sample event for every function, each one invocable with one command.

``infrastructure/invoke_local.py FUNCTION EVENT`` runs a handler in-process against an emulator; the
last test drives it over the cheap samples (no model, no prior data needed) on one fresh emulator.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from callsight.models.messages import AnalyzeRequest, TranscribeRequest

from tests.infrastructure import template_model as tm

EVENTS = tm.REPO / "events"
SCHEDULED = EVENTS / "schedules" / "eventbridge_scheduled.json"


def samples_of(directory: str) -> list[Path]:
    """The sample events a function can be invoked with: its own folder, plus the scheduled event."""
    own = sorted((EVENTS / directory).glob("*.json"))
    functions = [f for f in tm.functions() if f.directory == directory]
    scheduled = [SCHEDULED] if any(f.events("Schedule") for f in functions) else []
    return own + scheduled


@pytest.mark.parametrize("directory", tm.function_directories())
def test_every_function_has_a_sample_event(directory: str) -> None:
    samples = samples_of(directory)
    assert samples, f"no sample event for functions/{directory} (add events/{directory}/<name>.json)"
    for sample in samples:
        json.loads(sample.read_text(encoding="utf-8"))


def test_every_sample_event_is_in_the_readme() -> None:
    readme = (EVENTS / "README.md").read_text(encoding="utf-8")
    listed = {p.relative_to(EVENTS).as_posix() for p in EVENTS.glob("*/*.json") if p.parent.name != "samples"}
    missing = sorted(p for p in listed if f"`{p}`" not in readme)
    assert not missing, f"events/README.md does not list {missing}"


def test_queue_message_samples_are_valid_messages() -> None:
    for record in json.loads((EVENTS / "analyze" / "analyze_request_via_sqs.json").read_text())["Records"]:
        AnalyzeRequest.model_validate_json(record["body"])
    for record in json.loads((EVENTS / "transcribe" / "transcribe_request_via_sqs.json").read_text())[
        "Records"
    ]:
        TranscribeRequest.model_validate_json(record["body"])


@pytest.mark.parametrize("sample", sorted((EVENTS / "api").glob("*.json")), ids=lambda p: p.name)
def test_api_samples_hit_a_route(sample: Path) -> None:
    event = json.loads(sample.read_text())
    context = event["requestContext"]
    routes = tm.chalice_routes(tm.FUNCTIONS_DIR / "api" / "app.py")
    assert (context["resourcePath"], context["httpMethod"]) in routes
    assert context["resourcePath"] == event["resource"] and context["httpMethod"] == event["httpMethod"]
    assert context["stage"] == tm.props("ApiGateway")["StageName"]


DRIVER = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import invoke_local
from pathlib import Path
invoke_local._quiet_powertools(verbose=False)
results = {}
with invoke_local.aws_endpoint(None):
    for pair in sys.argv[2:]:
        function, event = pair.split("=", 1)
        results[pair] = invoke_local.invoke(function, Path(event))
print("RESULTS " + json.dumps(results, default=str))
"""


def test_samples_invoke_locally() -> None:
    pairs = {
        "api=events/api/get_health.json": lambda r: r["statusCode"] == 200,
        "api=events/api/list_calls.json": lambda r: (
            r["statusCode"] == 200 and json.loads(r["body"])["items"] == []
        ),
        "api=events/api/erasure_dry_run.json": lambda r: r["statusCode"] == 200,
        "api=events/api/consent_add.json": lambda r: (
            r["statusCode"] == 200 and json.loads(r["body"])["entry"]["phone_masked"] == "+7903*****67"
        ),
        "api=events/api/voiceprint_opt_in.json": lambda r: (
            r["statusCode"] == 200 and json.loads(r["body"])["entry"]["state"] == "opted_in"
        ),
        "erasure=events/erasure/erase_subject_dry_run.json": lambda r: (
            r["dry_run"] is True and r["checked"] == 0
        ),
        "retention_sweep=events/schedules/eventbridge_scheduled.json": lambda r: r["checked"] == 0,
        "masking_sweep=events/schedules/eventbridge_scheduled.json": lambda r: r["outcomes"] == [],
        "ingest=events/ingest/s3_test_event_via_sqs.json": lambda r: r["batchItemFailures"] == [],
        "weekly_report=events/weekly_report/rebuild_week.json": lambda r: r["week"] == "2026-W47",
        "stats_rollup=events/stats_rollup/rebuild_days.json": lambda r: (
            r["rolled_up"] == ["2026-11-20", "2026-11-21"] and r["calls"] == 0
        ),
        "analyze=events/analyze/analyze_request_via_sqs.json": lambda r: "batchItemFailures" in r,
        "access_anomaly=events/access_anomaly/scheduled_hourly.json": lambda r: (
            r["window_end"] == "2026-12-04T14:00:00Z" and r["findings"] == []
        ),
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLSIGHT_")}
    run = subprocess.run(
        [sys.executable, "-c", DRIVER, str(tm.REPO / "infrastructure"), *pairs],
        capture_output=True, text=True, cwd=tm.REPO, env=env, timeout=300,
    )  # fmt: skip
    lines = [line for line in run.stdout.splitlines() if line.startswith("RESULTS ")]
    assert run.returncode == 0 and lines, run.stderr[-3000:]
    results = json.loads(lines[-1].removeprefix("RESULTS "))
    for pair, check in pairs.items():
        assert check(results[pair]), f"{pair} -> {results[pair]}"
