"""Schemathesis against ``/openapi.json``: generated requests to every operation, served by the real
local server on the emulator with real calls in it, never answer 5xx and match the document."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest
import schemathesis
from callsight.auth.tokens import Role
from callsight.local.api_server import LocalApi
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pynamodb.attributes import UTCDateTimeAttribute
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
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
    except (Exception, FailureGroup) as exc:  # FailureGroup: every failure of the operation
        failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    return failures


# --- input the schema allows but generators rarely produce ---------------------------------------------
# Schemathesis draws date-times with offsets and cursors it cannot sign, so on its own it never sent
# the inputs that crashed the API (issue 15, item 4): dates and offset-less date-times where a
# date-time is documented, the first and last representable days, ISO weeks at the edges of the
# calendar, non-finite numbers, and validly signed cursors whose payload has any shape at all.

TRICKY_EXAMPLES_PER_OPERATION = 50
OFFSETS = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
EDGE_DAYS = st.sampled_from([date.min, date.min + timedelta(days=1), date.max, date.max - timedelta(days=6)])
DAYS = st.one_of(EDGE_DAYS, st.dates())
MOMENTS = st.one_of(
    DAYS.map(date.isoformat),  # a bare date
    st.datetimes().map(datetime.isoformat),  # no offset
    st.datetimes().map(lambda moment: moment.isoformat(timespec="minutes")),
    st.builds(lambda day, tz: datetime.combine(day, time(), tz).isoformat(), EDGE_DAYS, OFFSETS),
    st.datetimes(timezones=st.just(UTC)).map(lambda moment: moment.isoformat().replace("+00:00", "Z")),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),  # pydantic reads numbers as epoch time
)
WEEKS = st.one_of(
    st.builds("{:04d}-W{:02d}".format, st.integers(0, 9999), st.integers(0, 99)),
    st.sampled_from(["0001-W01", "9999-W52", "9999-W51", "0000-W01", "2025-W53", "2026-W53", "2026-W00"]),
)
ODD_SCALARS = st.sampled_from(
    ["nan", "NaN", "inf", "-inf", "1e309", "-0", "", " ", "\x00", "9" * 40, "ä", "%"]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
KEY_NAMES = st.sampled_from(
    ["call_id", "feed_shard", "updated_at", "agent_id", "started_at", "call_day", "x"]
)
KEY_VALUES = st.one_of(
    st.dictionaries(st.sampled_from(["S", "N", "B", "M", "L", "NULL"]), JSON_VALUES, max_size=2),
    st.builds(
        lambda moment: {"S": UTCDateTimeAttribute().serialize(moment)}, st.datetimes(timezones=st.just(UTC))
    ),
    st.sampled_from([{"S": "0"}, {"S": "204"}, {"S": "00000000-0000-5000-8000-000000000000"}]),
    JSON_VALUES,
)
SCOPES = st.sampled_from(["calls:by-update", "calls:by-agent:204", "calls:by-agent:205", "feed"])
CURSOR_PAYLOADS = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries({"s": SCOPES, "k": JSON_VALUES}),
    st.fixed_dictionaries({"s": SCOPES, "k": st.dictionaries(KEY_NAMES, KEY_VALUES, max_size=4)}),
)


def sign_cursor(stack_settings: Any, payload: Any) -> str:
    """``payload`` as a cursor signed with the stack's secret, the way the API signs its own."""
    key = hashlib.sha256(b"cursor:" + stack_settings.auth_local_secret.get_secret_value().encode()).digest()
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return (
        base64.urlsafe_b64encode(hmac.new(key, body, hashlib.sha256).digest()[:12] + body)
        .decode()
        .rstrip("=")
    )


def written(moment: datetime, style: int) -> str:
    """One instant written the ways a client might: a date, without an offset, with its offset."""
    return [
        moment.date().isoformat(),
        moment.replace(tzinfo=None).isoformat(),
        moment.replace(tzinfo=None).isoformat(timespec="minutes"),
        moment.isoformat().replace("+00:00", "Z"),
    ][style]


def date_queries(names: list[str]) -> st.SearchStrategy[dict[str, str]]:
    """Values for every date or date-time parameter of an operation together: often one instant
    written in different styles (so ``since <= until`` holds and the query runs), else any values."""
    around = st.builds(
        lambda day, tz: datetime.combine(day, time(), tz), DAYS, st.one_of(st.just(UTC), OFFSETS)
    )
    shared = st.builds(
        lambda moment, styles: {
            name: written(moment, style) for name, style in zip(names, styles, strict=True)
        },
        around,
        st.lists(st.integers(0, 3), min_size=len(names), max_size=len(names)),
    )
    independent = st.fixed_dictionaries({name: MOMENTS for name in names})
    return st.one_of(shared, independent)


