"""Endpoint routing: every client at CALLSIGHT_AWS_ENDPOINT, DynamoDB alone elsewhere when asked
(LocalStack without Docker serves no DynamoDB; a moto server does, see infrastructure/localstack/)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from callsight.config import Settings
from callsight.storage import aws
from callsight.storage.provisioning import forget_prefix
from callsight.storage.tables import TABLE_MODELS, CallItem, bind_tables

MAIN = "http://127.0.0.1:4566"
DYNAMODB = "http://127.0.0.1:4567"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CALLSIGHT_AWS_ENDPOINT", "CALLSIGHT_DYNAMODB_ENDPOINT", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def restored_tables() -> Iterator[None]:
    """bind_tables rebinds process-wide models: put them back for the tests that follow."""
    fields = ("table_name", "host", "region", "aws_access_key_id", "aws_secret_access_key")
    saved = [(m, {f: getattr(m.Meta, f, None) for f in fields}, m._connection) for m in TABLE_MODELS.values()]
    yield
    for model, meta, connection in saved:
        for name, value in meta.items():
            setattr(model.Meta, name, value)
        model._connection = connection


@pytest.mark.usefixtures("clean_env")
def test_every_service_uses_the_one_endpoint_unless_dynamodb_has_its_own() -> None:
    assert Settings().endpoint_for("dynamodb") is None  # real AWS: the SDK resolves endpoints
    one = Settings(aws_endpoint=MAIN)
    assert one.endpoint_for("s3") == one.endpoint_for("dynamodb") == MAIN
    split = Settings(aws_endpoint=MAIN, dynamodb_endpoint=DYNAMODB)
    assert (split.endpoint_for("sqs"), split.endpoint_for("dynamodb")) == (MAIN, DYNAMODB)
    clients: dict[str, Any] = {s: aws.client(s, split) for s in ("s3", "sqs", "dynamodb")}
    assert {s: c.meta.endpoint_url for s, c in clients.items()} == {
        "s3": MAIN,
        "sqs": MAIN,
        "dynamodb": DYNAMODB,
    }


@pytest.mark.usefixtures("clean_env")
def test_the_dynamodb_endpoint_comes_from_ours_or_from_aws_own_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CALLSIGHT_AWS_ENDPOINT", MAIN)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", DYNAMODB)
    assert Settings().endpoint_for("dynamodb") == DYNAMODB  # else our explicit endpoint would hide it
    monkeypatch.setenv("CALLSIGHT_DYNAMODB_ENDPOINT", "http://127.0.0.1:9999")
    assert Settings().endpoint_for("dynamodb") == "http://127.0.0.1:9999"


@pytest.mark.usefixtures("clean_env", "restored_tables")
def test_pynamodb_models_are_bound_to_the_dynamodb_endpoint() -> None:
    bind_tables(Settings(aws_endpoint=MAIN, dynamodb_endpoint=DYNAMODB, prefix="routing"))
    assert (CallItem.Meta.host, CallItem.Meta.table_name) == (DYNAMODB, "routing-calls")
    bind_tables(Settings(aws_endpoint=MAIN, prefix="routing"))
    assert CallItem.Meta.host == MAIN


@pytest.mark.usefixtures("clean_env")
def test_forgetting_a_prefix_never_runs_against_real_aws() -> None:
    with pytest.raises(RuntimeError, match="emulator"):
        forget_prefix(Settings(dynamodb_endpoint=DYNAMODB))
