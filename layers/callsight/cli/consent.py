"""``callsight consent add|remove|list``: the consent registry / stop list from the command line.

Runs :class:`callsight.sweeps.consent.ConsentService` against ``CALLSIGHT_AWS_ENDPOINT`` (the
local emulator, LocalStack) or, unset, the AWS account of the caller's credentials — like ``erase``
and ``hold``. Every command is audited under the operator's name; numbers are shown masked.
"""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from callsight.models.consent import ConsentState, InvalidSubjectPhone
from callsight.storage.secrets import resolved_settings
from callsight.sweeps.consent import ConsentMissing, ConsentService
from callsight.sweeps.deletion import Actor, DeletionResult

consent_app = typer.Typer(
    help="The consent registry / stop list: opted-out numbers are not analysed; revoked consent erases.",
    no_args_is_help=True,
)
console = Console()
if not console.is_terminal:
    console.width = 200

STATES = ", ".join(s.value for s in ConsentState)


def operator_of(actor: str | None) -> Actor:
    return Actor(actor=actor or getpass.getuser(), role="admin", request_id=f"cli-{os.getpid()}")


def _state(value: str) -> ConsentState:
    try:
        return ConsentState(value)
    except ValueError as exc:
        raise typer.BadParameter(f"unknown state {value!r}; valid: {STATES}", param_hint="--state") from exc


@consent_app.command("add")
def consent_add(
    phone: Annotated[str, typer.Option(help="The customer's number, any common spelling.")],
    state: Annotated[str, typer.Option(help=f"One of: {STATES}.")],
    source: Annotated[str, typer.Option(help="Where the request came from: crm, ivr, admin, …")] = "admin",
    expires: Annotated[
        str | None, typer.Option(help="The entry lapses on this date (YYYY-MM-DD, UTC); default never.")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Who sets it (audit log).")] = None,
) -> None:
    """List a number (or update its entry). consent_revoked also erases every past call of it."""
    until = datetime.fromisoformat(expires).replace(tzinfo=UTC) if expires else None
    try:
        change = ConsentService(resolved_settings()).add(
            phone, _state(state), source, operator_of(actor), expires_at=until
        )
    except InvalidSubjectPhone as exc:
        raise typer.BadParameter(str(exc), param_hint="--phone") from exc
    entry = change.entry
    was = f" (was {change.previous_state.value})" if change.previous_state else ""
    console.print(f"{entry.phone_masked} {entry.state.value}{was} · hash {entry.phone_hash}", highlight=False)
    if change.erasure is not None:
        report = change.erasure
        console.print(
            f"erasure: {report.checked} call(s) found, {report.count(DeletionResult.DELETED)} deleted, "
            f"{report.count(DeletionResult.HELD)} kept under legal hold; later uploads are fenced"
        )
    if change.fence_lifted:
        console.print("the erasure fence is lifted: later uploads are recorded (and stopped as opted out)")


@consent_app.command("remove")
def consent_remove(
    phone: Annotated[str | None, typer.Option(help="The customer's number.")] = None,
    phone_hash: Annotated[
        str | None, typer.Option("--hash", help="The entry's hash, as `list` shows it.")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Who removes it (audit log).")] = None,
) -> None:
    """Take a number off the registry; a revoked one's later uploads are recorded again (exit 1: none)."""
    if (phone is None) == (phone_hash is None):
        raise typer.BadParameter("give exactly one of --phone or --hash")
    try:
        removal = ConsentService(resolved_settings()).remove(
            operator_of(actor), phone=phone, phone_hash=phone_hash
        )
    except InvalidSubjectPhone as exc:
        raise typer.BadParameter(str(exc), param_hint="--phone") from exc
    except ConsentMissing as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    lifted = "; erasure fence lifted for later uploads" if removal.fence_lifted else ""
    console.print(
        f"removed {removal.removed_state.value} entry {removal.phone_hash}{lifted}", highlight=False
    )


@consent_app.command("list")
def consent_list(
    state: Annotated[str | None, typer.Option(help=f"Only this state ({STATES}).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 50,
    cursor: Annotated[str | None, typer.Option(help="`next` of the previous page.")] = None,
    actor: Annotated[str | None, typer.Option(help="Who looks (audit log).")] = None,
) -> None:
    """Registry entries: masked number, hash, state, source, when and by whom."""
    page = ConsentService(resolved_settings()).list(
        operator_of(actor), limit=limit, cursor=cursor, state=_state(state) if state else None
    )
    table = Table(title="Consent registry")
    for column in ("number", "hash", "state", "source", "set (UTC)", "by", "expires"):
        table.add_column(column, overflow="fold")
    for e in page.items:
        table.add_row(
            e.phone_masked, e.phone_hash, e.state.value, e.source, f"{e.set_at:%Y-%m-%d %H:%M:%S}", e.set_by,
            f"{e.expires_at:%Y-%m-%d}" if e.expires_at else "",
        )  # fmt: skip
    console.print(table)
    if page.next_cursor:
        console.print(f"next: --cursor {page.next_cursor}", highlight=False)
