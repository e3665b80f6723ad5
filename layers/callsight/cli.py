"""``callsight`` command line: run the stack locally, ingest recordings, look at calls.

    callsight local demo            emulator + pipeline on the bundled samples, then a summary
    callsight local up              emulator + pipeline, serving until Ctrl-C
    callsight ingest FILES|DIRS     upload recordings (and sidecars) to the recordings bucket
    callsight calls list            the most recently changed calls
    callsight transcribe FILES      print transcripts of local recordings (no AWS involved)
    callsight model prepare         assemble a bundled speech model into a directory (image builds)
    callsight sweep masking         mask PII in transcripts, bleep it in audio copies [--dry-run]
    callsight sweep retention       delete expired calls (legal holds respected) [--dry-run]
    callsight erase --phone N       delete every call of a customer [--dry-run]
    callsight hold set|release      legal hold on a call (--call) or a customer (--phone)
    callsight consent add|remove|list   the stop list: opted_out / consent_revoked numbers (audited)
    callsight voiceprint opt-in|show|remove   an agent's voice print: opt-in, state, erasure (audited)
    callsight audit verify          check the audit log's hash chains
    callsight audit anchor          anchor today's chain heads (write-once bucket)
    callsight train [--from-feedback]   rebuild the learned label model; print the dev/test table
    callsight token --role R --sub S   mint a local API token (HS256; refused when a JWKS is configured)

``ingest`` and ``calls`` talk to ``CALLSIGHT_AWS_ENDPOINT`` (or real AWS when unset).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from callsight import resources
from callsight.config import Settings, reset_settings
from callsight.consent_command import consent_app
from callsight.models.call import CallRecord
from callsight.reconcile.command import reconcile_command
from callsight.storage import aws
from callsight.storage.call_repository import CallRepository
from callsight.storage.secrets import resolved_settings
from callsight.storage.transcripts import TranscriptStore
from callsight.train_command import train_command
from callsight.voiceprint_command import voiceprint_app

app = typer.Typer(
    help="Callsight: call recordings in, searchable, compliant calls out.", no_args_is_help=True
)
local_app = typer.Typer(
    help="Run everything on this machine on the embedded AWS emulator.", no_args_is_help=True
)
calls_app = typer.Typer(help="Look at call records.", no_args_is_help=True)
model_app = typer.Typer(help="Speech models on this machine.", no_args_is_help=True)
app.add_typer(local_app, name="local")
app.add_typer(calls_app, name="calls")
app.add_typer(model_app, name="model")
sweep_app = typer.Typer(help="Scheduled compliance sweeps, run now.", no_args_is_help=True)
hold_app = typer.Typer(help="Legal holds: block retention and erasure.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(sweep_app, name="sweep")
app.add_typer(hold_app, name="hold")
app.add_typer(audit_app, name="audit")
stats_app = typer.Typer(help="Call statistics and their daily rollup.", no_args_is_help=True)
app.add_typer(stats_app, name="stats")
console = Console()
if not console.is_terminal:
    console.width = 200

#: The bundled sample recordings (``events/samples/recordings``) in a source checkout.
SAMPLES_DIR = Path(__file__).resolve().parents[2] / "events" / "samples" / "recordings"
AUDIO_CONTENT_TYPES = {
    ".wav": "audio/wav", ".flac": "audio/flac", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
    ".opus": "audio/ogg", ".json": "application/json",
}  # fmt: skip


def _files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise typer.BadParameter(f"{path} does not exist")
    # Sidecars first, so each recording finds its metadata when its own event is processed.
    return sorted(found, key=lambda p: (not p.name.endswith(".json"), str(p)))


def upload(settings: Settings, files: list[Path]) -> list[str]:
    """Put each file under the recordings prefix, with a progress bar; returns the keys."""
    s3: Any = aws.client("s3", settings)
    bucket = resources.RECORDINGS_BUCKET.physical(settings)
    keys: list[str] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("uploading", total=len(files))
        for path in files:
            key = settings.recordings_prefix + path.name
            s3.upload_file(
                str(path), bucket, key,
                ExtraArgs={"ContentType": AUDIO_CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")},
            )  # fmt: skip
            keys.append(key)
            progress.advance(task)
    return keys


def calls_table(settings: Settings, limit: int = 50) -> Table:
    table = Table(title="Calls (most recently changed first)")
    for column in (
        "file", "status", "reason", "direction", "agent", "customer", "started (UTC)", "audio", "language", "RTF",
        "tags",
    ):  # fmt: skip
        table.add_column(column, overflow="fold")
    for call in CallRepository(settings).recent(limit):
        audio = call.audio
        facts = call.transcription
        language = ""
        if facts is not None:
            language = facts.language + (
                f" {facts.language_probability:.2f}" if facts.language_probability else ""
            )
        table.add_row(
            Path(call.source.key).name,
            call.status.value,
            call.status_reason or "",
            call.direction.value,
            call.agent_id or "",
            call.customer_phone_masked or "",
            call.started_at.strftime("%Y-%m-%d %H:%M:%S") if call.started_at else "",
            f"{audio.codec} {audio.sample_rate} Hz ×{audio.channels} {audio.duration_s:.1f}s"
            if audio
            else "",
            language,
            f"{facts.real_time_factor:.2f}" if facts else "",
            ", ".join(call.tags),
        )
    return table


def print_transcripts(settings: Settings, calls: list[CallRecord]) -> None:
    """Each transcribed call's turns, read back from the transcripts bucket."""
    store = TranscriptStore(settings)
    for call in calls:
        if call.transcription is None:
            continue
        transcript = store.get(call.transcription.transcript_key, call.transcription.transcript_version_id)
        console.rule(
            f"{Path(call.source.key).name} · {transcript.language.code} · {transcript.model.model_id}"
        )
        console.print(transcript.text, markup=False, highlight=False)
        print_analysis(call)


