"""``callsight ingest``, ``calls list``, ``transcribe``, ``model prepare``, ``token``: recordings in, calls out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from callsight.cli.apps import app, calls_app, console, model_app
from callsight.config import Settings
from callsight.models.call import CallRecord
from callsight.storage.call_repository import CallRepository
from callsight.storage.recordings import RecordingUploads
from callsight.storage.secrets import resolved_settings
from callsight.storage.transcripts import TranscriptStore

AUDIO_CONTENT_TYPES = {
    ".wav": "audio/wav", ".flac": "audio/flac", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
    ".opus": "audio/ogg", ".json": "application/json",
}  # fmt: skip


def recording_files(paths: list[Path]) -> list[Path]:
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
    uploads = RecordingUploads(settings)
    keys: list[str] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("uploading", total=len(files))
        for path in files:
            content_type = AUDIO_CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
            keys.append(uploads.upload(path, content_type))
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


@app.command("ingest")
def ingest(paths: Annotated[list[Path], typer.Argument(help="Recordings, sidecars or folders.")]) -> None:
    """Upload recordings (and their sidecar JSON) to the recordings bucket."""
    settings = resolved_settings()
    keys = upload(settings, recording_files(paths))
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
