"""Schemathesis against ``/openapi.json``: generated requests to every operation, served by the real
local server on the emulator with real calls in it, never answer 5xx and match the document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from callsight.auth.tokens import Role
from callsight.local.api_server import LocalApi
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.conftest import Stack
from tests.integration.test_api import analysed_call, bearer

EXAMPLES_PER_OPERATION = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def served(env: Stack) -> Iterator[str]:
    analysed_call(
        env, "in-204-+79031234561-20261120-113001-1.1.wav", "Доставку задержали. Когда привезут заказ?"
    )
    analysed_call(env, "in-205-+79031234562-20261121-113002-2.1.wav", "Телевизор слишком дорогой, я подумаю.")
    api = LocalApi(port=0)
    url = api.start()
    try:
        yield url
    finally:
        api.stop()


@pytest.mark.parametrize(
    ("role", "extra"),
    [(Role.ADMIN, {}), (Role.AGENT, {"agent_id": "204"}), (Role.QA, {"teams": ["sales"]}), (None, {})],
    ids=["admin", "agent", "qa", "no-token"],
)
def test_generated_requests_never_get_a_server_error(
    env: Stack, served: str, role: Role | None, extra: Any
) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{served}/openapi.json", timeout=10) as response:  # noqa: S310  # localhost
        document = __import__("json").loads(response.read())
    schema = schemathesis.openapi.from_dict(document)
    headers = bearer(env, role, **extra) if role is not None else {}
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() in {"PUT", "POST", "DELETE"} and role is Role.ADMIN:
            continue  # admin writes erase/hold real data: covered by the admin-route tests, not fuzzed
        failures += fuzz(operation, served, headers)
    assert failures == [], "\n\n".join(failures)


def fuzz(operation: Any, base_url: str, headers: dict[str, str]) -> list[str]:
    """Generated cases for one operation; the failures found (schemathesis shrinks each)."""
    failures: list[str] = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def check(case: Any) -> None:
        case.headers = {**(case.headers or {}), **headers}
        response = case.call(base_url=base_url, timeout=30)
        case.validate_response(response, checks=CHECKS)

    try:
        check()
    except Exception as exc:
        failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    return failures