def print_analysis(call: CallRecord) -> None:
    """Categories, outcome, sentiment, entities (masked), talk metrics and risk of an analysed call."""
    summary = call.analysis
    if summary is None:
        return
    metrics = summary.metrics
    customer = (
        f"{summary.sentiment_customer:+.2f}" if summary.sentiment_customer is not None else "n/a (mono)"
    )
    refusal = f" ({summary.refusal_reason})" if summary.refusal_reason else ""
    talk = [
        f"{metrics.duration_s:.0f}s, speech {metrics.speech_s:.0f}s",
        f"longest silence {metrics.longest_silence_s:.1f}s",
        f"{metrics.words_per_minute:.0f} wpm",
    ]
    if metrics.talk_listen_ratio is not None:
        talk.append(f"agent/customer talk {metrics.talk_listen_ratio}")
    if metrics.interruptions is not None:
        talk.append(f"interruptions {metrics.interruptions}")
    if metrics.short_call:
        talk.append("short call")
    mood = (
        f"sentiment: overall {summary.sentiment_overall:+.2f}, customer {customer}, trend "
        f"{summary.sentiment_trend or 0:+.2f} · dissatisfaction risk {summary.risk_score or 0:.2f} ({summary.risk_level})"
        if summary.sentiment_overall is not None
        else "no speech: no language, sentiment, outcome or risk"
    )
    lines = [
        f"tags: {', '.join(call.tags) or '-'} · purpose: {summary.purpose} · outcome: {summary.outcome}{refusal}",
        mood,
        "entities: " + (", ".join(f"{e.type}={e.display}" for e in summary.entities) or "-"),
        "talk: " + ", ".join(talk),
        "checkpoints: "
        + ", ".join(f"{name} {'yes' if done else 'no'}" for name, done in summary.checkpoints.items()),
        *(f"note: {warning}" for warning in summary.warnings),
    ]
    for line in lines:
        console.print(f"  [cyan]{line}[/]", highlight=False)


# --- local ------------------------------------------------------------------------------------------


