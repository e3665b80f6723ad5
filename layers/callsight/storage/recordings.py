"""S3 access for recordings and their sidecars: head, bounded reads, streamed download with SHA-256."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from callsight.config import Settings
from callsight.resources import RECORDINGS_BUCKET
from callsight.storage import aws

_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchVersion", "NoSuchBucket"})
_CHUNK = 1024 * 1024


class ObjectMissing(Exception):
    """The object (or that version of it) is not in the bucket any more."""


class ObjectTooLarge(Exception):
    """A bounded read found more bytes than allowed."""


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    etag: str | None
    version_id: str | None
    last_modified: datetime | None
    user_metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ListedVersion:
    """One object version as a bucket listing gives it."""

    key: str
    version_id: str | None
    etag: str | None
    size: int
    last_modified: datetime
    is_latest: bool


def _is_missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING_CODES


class RecordingStore:
    """Reads recordings and sidecars from S3 (never writes or deletes them)."""

    def __init__(self, settings: Settings) -> None:
        self._s3 = aws.client("s3", settings)

    def _version_args(self, version_id: str | None) -> dict[str, Any]:
        return {"VersionId": version_id} if version_id and version_id != "null" else {}

    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectInfo:
        try:
            head = self._s3.head_object(Bucket=bucket, Key=key, **self._version_args(version_id))
        except ClientError as exc:
            if _is_missing(exc):
                raise ObjectMissing(f"s3://{bucket}/{key} does not exist") from exc
            raise
        return ObjectInfo(
            size=int(head.get("ContentLength", 0)),
            etag=(head.get("ETag") or "").strip('"') or None,
            version_id=head.get("VersionId"),
            last_modified=head.get("LastModified"),
            user_metadata=dict(head.get("Metadata") or {}),
        )

    def read_bounded(self, bucket: str, key: str, max_bytes: int) -> bytes:
        """Whole object if it is at most ``max_bytes`` long (for sidecars)."""
        try:
            body = self._s3.get_object(Bucket=bucket, Key=key)["Body"]
        except ClientError as exc:
            if _is_missing(exc):
                raise ObjectMissing(f"s3://{bucket}/{key} does not exist") from exc
            raise
        data: bytes = body.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ObjectTooLarge(f"s3://{bucket}/{key} is larger than {max_bytes} bytes")
        return data

    def download(self, bucket: str, key: str, version_id: str | None, target: Path) -> str:
        """Stream the object to ``target``; returns its SHA-256 hex digest."""
        try:
            body = self._s3.get_object(Bucket=bucket, Key=key, **self._version_args(version_id))["Body"]
        except ClientError as exc:
            if _is_missing(exc):
                raise ObjectMissing(f"s3://{bucket}/{key} disappeared while being read") from exc
            raise
        digest = hashlib.sha256()
        with target.open("wb") as handle:
            for chunk in iter(lambda: body.read(_CHUNK), b""):
                digest.update(chunk)
                handle.write(chunk)
        return digest.hexdigest()

    def versions(self, bucket: str, key: str) -> list[ObjectInfo]:
        """Every version of exactly ``key``, newest first (delete markers left out)."""
        found: list[ObjectInfo] = []
        for page in self._s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
            found += [
                ObjectInfo(
                    size=int(v.get("Size", 0)),
                    etag=(v.get("ETag") or "").strip('"') or None,
                    version_id=v.get("VersionId"),
                    last_modified=v.get("LastModified"),
                )
                for v in page.get("Versions", [])
                if v["Key"] == key
            ]
        return found

    def listed_versions(self, bucket: str, prefix: str) -> Iterator[ListedVersion]:
        """Every object version under ``prefix`` (delete markers left out), 1,000 a page."""
        for page in self._s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
            for entry in page.get("Versions", []):
                yield ListedVersion(
                    key=entry["Key"],
                    version_id=entry.get("VersionId"),
                    etag=(entry.get("ETag") or "").strip('"') or None,
                    size=int(entry.get("Size", 0)),
                    last_modified=entry["LastModified"],
                    is_latest=bool(entry.get("IsLatest", True)),
                )

    def keys_with_prefix(self, bucket: str, prefix: str, limit: int = 50) -> list[str]:
        page = self._s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=limit)
        return [item["Key"] for item in page.get("Contents", [])]


class RecordingUploads:
    """Puts recordings and sidecars where a PBX would (``callsight ingest``, the demo); the pipeline
    itself never writes to the recordings bucket's upload prefix."""

    def __init__(self, settings: Settings) -> None:
        self._s3 = aws.client("s3", settings)
        self._bucket = RECORDINGS_BUCKET.physical(settings)
        self._prefix = settings.recordings_prefix

    def upload(self, path: Path, content_type: str) -> str:
        """Upload ``path`` under the recordings prefix by its file name; returns the key."""
        key = self._prefix + path.name
        self._s3.upload_file(str(path), self._bucket, key, ExtraArgs={"ContentType": content_type})
        return key


class AudioLinks:
    """Short-lived presigned GET URLs of recordings (Signature Version 4), for the API's audio route:
    the browser fetches the audio from S3 directly, the API never streams it."""

    def __init__(self, settings: Settings) -> None:
        self._s3 = aws.presigning_s3(settings)

    def url(self, bucket: str, key: str, expires_in_s: int) -> str:
        """A URL that reads ``s3://bucket/key`` for ``expires_in_s`` seconds (signed locally, no request)."""
        url: str = self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in_s
        )
        return url
