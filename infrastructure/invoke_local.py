"""Invoke one function locally with a sample event, in-process, the way Lambda would call it.

    .venv/bin/python infrastructure/invoke_local.py erasure events/erasure/erase_subject_dry_run.json
    .venv/bin/python infrastructure/invoke_local.py api events/api/list_calls.json
    CALLSIGHT_AWS_ENDPOINT=http://127.0.0.1:5055 .venv/bin/python infrastructure/invoke_local.py \
        retention_sweep events/schedules/eventbridge_scheduled.json

FUNCTION is a folder of ``functions/``; its handler is the one the template names (``app.lambda_handler``,
``app.app`` for the Chalice API). AWS is ``--endpoint`` or ``CALLSIGHT_AWS_ENDPOINT`` when given (the
emulator of ``callsight local up`` in another shell, or LocalStack), else a fresh embedded emulator
provisioned from ``callsight.resources`` for this one call. ``{{token:<role>}}`` in the event (the API
samples' ``Authorization`` header) becomes a local HS256 token of that role. The response is printed
as JSON on stdout; the function's own logs go to stderr with ``--verbose``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TOKEN_PLACEHOLDER = re.compile(r"\{\{token:(admin|qa|agent|crm)\}\}")


def _quiet_powertools(verbose: bool) -> None:
    from callsight.local.bootstrap import quiet_telemetry

    quiet_telemetry(verbose)


@contextlib.contextmanager
def aws_endpoint(endpoint: str | None) -> Iterator[str]:
    """The given endpoint, or an embedded emulator with every resource provisioned (stopped after)."""
    if endpoint:
        os.environ["CALLSIGHT_AWS_ENDPOINT"] = endpoint
        yield endpoint
        return
    from callsight.local.bootstrap import local_stack

    with local_stack() as settings:
        assert settings.aws_endpoint is not None
        yield settings.aws_endpoint


def with_tokens(text: str) -> str:
    """Replace ``{{token:<role>}}`` with a local token of that role."""
    from callsight.auth.tokens import Role, mint_local_token
    from callsight.config import get_settings

    def token(match: re.Match[str]) -> str:
        role = Role(match.group(1))
        return mint_local_token(
            get_settings(),
            subject=f"local-{role.value}",
            role=role,
            teams=["sales", "support"] if role is Role.QA else None,
            agent_id="201" if role is Role.AGENT else None,
        )

    return TOKEN_PLACEHOLDER.sub(token, text)


def invoke(function: str, event_path: Path, timeout_s: int = 900) -> Any:
    """Load ``functions/<function>/app.py`` and call its handler with the event (AWS already chosen)."""
    from callsight.config import get_settings, reset_settings
    from callsight.local.runner import LambdaContext, load_function_module
    from callsight.storage import aws

    reset_settings()
    aws.reset_clients()
    module = load_function_module(function)
    if module is None:
        raise SystemExit(f"no functions/{function}/app.py")
    handler = getattr(module, "lambda_handler", None) or getattr(module, "app", None)
    if handler is None:
        raise SystemExit(f"functions/{function}/app.py has neither lambda_handler nor a Chalice app")
    event = json.loads(with_tokens(event_path.read_text(encoding="utf-8")))
    context = LambdaContext(
        function_name=get_settings().name(function.replace("_", "-")), timeout_s=timeout_s
    )
    return handler(event, context)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("function", help="a folder of functions/, e.g. erasure")
    parser.add_argument(
        "event", type=Path, help="a JSON event, e.g. events/erasure/erase_subject_dry_run.json"
    )
    parser.add_argument(
        "--endpoint", default=os.environ.get("CALLSIGHT_AWS_ENDPOINT"), help="AWS endpoint to use"
    )
    parser.add_argument("--timeout", type=int, default=900, help="the context's remaining time, seconds")
    parser.add_argument("--verbose", action="store_true", help="the function's logs and metrics on stderr")
    args = parser.parse_args(argv)
    _quiet_powertools(args.verbose)
    # Powertools writes logs and metrics to stdout: keep stdout for the response alone.
    captured = io.StringIO()
    with aws_endpoint(args.endpoint), contextlib.redirect_stdout(captured):
        response = invoke(args.function, args.event, args.timeout)
    if args.verbose:
        sys.stderr.write(captured.getvalue())
    print(json.dumps(response, indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