def _start_local(port: int, verbose: bool) -> tuple[Any, Settings]:
    from callsight.local.emulator import EmbeddedEmulator
    from callsight.local.provision import provision

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if not verbose:
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Callsight")
    emulator = EmbeddedEmulator(port=port)
    endpoint = emulator.start()
    os.environ["CALLSIGHT_AWS_ENDPOINT"] = endpoint
    reset_settings()
    aws.reset_clients()
    settings = resolved_settings()
    with console.status("creating buckets, queues and tables on the emulator"):
        provision(settings)
    console.print(
        f"[green]embedded AWS emulator[/] at {endpoint} — resources from callsight.resources created"
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
        keys = upload(settings, _files([samples]))
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
    operator = _operator("demo")
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
            upload(settings, _files([SAMPLES_DIR]))
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


# --- against a running stack ------------------------------------------------------------------------


@app.command("ingest")
def ingest(paths: Annotated[list[Path], typer.Argument(help="Recordings, sidecars or folders.")]) -> None:
    """Upload recordings (and their sidecar JSON) to the recordings bucket."""
    settings = resolved_settings()
    keys = upload(settings, _files(paths))
    console.print(f"uploaded {len(keys)} objects; ingest runs on their S3 events")


@calls_app.command("list")
def calls_list(limit: Annotated[int, typer.Option(min=1, max=1000)] = 50) -> None:
    """The most recently changed calls."""
    console.print(calls_table(resolved_settings(), limit))


@app.command("transcribe")
def transcribe(
    files: Annotated[
        list[Path], typer.Argument(help="Recordings on this machine.", exists=True, dir_okay=False)
    ],
    language: Annotated[str | None, typer.Option(help="Skip detection: ISO code such as ru or en.")] = None,
    agent_channel: Annotated[
        str | None, typer.Option(help="left | right (stereo); default from config.")
    ] = None,
    hotwords: Annotated[str | None, typer.Option(help="Names and terms to favour.")] = None,
    output_json: Annotated[
        bool, typer.Option("--json", help="Print the transcript document as JSON.")
    ] = False,
) -> None:
    """Transcribe local recordings with the same code as the pipeline and print who said what."""
    from callsight.asr.audio import AudioUndecodable
    from callsight.asr.engine import AsrEngine, EngineConfig
    from callsight.asr.model_store import ModelUnavailable
    from callsight.asr.transcriber import AudioTooLong, Transcriber, TranscriptionOptions
    from callsight.models.transcript import Vocabulary

    settings = resolved_settings()
    try:
        with console.status(f"loading speech model {settings.asr_model!r}"):
            engine = AsrEngine(EngineConfig.from_settings(settings))
    except ModelUnavailable as exc:
        raise typer.BadParameter(str(exc)) from exc
    err_console = Console(stderr=True)
    err_console.print(f"model {engine.info.model_id} on {engine.info.device} ({engine.info.compute_type})")
    transcriber = Transcriber(engine)
    options = TranscriptionOptions.from_settings(
        settings,
        language=language,
        vocabulary=Vocabulary(hotwords=hotwords),
        agent_channel=agent_channel or settings.agent_channel,
    )
    failures = 0
    for path in files:
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=err_console, transient=True) as progress:
            task = progress.add_task(path.name, total=None)

            def advance(done: float, total: float, task: Any = task, progress: Progress = progress) -> None:
                progress.update(task, completed=done, total=total)

            try:
                transcript = transcriber.transcribe_file(path, options, progress=advance)
            except (AudioUndecodable, AudioTooLong) as exc:
                err_console.print(f"[red]{path}: {exc}[/]")
                failures += 1
                continue
        if output_json:
            print(transcript.model_dump_json(indent=2))
            continue
        probability = f" p={transcript.language.probability:.2f}" if transcript.language.probability else ""
        console.rule(
            f"{path.name} · {transcript.language.code}{probability} · {transcript.duration_s:.1f}s audio "
            f"in {transcript.processing_s:.1f}s (RTF {transcript.real_time_factor:.2f})"
        )
        if transcript.speaker_attribution.value == "none":
            console.print(f"[dim]{transcript.speaker_note}[/]")
        for turn in transcript.turns:
            console.print(
                f"[{turn.start:7.2f}] {turn.speaker.value:>8}: {turn.text}", markup=False, highlight=False
            )
    if failures:
        raise typer.Exit(code=1)


