"""``callsight local demo|up|provision``: the whole stack on the embedded emulator (or a LocalStack you started)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from callsight import resources
from callsight.cli.apps import console, local_app, operator_of
from callsight.cli.calls import calls_table, print_transcripts, recording_files, upload
from callsight.cli.compliance import print_masking_report, print_sweep_report
from callsight.config import Settings
from callsight.models.call import CallRecord
from callsight.storage.call_repository import CallRepository
from callsight.storage.secrets import resolved_settings

#: The bundled sample recordings (``events/samples/recordings``) in a source checkout.
SAMPLES_DIR = Path(__file__).resolve().parents[3] / "events" / "samples" / "recordings"


def _start_local(port: int, verbose: bool) -> tuple[Any, Settings]:
    from callsight.local.bootstrap import provisioned, quiet_telemetry, start_emulator

    quiet_telemetry(verbose)
    emulator = start_emulator(port)
    with console.status("creating buckets, queues and tables on the emulator"):
        settings = provisioned()
    console.print(
        f"[green]embedded AWS emulator[/] at {emulator.endpoint} — resources from callsight.resources created"
    )
    return emulator, settings


@local_app.command("demo")
def local_demo(
    samples: Annotated[
        Path, typer.Option(help="Folder of recordings (and sidecars) to ingest.")
    ] = SAMPLES_DIR,
    verbose: Annotated[bool, typer.Option(help="Show the functions' JSON logs.")] = False,
    serve: Annotated[
        bool | None,
        typer.Option(
            help="Keep serving the API and dashboard until Ctrl-C (default: when run in a terminal)."
        ),
    ] = None,
) -> None:
    """Start the emulator, ingest the sample recordings through the real pipeline, show the result."""
    from callsight.local.runner import LocalRunner

    emulator, settings = _start_local(0, verbose)
    try:
        runner = LocalRunner(settings, visibility_timeout_s=2)
        keys = upload(settings, recording_files([samples]))
        console.print(
            f"uploaded {len(keys)} objects to s3://{resources.RECORDINGS_BUCKET.physical(settings)}/"
        )
        label = "routing S3 events → ingest → transcribe (Whisper on this machine's CPU: seconds per call) → analyze"
        with console.status(label) as status:

            def show(stats: dict[str, Any]) -> None:
                done = ", ".join(f"{name} {s.messages - s.failed} done" for name, s in stats.items())
                status.update(f"{label} · {done}")

            drained = runner.drain(max_seconds=900, on_progress=show)
        calls = list(CallRepository(settings).recent(100))
        print_transcripts(settings, sorted(calls, key=lambda c: c.source.key))
        console.print(calls_table(settings))
        _print_pipeline_state(runner, drained)
        _demo_reconcile(settings)
        api = _demo_api(settings)
        if sys.stdin.isatty():  # a person is watching: let them look before the sweeps delete calls
            _print_dashboard(settings, api.url)
            with contextlib.suppress(EOFError):
                console.input(
                    "open the dashboard now: the retention sweep below deletes every call but the held one "
                    "(clock moved +400 days). Press Enter to run the compliance sweeps… "
                )
        _demo_compliance(settings, calls)
        _print_dashboard(settings, api.url)
        if serve if serve is not None else sys.stdin.isatty():
            console.print("serving the API and the dashboard until Ctrl-C")
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
        api.stop()
    finally:
        emulator.stop()


def _print_dashboard(settings: Settings, url: str) -> None:
    """The dashboard's address with a ready admin token (the fragment never reaches a server)."""
    from callsight.auth.tokens import Role, mint_local_token

    admin = mint_local_token(settings, subject="local-admin", role=Role.ADMIN)
    console.rule("Dashboard")
    console.print(f"{url}/ui#token={admin}", highlight=False, soft_wrap=True)
    console.print(
        "(signed in as admin; other roles: `callsight token --role qa --sub you --team sales-ru`, "
        "paste it after Sign out)",
        highlight=False,
    )


