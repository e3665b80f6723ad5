"""``callsight voiceprint opt-in|remove|show``: per-agent voice prints from the command line.

Runs :class:`callsight.sweeps.voiceprints.VoicePrintService` against ``CALLSIGHT_AWS_ENDPOINT``
(the local emulator, LocalStack) or, unset, the AWS account of the caller's credentials — like
``consent``. Every command is audited under the operator's name; the vector is never shown.
"""

from __future__ import annotations

import getpass
import os
import re
from typing import Annotated

import typer
from rich.console import Console

from callsight.config import get_settings
from callsight.models.voiceprint import AGENT_ID_PATTERN
from callsight.sweeps.deletion import Actor
from callsight.sweeps.voiceprints import VoicePrintMissing, VoicePrintService

voiceprint_app = typer.Typer(
    help="Per-agent voice prints (biometric, opt-in): opt an agent in, show the entry, erase it.",
    no_args_is_help=True,
)
console = Console()
if not console.is_terminal:
    console.width = 200

AgentOption = Annotated[str, typer.Option("--agent", help="The agent id, as call metadata names the agent.")]
ActorOption = Annotated[str | None, typer.Option(help="Who does it (audit log).")]


def operator_of(actor: str | None) -> Actor:
    return Actor(actor=actor or getpass.getuser(), role="admin", request_id=f"cli-{os.getpid()}")


def _agent(agent: str) -> str:
    if not re.fullmatch(AGENT_ID_PATTERN, agent):
        raise typer.BadParameter("1-128 letters, digits or . _ @ + -", param_hint="--agent")
    return agent


@voiceprint_app.command("opt-in")
def voiceprint_opt_in(
    agent: AgentOption,
    consent_confirmed: Annotated[
        bool, typer.Option("--consent-confirmed", help="Required: the agent's consent is recorded.")
    ] = False,
    note: Annotated[str | None, typer.Option(help="E.g. the consent form's reference.")] = None,
    actor: ActorOption = None,
) -> None:
    """Opt an agent in: their next stereo call enrolls a voice print, used on their mono calls."""
    if not consent_confirmed:
        raise typer.BadParameter(
            "a voice print is biometric data: record the agent's consent, then pass --consent-confirmed",
            param_hint="--consent-confirmed",
        )
    change = VoicePrintService(get_settings()).opt_in(_agent(agent), operator_of(actor), note)
    entry = change.entry
    what = "opted in" if change.created else f"already {entry.state.value}; unchanged"
    console.print(f"agent {entry.agent_id}: {what} (consent by {entry.consented_by})", highlight=False)


@voiceprint_app.command("show")
def voiceprint_show(agent: AgentOption, actor: ActorOption = None) -> None:
    """State, consent and enrollment of an agent's voice print (exit 1: no entry)."""
    try:
        entry = VoicePrintService(get_settings()).show(_agent(agent), operator_of(actor))
    except VoicePrintMissing as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    console.print(
        f"agent {entry.agent_id}: {entry.state.value}; consent by {entry.consented_by} at "
        f"{entry.consented_at:%Y-%m-%d %H:%M:%S} UTC",
        highlight=False,
    )
    if entry.enrolled_at is not None:
        console.print(
            f"enrolled {entry.enrolled_at:%Y-%m-%d %H:%M:%S} UTC from call {entry.source_call_id} "
            f"({entry.speech_s} s of speech, {entry.encoder})",
            highlight=False,
        )


@voiceprint_app.command("remove")
def voiceprint_remove(agent: AgentOption, actor: ActorOption = None) -> None:
    """Withdraw the opt-in and erase the print (exit 1: no entry)."""
    try:
        removal = VoicePrintService(get_settings()).remove(_agent(agent), operator_of(actor))
    except VoicePrintMissing as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    erased = "; voice print erased" if removal.print_erased else " (no print had been enrolled)"
    console.print(f"agent {removal.agent_id}: opt-in withdrawn{erased}", highlight=False)