@model_app.command("prepare")
def model_prepare(
    into: Annotated[Path, typer.Option(help="Directory to write the CTranslate2 model to.")],
    name: Annotated[str, typer.Option(help="Bundled model name.")] = "base",
) -> None:
    """Assemble a bundled model (e.g. at image build time) so that cold starts only load it."""
    from callsight.asr.model_store import BUNDLES, ModelUnavailable, assemble

    if name not in BUNDLES:
        raise typer.BadParameter(f"unknown bundled model {name!r}; bundled: {', '.join(sorted(BUNDLES))}")
    try:
        target = assemble(BUNDLES[name], into.parent, target=into)
    except ModelUnavailable as exc:
        raise typer.BadParameter(str(exc)) from exc
    console.print(f"model {name!r} ready in {target} (set CALLSIGHT_ASR_MODEL={target})")


# --- compliance ---------------------------------------------------------------------------------------


def _operator(actor: str | None) -> Any:
    from callsight.sweeps.deletion import Actor

    return Actor(
        actor=actor or os.environ.get("USER", "operator"), role="admin", request_id=f"cli-{os.getpid()}"
    )


def print_sweep_report(report: Any, title: str) -> None:
    table = Table(title=f"{title}{' (dry run: nothing changed)' if report.dry_run else ''}")
    for column in ("call", "result", "object versions", "index entries", "detail"):
        table.add_column(column)
    for outcome in report.outcomes:
        table.add_row(
            outcome.call_id,
            outcome.result.value,
            str(outcome.objects),
            str(outcome.index_entries),
            outcome.detail or "",
        )
    console.print(table)
    console.print(f"{report.checked} call(s) checked")


AS_OF_HELP = "Run as if it were this date (YYYY-MM-DD), to see what a policy will do."


def _as_of(value: str | None) -> Any:
    from datetime import UTC, datetime

    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


@sweep_app.command("retention")
def sweep_retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be deleted.")] = False,
    as_of: Annotated[str | None, typer.Option(help=AS_OF_HELP)] = None,
    actor: Annotated[str | None, typer.Option(help="Who runs it (audit log).")] = None,
) -> None:
    """Delete every expired call and its artefacts, except calls under legal hold."""
    from callsight.sweeps.retention import RetentionSweep

    report = RetentionSweep(resolved_settings()).run(now=_as_of(as_of), dry_run=dry_run, who=_operator(actor))
    print_sweep_report(report, "Retention sweep")


@sweep_app.command("masking")
def sweep_masking(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be masked.")] = False,
    as_of: Annotated[str | None, typer.Option(help=AS_OF_HELP)] = None,
    actor: Annotated[str | None, typer.Option(help="Who runs it (audit log).")] = None,
) -> None:
    """Mask PII in transcripts and bleep it in a redacted audio copy, for calls past the masking window."""
    from callsight.sweeps.masking_sweep import MaskingSweep

    report = MaskingSweep(resolved_settings()).run(now=_as_of(as_of), dry_run=dry_run, who=_operator(actor))
    print_masking_report(report)


