"""The ``callsight`` command tree (one Typer app per group), its console, and what every command shares."""

from __future__ import annotations

import os
from typing import Any

import typer
from rich.console import Console

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


def operator_of(actor: str | None) -> Any:
    from callsight.sweeps.deletion import Actor

    return Actor(
        actor=actor or os.environ.get("USER", "operator"), role="admin", request_id=f"cli-{os.getpid()}"
    )


AS_OF_HELP = "Run as if it were this date (YYYY-MM-DD), to see what a policy will do."


def as_of_date(value: str | None) -> Any:
    from datetime import UTC, datetime

    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None
