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

from callsight.cli import calls, compliance, local  # noqa: F401  (each registers its commands)
from callsight.cli.apps import app
from callsight.cli.consent import consent_app
from callsight.cli.train import train_command
from callsight.cli.voiceprint import voiceprint_app
from callsight.reconcile.command import reconcile_command

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

__all__ = ["app", "main"]


def main() -> None:
    app()