@stats_app.command("rollup")
def stats_rollup(
    since: Annotated[
        str | None, typer.Option(help="First UTC day to rebuild (YYYY-MM-DD), e.g. a backfill.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Last UTC day to rebuild (default: yesterday).")] = None,
) -> None:
    """Fold closed days' calls into statistics cells (what the hourly schedule does: yesterday and
    days changed since; with --since, every day of the range)."""
    from datetime import UTC, date, datetime, timedelta

    from callsight.stats.cells import period_days
    from callsight.sweeps.stats_rollup import StatsRollup

    days = None
    if since is not None:
        last = date.fromisoformat(until) if until else datetime.now(UTC).date() - timedelta(days=1)
        days = period_days(date.fromisoformat(since), last)
        if not days:
            raise typer.BadParameter("--until is before --since")
    report = StatsRollup(resolved_settings()).run(days=days)
    console.print(
        f"rolled up {len(report.rolled_up)} day(s): {report.calls} call(s) into {report.cells} cell(s) "
        f"in {report.seconds:.1f} s"
    )
    for label, listed in (("still read live (changed < 15 min ago; the next run confirms)", report.waiting),
                          ("changed again while rolled up", report.changed_again),
                          ("not over yet (never rolled up)", report.refused)):  # fmt: skip
        if listed:
            console.print(f"{label}: {', '.join(d.isoformat() for d in listed)}")


def print_masking_report(report: Any) -> None:
    title = f"Masking sweep (calls started before {report.cutoff:%Y-%m-%d}){' - dry run' if report.dry_run else ''}"
    table = Table(title=title)
    for column in ("call", "masked", "bleeped s", "redacted audio", "versions deleted"):
        table.add_column(column, overflow="fold")
    for o in report.outcomes:
        masked = ", ".join(f"{k} {v}" for k, v in sorted(o.masked.items())) or "-"
        table.add_row(o.call_id, masked, f"{o.bleeped_s:.1f}", o.redacted_key or "", str(o.deleted_versions))
    console.print(table)


@app.command("erase")
def erase(
    phone: Annotated[str, typer.Option(help="The customer's phone number, any common spelling.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be deleted.")] = False,
    actor: Annotated[str | None, typer.Option(help="Who requests it (audit log).")] = None,
) -> None:
    """Erase every call of a customer (consent revoked); calls under legal hold are kept and listed."""
    from callsight.sweeps.erasure import InvalidPhone, SubjectErasure

    try:
        report = SubjectErasure(resolved_settings()).erase(phone, _operator(actor), dry_run=dry_run)
    except InvalidPhone as exc:
        raise typer.BadParameter(str(exc), param_hint="--phone") from exc
    print_sweep_report(report, "Erasure")
    if report.incomplete:
        console.print(
            f"[red]incomplete: {len(report.incomplete)} call(s) still being deleted; run again[/red]"
        )
        raise typer.Exit(1)


@hold_app.command("set")
def hold_set(
    call: Annotated[str | None, typer.Option(help="Call id.")] = None,
    phone: Annotated[str | None, typer.Option(help="A customer's phone number (all their calls).")] = None,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
    actor: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Put a call or a customer under legal hold."""
    _hold(call, phone, reason, actor, release=False)


@hold_app.command("release")
def hold_release(
    call: Annotated[str | None, typer.Option(help="Call id.")] = None,
    phone: Annotated[str | None, typer.Option(help="A customer's phone number.")] = None,
    reason: Annotated[str, typer.Option()] = "",
    actor: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Release a legal hold."""
    _hold(call, phone, reason, actor, release=True)


def _hold(call: str | None, phone: str | None, reason: str, actor: str | None, *, release: bool) -> None:
    from callsight.storage.call_repository import CallNotFound
    from callsight.sweeps.erasure import InvalidPhone
    from callsight.sweeps.holds import LegalHolds

    if (call is None) == (phone is None):
        raise typer.BadParameter("give exactly one of --call or --phone")
    holds = LegalHolds(resolved_settings())
    try:
        if call is not None:
            holds.hold_call(call, _operator(actor), release=release, reason=reason)
        else:
            assert phone is not None
            holds.hold_subject(phone, _operator(actor), release=release, reason=reason)
    except (CallNotFound, InvalidPhone) as exc:
        raise typer.BadParameter(str(exc)) from exc
    console.print(f"legal hold {'released' if release else 'set'}")


@audit_app.command("verify")
def audit_verify(
    since: Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD); default 30 days ago.")] = None,
    until: Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD); default today.")] = None,
) -> None:
    """Check every audit chain of the period (keyed links, anchored daily heads); exit 1 and name
    every broken link, missing chain or missing day if any."""
    from datetime import UTC, date, datetime, timedelta

    from callsight.sweeps.audit_verify import AuditVerifier

    today = datetime.now(UTC).date()
    first = date.fromisoformat(since) if since else today - timedelta(days=30)
    last = date.fromisoformat(until) if until else today
    report = AuditVerifier(resolved_settings()).verify(first, last)
    for problem in report.problems:
        console.print(
            f"[red]audit chain {problem.chain_id} broken at entry {problem.seq}: {problem.reason}[/]"
        )
    if report.unanchored_days:
        unanchored = report.unanchored_days
        days = ", ".join(d.isoformat() for d in unanchored[:5]) + (
            f" … ({len(unanchored)} days)" if len(unanchored) > 5 else ""
        )
        console.print(f"[yellow]not anchored (checked by their links alone): {days}[/]")
    if not report.intact:
        raise typer.Exit(code=1)
    console.print(
        f"[green]{report.checked} audit entries from {first} to {last}, {report.anchors} anchors: every chain intact[/]"
    )