def _demo_api(settings: Settings) -> Any:
    """Serve the API on localhost, print curl commands with minted tokens, and call it once."""
    import json as json_module
    import urllib.request
    from datetime import datetime

    from callsight.auth.tokens import Role, mint_local_token
    from callsight.local.api_server import LocalApi

    api = LocalApi(port=0)
    url = api.start()
    admin = mint_local_token(settings, subject="demo-admin", role=Role.ADMIN)
    agent = mint_local_token(settings, subject="demo-agent", role=Role.AGENT, agent_id="204")
    console.rule(f"API on {url} (kept running only for the demo; `callsight local up` serves it on :8000)")
    console.print(
        f"curl -s -H 'Authorization: Bearer {admin}' '{url}/calls?limit=10'", highlight=False, soft_wrap=True
    )
    console.print(
        f"curl -s -H 'Authorization: Bearer {agent}' '{url}/search?q=дорого'", highlight=False, soft_wrap=True
    )
    request = urllib.request.Request(f"{url}/calls?limit=10", headers={"Authorization": f"Bearer {admin}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  # our own localhost server
        page = json_module.loads(response.read())
    console.print(
        f"GET /calls as admin → {len(page['items'])} calls: "
        + ", ".join(
            f"{item['call_id'][:8]}… {item['status']} {','.join(item['tags']) or '-'}"
            for item in page["items"]
        ),
        highlight=False,
    )
    request = urllib.request.Request(f"{url}/calls", headers={"Authorization": f"Bearer {agent}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        own = json_module.loads(response.read())
    console.print(f"GET /calls as agent 204 → {len(own['items'])} call(s): only their own")
    started = next((item["started_at"] for item in page["items"] if item.get("started_at")), None)
    if started:
        year, week, _ = datetime.fromisoformat(started).isocalendar()
        path = f"/reports/weekly?week={year}-W{week:02d}"
        console.print(
            f"curl -s -H 'Authorization: Bearer {admin}' '{url}{path}&format=csv'",
            highlight=False,
            soft_wrap=True,
        )
        request = urllib.request.Request(f"{url}{path}", headers={"Authorization": f"Bearer {admin}"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            report = json_module.loads(response.read())
        console.print(
            f"GET {path} → {report['calls']} calls; top reasons "
            + ", ".join(f"{r['name']} {r['calls']}" for r in report["top_reasons"][:3])
            + "; top questions: "
            + ("; ".join(f"«{q['question']}» ×{q['calls']}" for q in report["top_questions"][:3]) or "none")
            + "; agent ranking: "
            + ", ".join(f"{a['rank']}. {a['agent_id']} ({a['score']})" for a in report["agent_ranking"]),
            highlight=False,
        )
    return api


def _demo_compliance(settings: Settings, calls: list[CallRecord]) -> None:
    """Fast-forward the clock: masking after its 30-day window, retention after 180 days, one call on hold."""
    from datetime import UTC, datetime, timedelta

    from callsight.sweeps.audit_verify import AuditVerifier
    from callsight.sweeps.holds import LegalHolds
    from callsight.sweeps.masking_sweep import MaskingSweep
    from callsight.sweeps.retention import RetentionSweep

    retention = RetentionSweep(settings)
    operator = operator_of("demo")
    held = next((c for c in calls if c.queue), calls[0] if calls else None)
    if held is None:
        return
    console.rule("compliance: the same sweeps the schedules run, with the clock moved forward")
    LegalHolds(settings).hold_call(held.call_id, operator, reason="demo: a dispute about this call")
    console.print(f"legal hold set on {held.call_id} ({Path(held.source.key).name})")
    now = datetime.now(UTC)
    print_masking_report(MaskingSweep(settings).run(now=now + timedelta(days=31), who=operator))
    print_sweep_report(
        retention.run(now=now + timedelta(days=400), who=operator),
        "Retention sweep, 400 days later",
    )
    receipts = [
        e
        for c in calls
        for e in retention.audit.for_target(f"call:{c.call_id}")
        if e.action.endswith(".delete")
    ]
    for receipt in receipts:
        versions = sum(receipt.details.get("object_versions", {}).values())
        console.print(
            f"receipt {receipt.chain_id}/{receipt.seq}: {receipt.action} {receipt.target} "
            f"(policy {receipt.details.get('policy')}, {versions} object versions, "
            f"{receipt.details.get('index_entries')} index entries) hash {receipt.entry_hash[:12]}…",
            highlight=False,
        )
    today = now.date()
    checked, broken = AuditVerifier(settings, retention.audit).first_problem(today, today)
    console.print(
        f"audit log: {checked} entries, chains {'intact' if broken is None else f'BROKEN at {broken}'}"
    )


def _demo_reconcile(settings: Settings) -> None:
    from callsight.reconcile.service import run_reconcile

    report = run_reconcile(settings)
    console.print(
        f"callsight reconcile: {report.objects} recordings, {report.calls} calls "
        f"({', '.join(f'{n} {status}' for status, n in sorted(report.by_status.items()))}); "
        f"{report.problems} problems (lost, orphans, duplicates, stuck, dead letters)",
        highlight=False,
    )


def _print_pipeline_state(runner: Any, drained: bool) -> None:
    for logical, stats in runner.stats.items():
        note = " (a sidecar waiting for its recording is one)" if logical == "ingest" and stats.failed else ""
        console.print(
            f"{logical}: {stats.invocations} invocations, {stats.messages} messages, "
            f"{stats.failed} reported failed and left for redelivery{note}"
        )
    for name, depth in runner.queue_depths().items():
        if depth["visible"] or depth["in_flight"]:
            console.print(f"queue {name}: {depth['visible']} waiting, {depth['in_flight']} in flight")
    if runner.unrouted:
        console.print(
            f"[yellow]not yet routed (their functions are not built yet): {', '.join(runner.unrouted)}[/]"
        )
    if not drained:
        console.print("[red]the pipeline did not drain in time[/]")


@local_app.command("up")
def local_up(
    port: Annotated[int, typer.Option(help="Port of the embedded emulator.")] = 5055,
    with_samples: Annotated[bool, typer.Option(help="Ingest the bundled samples at start.")] = False,
    verbose: Annotated[bool, typer.Option(help="Show the functions' JSON logs.")] = True,
) -> None:
    """Run the emulator and route its queues to the functions until Ctrl-C. State is in memory only."""
    from callsight.local.emulator import LOCAL_ANCHOR_DIR, MEMORY_ONLY
    from callsight.local.runner import LocalRunner

    os.environ.setdefault("CALLSIGHT_AUDIT_ANCHOR_DIR", str(LOCAL_ANCHOR_DIR.absolute()))
    emulator, settings = _start_local(port, verbose)
    console.print(f"[bold yellow]{MEMORY_ONLY}[/]", highlight=False)
    _report_earlier_sessions(settings)
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        runner = LocalRunner(settings)
        if with_samples:
            upload(settings, recording_files([SAMPLES_DIR]))
        from callsight.auth.tokens import Role, mint_local_token
        from callsight.local.api_server import LocalApi

        api = LocalApi(port=8000)
        api_url = api.start()
        admin = mint_local_token(settings, subject="local-admin", role=Role.ADMIN)
        console.print(
            f"API: curl -H 'Authorization: Bearer {admin}' {api_url}/calls", highlight=False, soft_wrap=True
        )
        console.print(
            f"in another shell: [bold]export CALLSIGHT_AWS_ENDPOINT={emulator.endpoint} "
            f"CALLSIGHT_AUDIT_ANCHOR_DIR={settings.audit_anchor_dir}[/]",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
        _print_dashboard(settings, api_url)
        console.print("then: callsight ingest <files> · callsight calls list · Ctrl-C here to stop")
        runner.run_forever(lambda: stop)
    finally:
        _anchor_before_stopping(settings)
        emulator.stop()
        console.print("emulator stopped: its recordings, calls and audit log are gone")


def _report_earlier_sessions(settings: Settings) -> None:
    """Anchors kept on disk by earlier ``local up`` sessions vouch for audit chains that are gone."""
    folder = settings.audit_anchor_dir
    anchors = sorted(folder.glob("*/audit-anchors/*/*.json")) if folder else []
    if anchors:
        console.print(
            f"[yellow]{len(anchors)} audit anchors of earlier sessions in {folder}: their audit chains "
            "went with those sessions, and `callsight audit verify` reports them missing (delete the "
            "folder to accept the loss).[/]",
            highlight=False,
        )


def _anchor_before_stopping(settings: Settings) -> None:
    """Anchor today's audit chain heads to the file mirror too, so the loss is visible after a restart."""
    from datetime import UTC, datetime

    from callsight.sweeps.audit_verify import AuditVerifier

    try:
        anchor = AuditVerifier(settings).anchor(datetime.now(UTC).date(), skip_empty=True)
    except Exception as exc:  # the emulator may already be unreachable: stopping must still work
        console.print(f"[yellow]audit chains not anchored before stopping: {exc}[/]", highlight=False)
        return
    if anchor is not None and anchor.heads:
        console.print(f"audit chain heads anchored in {settings.audit_anchor_dir}", highlight=False)


@local_app.command("provision")
def local_provision() -> None:
    """Create every resource on ``CALLSIGHT_AWS_ENDPOINT`` (e.g. a LocalStack you started)."""
    from callsight.storage.provisioning import provision

    settings = resolved_settings()
    if not settings.aws_endpoint:
        raise typer.BadParameter("set CALLSIGHT_AWS_ENDPOINT first; this command never touches real AWS")
    started = time.monotonic()
    created = provision(settings)
    console.print_json(data=created)
    console.print(f"provisioned in {time.monotonic() - started:.1f}s")
