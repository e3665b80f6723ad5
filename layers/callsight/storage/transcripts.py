"""Transcript documents in the transcripts bucket: one key per call and schema version.

Re-transcribing a call overwrites the same key; the bucket is versioned, so earlier versions stay
until retention removes them, and the call record names the exact version it was built from.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from callsight.config import Settings
from callsight.models.transcript import TRANSCRIPT_SCHEMA_VERSION, Transcript
from callsight.resources import TRANSCRIPTS_BUCKET
from callsight.storage import aws


def transcript_key(call_id: str, schema_version: int = TRANSCRIPT_SCHEMA_VERSION) -> str:
    return f"transcripts/{call_id}/transcript.v{schema_version}.json"


#: What S3 (and the emulators) answer for an absent object or version.
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchVersion"})


class TranscriptStore:
    def __init__(self, settings: Settings) -> None:
        self._s3 = aws.client("s3", settings)
        self.bucket = TRANSCRIPTS_BUCKET.physical(settings)

    def put(self, transcript: Transcript) -> tuple[str, str | None]:
        """Write the transcript of ``transcript.call_id``; returns (key, S3 version id)."""
        if not transcript.call_id:
            raise ValueError("a stored transcript needs its call_id")
        key = transcript_key(transcript.call_id, transcript.schema_version)
        response = self._s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=transcript.model_dump_json().encode("utf-8"),
            ContentType="application/json",
            Metadata={"call-id": transcript.call_id, "schema-version": str(transcript.schema_version)},
        )
        return key, response.get("VersionId")

    def get(self, key: str, version_id: str | None = None) -> Transcript:
        extra: dict[str, Any] = {"VersionId": version_id} if version_id else {}
        body = self._s3.get_object(Bucket=self.bucket, Key=key, **extra)["Body"].read()
        return Transcript.model_validate_json(body)

    def get_or_newest(self, key: str, version_id: str | None) -> Transcript:
        """That version of the transcript, or the newest one when that version is gone (an
        interrupted masking run already replaced it by the masked version)."""
        try:
            return self.get(key, version_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchVersion":
                raise
            return self.get(key)

    def find(self, key: str, version_id: str | None = None) -> Transcript | None:
        """That version of the transcript, or None when the object or that version is not in the
        bucket (removed, or never written): a reader's 404, not a server error."""
        try:
            return self.get(key, version_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING_CODES:
                return None
            raise

    def versions(self, key: str) -> list[str]:
        """Every stored version id of ``key`` (newest first)."""
        listing = self._s3.list_object_versions(Bucket=self.bucket, Prefix=key)
        return [v["VersionId"] for v in listing.get("Versions", []) if v["Key"] == key]