@audit_app.command("anchor")
def audit_anchor(
    day: Annotated[
        str | None, typer.Option(help="The day (YYYY-MM-DD) whose chain heads to anchor; default today.")
    ] = None,
) -> None:
    """Write the day's audit chain heads to the Object-Lock anchors bucket (the retention sweep does
    it daily for yesterday and today)."""
    from datetime import UTC, date, datetime

    from callsight.sweeps.audit_verify import AuditVerifier

    which = date.fromisoformat(day) if day else datetime.now(UTC).date()
    anchor = AuditVerifier(resolved_settings()).anchor(which)
    console.print(f"anchored {which}: {len(anchor.heads)} chains, {sum(h.seq for h in anchor.heads)} entries")


app.add_typer(consent_app, name="consent")
app.add_typer(voiceprint_app, name="voiceprint")
app.command(
    "reconcile",
    help="Check that every recording has exactly one call in a terminal or explained state; exit 1 on problems.",
)(reconcile_command)
app.command(
    "train",
    help="Rebuild the learned label layer from labelled calls (and QA corrections); print the dev/test table.",
)(train_command)


@app.command("token")
def token(
    role: Annotated[str, typer.Option(help="admin | qa | agent | crm")],
    sub: Annotated[str, typer.Option(help="Who the token is for.")],
    team: Annotated[
        list[str] | None, typer.Option(help="QA: a team or queue it may see (repeatable).")
    ] = None,
    agent_id: Annotated[str | None, typer.Option(help="Agent: their agent id / extension.")] = None,
    hours: Annotated[
        float, typer.Option(min=0.01, help="Lifetime; at most CALLSIGHT_AUTH_MAX_TOKEN_LIFETIME_S (12 h).")
    ] = 8,
) -> None:
    """Mint a local bearer token for the API (only when no identity provider is configured)."""
    from datetime import timedelta

    from callsight.auth.tokens import Role, mint_local_token

    try:
        print(
            mint_local_token(
                resolved_settings(),
                subject=sub,
                role=Role(role),
                teams=team,
                agent_id=agent_id,
                ttl=timedelta(hours=hours),
            )
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


@local_app.command("provision")
def local_provision() -> None:
    """Create every resource on ``CALLSIGHT_AWS_ENDPOINT`` (e.g. a LocalStack you started)."""
    from callsight.local.provision import provision

    settings = resolved_settings()
    if not settings.aws_endpoint:
        raise typer.BadParameter("set CALLSIGHT_AWS_ENDPOINT first; this command never touches real AWS")
    started = time.monotonic()
    created = provision(settings)
    console.print_json(data=created)
    console.print(f"provisioned in {time.monotonic() - started:.1f}s")


def main() -> None:
    app()
