"""Deployed functions get secret ARNs, not secrets: the keys are read from Secrets Manager (here the
emulator's) once at cold start, so they never sit in a function's environment or configuration."""

from __future__ import annotations

from typing import Any

import pytest
from callsight.config import Settings
from callsight.storage import aws
from callsight.storage.secrets import with_secrets

from tests.integration.conftest import Stack


def test_secret_arns_are_resolved_from_secrets_manager(env: Stack) -> None:
    client: Any = aws.client("secretsmanager", env.settings)
    phone = client.create_secret(Name=env.settings.name("phone-hash-key"), SecretString="k" * 64)["ARN"]
    token = client.create_secret(Name=env.settings.name("auth-token-secret"), SecretString="t" * 64)["ARN"]
    audit = client.create_secret(Name=env.settings.name("audit-key"), SecretString="a" * 64)["ARN"]
    plain = env.settings.model_copy(
        update={
            "phone_hash_key_secret_arn": phone,
            "auth_local_secret_arn": token,
            "audit_key_secret_arn": audit,
        }
    )
    resolved = with_secrets(plain)
    assert resolved.phone_hash_key.get_secret_value() == "k" * 64
    assert resolved.auth_local_secret.get_secret_value() == "t" * 64
    assert resolved.audit_key.get_secret_value() == "a" * 64
    assert "k" * 64 not in repr(resolved)  # SecretStr: never printed
    assert with_secrets(env.settings) is env.settings  # nothing to resolve: no AWS call


def test_a_missing_secret_stops_the_function_from_starting(env: Stack) -> None:
    arn = f"arn:aws:secretsmanager:{env.settings.region}:123456789012:secret:missing-AbCdEf"
    with pytest.raises(Exception, match="ResourceNotFoundException"):
        with_secrets(Settings.model_validate(env.settings.model_dump() | {"phone_hash_key_secret_arn": arn}))