def tricky_queries(
    parameters: list[dict[str, Any]], stack_settings: Any
) -> st.SearchStrategy[dict[str, str]]:
    """Query values a schema-driven generator would not send, for one operation: its dates and
    date-times together, its ISO week, its cursor (validly signed), or one odd scalar in any one
    parameter (so that another parameter's 400 does not hide the one under test)."""
    dates = [p["name"] for p in parameters if {"date", "date-time"} & _formats(p["schema"])]
    names = {p["name"] for p in parameters}
    options = [st.builds(lambda name, value: {name: value}, st.sampled_from(sorted(names)), ODD_SCALARS)]
    if dates:
        options.append(date_queries(dates))
    if "week" in names:
        options.append(WEEKS.map(lambda week: {"week": week}))
    if "cursor" in names:
        options.append(CURSOR_PAYLOADS.map(lambda payload: {"cursor": sign_cursor(stack_settings, payload)}))
    return st.one_of(options)


def edge_queries(parameters: list[dict[str, Any]], stack_settings: Any) -> list[dict[str, str]]:
    """Inputs tried first, every run: each crashed the API once (issue 15, item 4)."""
    names = {p["name"] for p in parameters}
    dates = [p["name"] for p in parameters if {"date", "date-time"} & _formats(p["schema"])]
    queries: list[dict[str, str]] = []
    for day in (date.min, date.max):
        for style in range(4):
            queries.append({name: written(datetime.combine(day, time(), UTC), style) for name in dates})
        queries.append({dates[0]: f"{day.isoformat()}T00:00:00+01:00"} if dates else {})
        queries.append({dates[-1]: f"{day.isoformat()}T00:00:00-01:00"} if dates else {})
    if "week" in names:
        queries += [{"week": week} for week in ("9999-W52", "0001-W01", "2025-W53")]
    if "cursor" in names:
        moment = {"S": "2026-11-20T11:30:01.000000+0000"}
        for scope in ("calls:by-update", "calls:by-agent:204", "feed"):
            for key in ({}, {"call_id": {"N": "1"}, "feed_shard": {"S": "0"}, "updated_at": moment},
                        {"call_id": {"S": "x"}, "agent_id": {"S": "204"}, "started_at": {"S": "x"}}):  # fmt: skip
                queries.append({"cursor": sign_cursor(stack_settings, {"s": scope, "k": key})})
    return [query for query in queries if query]


def _formats(schema: dict[str, Any]) -> set[str]:
    return {s["format"] for s in [schema, *schema.get("anyOf", [])] if "format" in s}


@pytest.mark.parametrize(
    ("role", "extra"),
    [(Role.ADMIN, {}), (Role.AGENT, {"agent_id": "204"}), (Role.QA, {"teams": ["sales"]})],
    ids=["admin", "agent", "qa"],
)
def test_tricky_query_values_are_never_a_server_error(
    env: Stack, served: str, role: Role, extra: Any
) -> None:
    schema = schemathesis.openapi.from_url(f"{served}/openapi.json")
    headers = bearer(env, role, **extra)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        parameters = [p.definition for p in operation.query]
        if operation.method.upper() != "GET" or not parameters:
            continue
        failures += fuzz_tricky(operation, parameters, served, headers, env.settings)
    assert failures == [], "\n\n".join(failures)


def edge_examples(operation: Any, queries: list[dict[str, str]]) -> Callable[[Any], Any]:
    """Hypothesis examples (always run, before generated ones) of these queries alone."""

    def decorate(test: Any) -> Any:
        for query in queries:
            test = example(case=operation.Case(query={}), replaced=query)(test)
        return test

    return decorate


def fuzz_tricky(
    operation: Any,
    parameters: list[dict[str, Any]],
    base_url: str,
    headers: dict[str, str],
    stack_settings: Any,
) -> list[str]:
    """Schema-generated cases of one operation with some query parameters replaced by tricky values."""

    @given(case=operation.as_strategy(), replaced=tricky_queries(parameters, stack_settings))
    @edge_examples(operation, edge_queries(parameters, stack_settings))
    @settings(
        max_examples=TRICKY_EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def check(case: Any, replaced: dict[str, str]) -> None:
        case.headers = {**(case.headers or {}), **headers}
        case.query = {**(case.query or {}), **replaced}
        response = case.call(base_url=base_url, timeout=30)
        case.validate_response(response, checks=CHECKS)
        if response.status_code == 400:
            assert response.json()["message"], "a 400 names its reason"

    try:
        check()
    except (Exception, FailureGroup) as exc:  # FailureGroup: every failure of the operation
        failures = [f"{operation.method.upper()} {operation.path}: {exc}"]
        return failures
    return []
