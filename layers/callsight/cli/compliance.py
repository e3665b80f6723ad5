"""``callsight sweep``, ``stats rollup``, ``erase``, ``hold``, ``audit``: the scheduled and on-demand compliance work, run now."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from callsight.cli.apps import (
    AS_OF_HELP,
    app,
    as_of_date,
    audit_app,
    console,
    hold_app,
    operator_of,
    stats_app,
    sweep_app,
)
from callsight.storage.secrets import resolved_settings


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


@sweep_app.command("retention")
def sweep_retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be deleted.")] = False,
    as_of: Annotated[str | None, typer.Option(help=AS_OF_HELP)] = None,
    actor: Annotated[str | None, typer.Option(help="Who runs it (audit log).")] = None,
) -> None:
    """Delete every expired call and its artefacts, except calls under legal hold."""
    from callsight.sweeps.retention import RetentionSweep

    report = RetentionSweep(resolved_settings()).run(
        now=as_of_date(as_of), dry_run=dry_run, who=operator_of(actor)
    )
    print_sweep_report(report, "Retention sweep")


@sweep_app.command("masking")
def sweep_masking(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be masked.")] = False,
    as_of: Annotated[str | None, typer.Option(help=AS_OF_HELP)] = None,
    actor: Annotated[str | None, typer.Option(help="Who runs it (audit log).")] = None,
) -> None:
    """Mask PII in transcripts and bleep it in a redacted audio copy, for calls past the masking window."""
    from callsight.sweeps.masking_sweep import MaskingSweep

    report = MaskingSweep(resolved_settings()).run(
        now=as_of_date(as_of), dry_run=dry_run, who=operator_of(actor)
    )
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


@stats_app.command("call-days")
def stats_call_days() -> None:
    """Set the call-day bounds GET /calls lists between from every stored call (one projected scan):
    once, for a deployment whose calls were written before the bounds existed (until then it lists
    newest change first)."""
    from callsight.storage.daily_stats import DailyStatsStore

    bounds = DailyStatsStore(resolved_settings()).backfill_call_days()
    if bounds is None:
        console.print("no call has a start time: no bounds")
    else:
        console.print(f"call days {bounds.earliest} .. {bounds.latest}")


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
        report = SubjectErasure(resolved_settings()).erase(phone, operator_of(actor), dry_run=dry_run)
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
            holds.hold_call(call, operator_of(actor), release=release, reason=reason)
        else:
            assert phone is not None
            holds.hold_subject(phone, operator_of(actor), release=release, reason=reason)
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
