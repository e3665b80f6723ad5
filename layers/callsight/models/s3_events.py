"""S3 event notifications as delivered through SQS (AWS, LocalStack and moto shapes alike).

Only the fields Callsight uses are modelled; unknown fields are ignored so a newer S3 schema
version does not break ingest. Keys arrive URL-encoded (space as ``+``) and are decoded here.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class S3Bucket(_Lenient):
    name: str


class S3Object(_Lenient):
    key: str
    size: int | None = None
    etag: str | None = Field(default=None, alias="eTag")
    version_id: str | None = Field(default=None, alias="versionId")
    sequencer: str | None = None

    @field_validator("key")
    @classmethod
    def _decode_key(cls, value: str) -> str:
        return unquote_plus(value)

    @field_validator("etag")
    @classmethod
    def _strip_quotes(cls, value: str | None) -> str | None:
        return value.strip('"') if value else value


class S3Entity(_Lenient):
    bucket: S3Bucket
    object: S3Object


class S3EventRecord(_Lenient):
    event_name: str = Field(alias="eventName")
    event_time: datetime | None = Field(default=None, alias="eventTime")
    aws_region: str | None = Field(default=None, alias="awsRegion")
    s3: S3Entity

    @property
    def is_object_created(self) -> bool:
        return self.event_name.startswith("ObjectCreated")


class S3EventNotification(_Lenient):
    records: list[S3EventRecord] = Field(alias="Records")


class S3TestEvent(_Lenient):
    """Sent once by S3 when a notification configuration is created."""

    event: str = Field(alias="Event")
    bucket: str | None = Field(default=None, alias="Bucket")
