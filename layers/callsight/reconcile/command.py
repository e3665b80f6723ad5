"""``callsight reconcile``: is every recording exactly one call, and is every call done or on its way?

Exit status 0 when the stack is consistent, 1 when problems were found (lost recordings, orphan or
duplicate calls, stuck calls, dead letters), even if ``--fix`` repaired some: run it again to see.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from callsight.reconcile.logic import uniform_thresholds
from callsight.reconcile.models import ReconcileReport
from callsight.reconcile.service import run_reconcile
from callsight.storage.secrets import resolved_settings

#: Rows shown per section in the human output (``--json`` has everything).
SHOWN = 25


def reconcile_command(
    json_output: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON.")] = False,
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="Re-send the lost message of stuck calls and lost recordings, only while every stage "
            "queue is idle and no dead letter names them (the stages are idempotent). Nothing is deleted.",
        ),
    ] = False,
    stuck_after: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="One threshold in seconds for 'lost', 'stuck' and 'stalled' instead of the queues' "
            "retry budgets (visibility timeout x max receives).",
        ),
    ] = None,
    prefix: Annotated[
        str | None,
        typer.Option(help="Check only recordings under this key prefix (default: the recordings prefix)."),
    ] = None,
    current_only: Annotated[
        bool,
        typer.Option("--current-only", help="Check only the current version of each key, not every upload."),
    ] = False,
    dead_letter_limit: Annotated[
        int, typer.Option(min=1, max=100_000, help="Peek at most this many messages per dead-letter queue.")
    ] = 1000,
) -> None:
    """Check that every recording has exactly one call record, in a final state or on its way."""
    report = run_reconcile(
        resolved_settings(),
        thresholds=uniform_thresholds(stuck_after) if stuck_after is not None else None,
        prefix=prefix,
        current_only=current_only,
        fix=fix,
        dead_letter_limit=dead_letter_limit,
    )
    if json_output:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        console = Console()
        if not console.is_terminal:
            console.width = 200
        print_report(report, console)
    if report.problems:
        raise typer.Exit(code=1)


def _section(console: Console, title: str, columns: list[str], rows: list[list[str]]) -> None:
    if not rows:
        return
    table = Table(title=f"{title} ({len(rows)})", title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows[:SHOWN]:
        table.add_row(*row)
    console.print(table)
    if len(rows) > SHOWN:
        console.print(f"… and {len(rows) - SHOWN} more (--json lists them all)")


def print_report(report: ReconcileReport, console: Console) -> None:
    statuses = ", ".join(f"{status} {count}" for status, count in report.by_status.items()) or "none"
    console.print(
        f"s3://{report.bucket}/{report.prefix}: {report.objects} recording versions, {report.calls} calls "
        f"({statuses})"
        + (f", {report.calls_out_of_scope} calls elsewhere" if report.calls_out_of_scope else ""),
        highlight=False,
    )
    queues = ", ".join(f"{q.queue} {q.visible}+{q.in_flight}" for q in report.queues if not q.idle)
    console.print(f"queues (waiting+in flight): {queues or 'all empty'}", highlight=False)
    _section(
        console, "[red]lost: recordings without a call[/]", ["key", "version", "age s", "expected call id", "DLQ"],
        [[m.object.key, str(m.object.version_id), f"{m.age_s:.0f}", m.expected_call_id, "yes" if m.dead_lettered else ""]
         for m in report.lost],
    )  # fmt: skip
    _section(
        console, "[red]orphans: calls without their recording[/]", ["call", "status", "detail"],
        [[o.call.call_id, o.call.status.value, o.detail] for o in report.orphans],
    )  # fmt: skip
    _section(
        console, "[red]duplicates: several calls for one recording[/]", ["key", "version", "calls"],
        [[d.key, str(d.version_id), ", ".join(f"{c.call_id} ({c.status.value})" for c in d.calls)]
         for d in report.duplicates],
    )  # fmt: skip
    _section(
        console, "in progress", ["call", "status", "age s", "stuck", "reason"],
        [[e.call.call_id, e.call.status.value, f"{e.age_s:.0f}", "[red]STUCK[/]" if e.stuck else "", e.reason]
         for e in report.in_progress],
    )  # fmt: skip
    _section(
        console, "[red]dead letters[/]", ["queue", "message", "receives", "calls", "what"],
        [[d.queue, d.message_id, str(d.receive_count or ""), ", ".join(d.call_ids), d.summary]
         for d in report.dead_letters],
    )  # fmt: skip
    if not report.dead_letters_complete:
        console.print(
            "[yellow]not every dead letter could be read (in flight elsewhere, or over the limit)[/]"
        )
    _section(
        console, "fixes", ["call", "action", "done", "detail"],
        [[f.call_id, f.action, "yes" if f.done else "no", f.detail] for f in report.fixes],
    )  # fmt: skip
    if report.awaiting_ingest:
        console.print(
            f"{len(report.awaiting_ingest)} recordings still awaiting ingest (younger than the grace)"
        )
    if report.superseded_versions:
        console.print(
            f"{report.superseded_versions} older recording versions superseded by a newer upload of the same key",
            highlight=False,
        )
    for reason, count in report.explained_missing_sources.items():
        console.print(f"{count} calls without their recording, explained: {reason}", highlight=False)
    verdict = "[green]consistent[/]" if report.ok else f"[red]{report.problems} problems[/]"
    console.print(
        f"{verdict}: {len(report.lost)} lost, {len(report.orphans)} orphans, {len(report.duplicates)} duplicates, "
        f"{report.stuck} stuck, {len(report.dead_letters)} dead letters"
    )
