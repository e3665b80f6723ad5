"""Analysis documents in the transcripts bucket, beside the transcript they were built from."""

from __future__ import annotations

from typing import Any

from callsight.config import Settings
from callsight.models.analysis import ANALYSIS_SCHEMA_VERSION, CallAnalysis
from callsight.resources import TRANSCRIPTS_BUCKET
from callsight.storage import aws


def analysis_key(call_id: str, schema_version: int = ANALYSIS_SCHEMA_VERSION) -> str:
    return f"analysis/{call_id}/analysis.v{schema_version}.json"


class AnalysisStore:
    def __init__(self, settings: Settings) -> None:
        self._s3 = aws.client("s3", settings)
        self.bucket = TRANSCRIPTS_BUCKET.physical(settings)

    def put(self, analysis: CallAnalysis) -> tuple[str, str | None]:
        """Store ``analysis`` (its PII entities must already be masked); returns (key, version id)."""
        if not analysis.call_id:
            raise ValueError("a stored analysis needs its call_id")
        if any(e.pii and e.value != e.display for e in analysis.entities):
            raise ValueError(
                "refusing to store unmasked PII: pass callsight.models.analysis.without_pii(analysis)"
            )
        key = analysis_key(analysis.call_id, analysis.schema_version)
        response = self._s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=analysis.model_dump_json().encode("utf-8"),
            ContentType="application/json",
        )
        return key, response.get("VersionId")

    def get(self, key: str, version_id: str | None = None) -> CallAnalysis:
        extra: dict[str, Any] = {"VersionId": version_id} if version_id else {}
        return CallAnalysis.model_validate_json(
            self._s3.get_object(Bucket=self.bucket, Key=key, **extra)["Body"].read()
        )
