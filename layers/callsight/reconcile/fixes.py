"""``--fix``: the repairs that are safe because every stage is idempotent, and only when provably needed.

A repair re-sends the one message the pipeline lost; it never edits or deletes a record:

* a **stuck in-progress call** (RECEIVED or TRANSCRIBING → a ``TranscribeRequest``; TRANSCRIBED → an
  ``AnalyzeRequest`` for the transcript version on the record), and
* a **lost recording** (no call at all → an S3 ``ObjectCreated`` notification for that exact version
  on the ingest queue, the same body S3 sends).

Only when **every stage queue is idle** (nothing visible, nothing in flight), which is the one state
in which "no message for this call is on its way" can be proven without consuming messages, and only
for calls and keys that no dead letter names (those need the cause fixed and a DLQ redrive, not a
second copy). The call is read again right before sending; a call that moved meanwhile is left alone.
Receiving a duplicate is harmless anyway: ingest dedupes by ``call_id``, transcribe and analyze by
status and Powertools idempotency. Everything else — duplicates, orphans, FAILED calls, dead
letters — needs a decision and is only reported.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_plus

from callsight.config import Settings
from callsight.models.call import CallStatus
from callsight.models.messages import AnalyzeRequest, TranscribeRequest
from callsight.reconcile.models import Fix, InProgressCall, MissingCall, ReconcileReport
from callsight.resources import ANALYZE_QUEUE, INGEST_QUEUE, QUEUES, TRANSCRIBE_QUEUE
from callsight.storage.call_repository import CallRepository
from callsight.storage.queues import StageQueue

BUSY = "not fixed: the pipeline is busy, so a message for it may still be on its way"


def object_created_notification(missing: MissingCall, region: str) -> dict[str, Any]:
    """The S3 event notification S3 itself would have sent for this object version (key URL-encoded,
    as S3 encodes it and ingest decodes it)."""
    obj = missing.object
    s3_object: dict[str, Any] = {"key": quote_plus(obj.key, safe="/"), "size": obj.size, "eTag": obj.etag}
    if obj.version_id and obj.version_id != "null":
        s3_object["versionId"] = obj.version_id
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": obj.last_modified.isoformat(),
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "callsight-reconcile",
                    "bucket": {"name": obj.bucket, "arn": f"arn:aws:s3:::{obj.bucket}"},
                    "object": s3_object,
                },
            }
        ]
    }


class Fixer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.calls = CallRepository(settings)
        self.transcribe = StageQueue(TRANSCRIBE_QUEUE, settings)
        self.analyze = StageQueue(ANALYZE_QUEUE, settings)
        self.ingest = StageQueue(INGEST_QUEUE, settings)

    def apply(self, report: ReconcileReport) -> list[Fix]:
        stuck = [entry for entry in report.in_progress if entry.stuck]
        idle = all(q.idle for q in report.queues if q.queue in {spec.logical for spec in QUEUES})
        fixes: list[Fix] = []
        for entry in stuck:
            if entry.dead_letter_queue:  # redrive after fixing the cause, not a second copy
                fixes.append(Fix(call_id=entry.call.call_id, action="none", done=False, detail=entry.reason))
            elif not idle:
                fixes.append(Fix(call_id=entry.call.call_id, action="none", done=False, detail=BUSY))
            else:
                fixes.append(self._resend(entry))
        for missing in report.lost:
            if missing.dead_lettered:
                detail = "not fixed: its ingest message is dead-lettered; redrive the ingest DLQ"
                fixes.append(Fix(call_id=missing.expected_call_id, action="none", done=False, detail=detail))
            elif not idle:
                fixes.append(Fix(call_id=missing.expected_call_id, action="none", done=False, detail=BUSY))
            else:
                fixes.append(self._announce(missing))
        return fixes

    def _resend(self, entry: InProgressCall) -> Fix:
        call = self.calls.get(entry.call.call_id)
        if call is None or call.status is not entry.call.status:
            now = call.status.value if call else "gone"
            return Fix(
                call_id=entry.call.call_id, action="none", done=False, detail=f"moved on meanwhile ({now})"
            )
        if call.status in (CallStatus.RECEIVED, CallStatus.TRANSCRIBING):
            request = TranscribeRequest(
                call_id=call.call_id, bucket=call.source.bucket, key=call.source.key,
                version_id=call.source.version_id, agent_channel=call.agent_channel,
                language_hint=call.language_hint,
            )  # fmt: skip
            self.transcribe.send(request, correlation_id=call.call_id)
            return Fix(
                call_id=call.call_id, action="resent TranscribeRequest", done=True, detail=entry.reason
            )
        facts = call.transcription
        if facts is None:
            return Fix(
                call_id=call.call_id, action="none", done=False,
                detail="TRANSCRIBED without transcription facts: nothing to analyse",
            )  # fmt: skip
        self.analyze.send(
            AnalyzeRequest(
                call_id=call.call_id, transcript_bucket=facts.transcript_bucket, transcript_key=facts.transcript_key,
                transcript_version_id=facts.transcript_version_id, language=facts.language,
            ),
            correlation_id=call.call_id,
        )  # fmt: skip
        return Fix(call_id=call.call_id, action="resent AnalyzeRequest", done=True, detail=entry.reason)

    def _announce(self, missing: MissingCall) -> Fix:
        self.ingest.send_body(json.dumps(object_created_notification(missing, self.settings.region)))
        return Fix(
            call_id=missing.expected_call_id,
            action="resent S3 ObjectCreated to ingest",
            done=True,
            detail=f"{missing.object.key} (version {missing.object.version_id})",
        )
