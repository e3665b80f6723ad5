"""Secrets Manager: the keys a deployed function is given as ARNs, read once at cold start.

The template passes ``*_SECRET_ARN`` settings, never the keys, so no key sits in a function's
environment or configuration. :func:`resolved_settings` is what handlers and the CLI start from;
locally (no ARNs) it is :func:`callsight.config.get_settings` unchanged, with no AWS call.
"""

from __future__ import annotations

from pydantic import SecretStr

from callsight.config import Settings, get_settings
from callsight.storage import aws

_last: tuple[Settings, Settings] | None = None


def with_secrets(settings: Settings) -> Settings:
    """``settings`` with every ``*_secret_arn`` replaced by its secret's value (``settings`` itself
    when there is none). A missing secret raises: a function must not start without its keys."""
    wanted = settings.secret_arns()
    if not wanted:
        return settings
    client = aws.client("secretsmanager", settings)
    values = {
        field: SecretStr(client.get_secret_value(SecretId=arn)["SecretString"])
        for field, arn in wanted.items()
    }
    return settings.model_copy(update=values)


def resolved_settings() -> Settings:
    """The process-wide settings with their secrets resolved (once per :func:`get_settings` object,
    so :func:`callsight.config.reset_settings` also drops the resolved copy)."""
    global _last
    plain = get_settings()
    if _last is None or _last[0] is not plain:
        _last = (plain, with_secrets(plain))
    return _last[1]
