"""boto3 clients pointed at the right AWS: the real one, the embedded emulator or LocalStack.

``CALLSIGHT_AWS_ENDPOINT`` switches every client at once; ``CALLSIGHT_DYNAMODB_ENDPOINT`` (or
``AWS_ENDPOINT_URL_DYNAMODB``) moves DynamoDB alone elsewhere (see ``Settings.endpoint_for``).
Against an emulator without credentials in the environment, the emulator's conventional dummy
credentials are used.

:func:`client` is typed per service (the ``mypy_boto3_*`` stubs, a type-checking dependency only):
``client("s3", settings)`` is an ``S3Client``, so a misspelt operation or parameter is a mypy error.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
from botocore.config import Config

from callsight.config import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

EMULATOR_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}

_RETRIES = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=60)


def emulator_credentials(settings: Settings) -> dict[str, str]:
    """Dummy credentials when talking to an emulator with none configured; otherwise nothing."""
    emulated = settings.aws_endpoint or settings.dynamodb_endpoint
    if emulated and boto3.Session().get_credentials() is None:
        return dict(EMULATOR_CREDENTIALS)
    return {}


@lru_cache(maxsize=32)
def _client(service: str, endpoint: str | None, region: str, creds: tuple[tuple[str, str], ...]) -> Any:
    return boto3.session.Session().client(  # type: ignore[call-overload]
        service, endpoint_url=endpoint, region_name=region, config=_RETRIES, **dict(creds)
    )


@overload
def client(service: Literal["s3"], settings: Settings) -> S3Client: ...
@overload
def client(service: Literal["sqs"], settings: Settings) -> SQSClient: ...
@overload
def client(service: Literal["sns"], settings: Settings) -> SNSClient: ...
@overload
def client(service: Literal["events"], settings: Settings) -> EventBridgeClient: ...
@overload
def client(service: Literal["dynamodb"], settings: Settings) -> DynamoDBClient: ...
@overload
def client(service: Literal["secretsmanager"], settings: Settings) -> Any: ...  # no stubs installed
def client(service: str, settings: Settings) -> Any:
    """A cached, thread-safe boto3 client for ``service`` honouring the configured endpoint."""
    creds = tuple(sorted(emulator_credentials(settings).items()))
    return _client(service, settings.endpoint_for(service), settings.region, creds)


def reset_clients() -> None:
    _client.cache_clear()
    _presigner.cache_clear()


@lru_cache(maxsize=4)
def _presigner(endpoint: str | None, region: str, creds: tuple[tuple[str, str], ...]) -> Any:
    config = _RETRIES.merge(Config(signature_version="s3v4"))
    return boto3.session.Session().client(  # type: ignore[call-overload]
        "s3", endpoint_url=endpoint, region_name=region, config=config, **dict(creds)
    )


def presigning_s3(settings: Settings) -> S3Client:
    """An S3 client that presigns with Signature Version 4 (SigV2 URLs are deprecated)."""
    creds = tuple(sorted(emulator_credentials(settings).items()))
    presigner: S3Client = _presigner(settings.aws_endpoint, settings.region, creds)
    return presigner
