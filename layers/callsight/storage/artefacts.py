"""Every S3 object that belongs to a call, and deleting all of their versions.

A call owns: its recording and its sidecar under either name ingest reads (every version, delete markers too) and anything under
``redacted/<call_id>/`` in the recordings bucket; ``transcripts/<call_id>/`` and
``analysis/<call_id>/`` in the transcripts bucket.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from callsight.config import Settings
from callsight.models.call import CallRecord
from callsight.models.recording_keys import sidecar_keys_for
from callsight.resources import RECORDINGS_BUCKET, TRANSCRIPTS_BUCKET
from callsight.storage import aws

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef


def key_digest(key: str) -> str:
    """A stable name for a key in receipts (keys can carry phone numbers)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


class CallArtefacts:
    def __init__(self, settings: Settings) -> None:
        self._s3 = aws.client("s3", settings)
        self.recordings = RECORDINGS_BUCKET.physical(settings)
        self.transcripts = TRANSCRIPTS_BUCKET.physical(settings)

    def has_redacted(self, call_id: str) -> bool:
        """Whether a redacted copy of the call's recording is stored."""
        listing = self._s3.list_objects_v2(Bucket=self.recordings, Prefix=f"redacted/{call_id}/", MaxKeys=1)
        return bool(listing.get("KeyCount"))

    def put_redacted(self, call_id: str, source: Path, file_name: str) -> str:
        """Store a redacted recording as ``redacted/<call_id>/<file_name>``; returns the key."""
        key = f"redacted/{call_id}/{file_name}"
        self._s3.upload_file(str(source), self.recordings, key)
        return key

    def locations(self, call: CallRecord) -> list[tuple[str, str, bool]]:
        """(bucket, key or prefix, is_prefix) of everything the call owns. A superseded call (a newer
        version of its key has its own call: one call per key) no longer owns the recording key."""
        source = call.source
        recording = [] if call.superseded_by else [
            (source.bucket, source.key, False),
            *((source.bucket, sidecar, False) for sidecar in dict.fromkeys(sidecar_keys_for(source.key))),
        ]  # fmt: skip
        return [
            *recording,
            (self.recordings, f"redacted/{call.call_id}/", True),
            (self.transcripts, f"transcripts/{call.call_id}/", True),
            (self.transcripts, f"analysis/{call.call_id}/", True),
        ]

    def versions(self, call: CallRecord) -> list[tuple[str, str, str]]:
        """(bucket, key, version id) of every object version and delete marker the call owns."""
        return [
            v
            for bucket, key, is_prefix in self.locations(call)
            for v in self._versions_of(bucket, key, is_prefix)
        ]

    def delete_all(self, call: CallRecord) -> list[tuple[str, str, str]]:
        """Delete every version; returns what was deleted (already-gone versions are not an error)."""
        deleted = self.versions(call)
        self._delete(deleted)
        return deleted

    def delete_versions(self, bucket: str, key: str, keep: str | None = None) -> int:
        """Delete every version (and delete marker) of one key except ``keep``; returns how many."""
        doomed = [v for v in self._versions_of(bucket, key, is_prefix=False) if v[2] != keep]
        self._delete(doomed)
        return len(doomed)

    def key_versions(self, bucket: str, key: str) -> list[tuple[str, str, str]]:
        """(bucket, key, version id) of every version and delete marker of one key."""
        return self._versions_of(bucket, key, is_prefix=False)

    def _versions_of(self, bucket: str, key: str, is_prefix: bool) -> list[tuple[str, str, str]]:
        found: list[tuple[str, str, str]] = []
        for page in self._s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
            for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                if is_prefix or entry["Key"] == key:
                    found.append((bucket, entry["Key"], entry["VersionId"]))
        return found

    def _delete(self, versions: list[tuple[str, str, str]]) -> None:
        by_bucket: dict[str, list[ObjectIdentifierTypeDef]] = {}
        for bucket, key, version in versions:
            by_bucket.setdefault(bucket, []).append({"Key": key, "VersionId": version})
        for bucket, objects in by_bucket.items():
            for start in range(0, len(objects), 1000):
                response = self._s3.delete_objects(
                    Bucket=bucket, Delete={"Objects": objects[start : start + 1000], "Quiet": True}
                )
                # A version deleted meanwhile (a concurrent sweep) is gone, as wanted: AWS and moto
                # report it as deleted, LocalStack (like older MinIO) as a NoSuchVersion error.
                errors = [e for e in response.get("Errors", []) if e.get("Code") != "NoSuchVersion"]
                if errors:
                    raise RuntimeError(
                        f"S3 refused to delete {len(errors)} object version(s) in {bucket}: {errors[0]}"
                    )
