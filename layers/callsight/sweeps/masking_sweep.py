"""The masking sweep: calls past the masking window get a masked transcript and a redacted audio copy;
the unmasked transcript and the original audio are then deleted unless the masking policy keeps them.

Finds candidates through the ``by-day`` index (one query per day, from a checkpoint two days behind
the cutoff, so late uploads are still seen) — never a table scan. Idempotent and resumable: a call
is done once ``masked_at`` is set; a rerun after a crash masks an already-masked transcript to the
same text and skips audio whose original is gone but whose redacted copy exists.
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, Field

from callsight.analysis.index_terms import pii_terms
from callsight.analysis.languages import language_pack
from callsight.analysis.text import turn_views
from callsight.compliance.masking import mask_transcript, masked_words
from callsight.compliance.policies import MaskingPolicy
from callsight.compliance.redaction import redact_audio
from callsight.config import Settings
from callsight.models.call import CallRecord, CallStatus
from callsight.models.transcript import Transcript
from callsight.storage.artefacts import CallArtefacts
from callsight.storage.audit_log import AuditLog
from callsight.storage.call_repository import CallRepository, CallUpdates
from callsight.storage.policy_store import PolicyStore
from callsight.storage.recordings import ObjectMissing, RecordingStore
from callsight.storage.search_index import SearchIndex
from callsight.storage.transcripts import TranscriptStore
from callsight.sweeps.deletion import Actor

logger = logging.getLogger(__name__)
CHECKPOINT = "masking-sweep"
#: Days before the cutoff that are re-read every run (uploads that arrive late).
LATE_ARRIVAL_DAYS = 2


class MaskingOutcome(BaseModel):
    call_id: str
    masked: dict[str, int] = Field(default_factory=dict)
    bleeped_s: float = 0.0
    redacted_key: str | None = None
    deleted_versions: int = 0
    index_entries_deleted: int = 0
    detail: str | None = None


class MaskingReport(BaseModel):
    dry_run: bool
    cutoff: datetime
    outcomes: list[MaskingOutcome] = Field(default_factory=list)


class MaskingSweep:
    def __init__(self, settings: Settings) -> None:
        self.calls = CallRepository(settings)
        self.updates = CallUpdates(settings)
        self.policies = PolicyStore(settings)
        self.transcripts = TranscriptStore(settings)
        self.recordings = RecordingStore(settings)
        self.audit = AuditLog(settings)
        self.artefacts = CallArtefacts(settings)
        self.index = SearchIndex(settings)
        self.phone_region = settings.phone_region
        self.order_number_pattern = settings.order_number_pattern

    def run(
        self, *, now: datetime | None = None, dry_run: bool = False, who: Actor | None = None
    ) -> MaskingReport:
        who = who or Actor(actor="masking-sweep", role="system")
        policy = self.policies.masking_policy()
        cutoff = (now or datetime.now(UTC)) - timedelta(days=policy.mask_after_days)
        report = MaskingReport(dry_run=dry_run, cutoff=cutoff)
        state = self.policies.checkpoint(CHECKPOINT) or {}
        retention_days = max(p.days for p in self.policies.retention_policies())
        day = (
            date.fromisoformat(state["next_day"])
            if "next_day" in state
            else (cutoff - timedelta(days=retention_days)).date()
        )
        while day <= cutoff.date():
            for listed in self.calls.started_on(day, until=cutoff):
                if listed.masked_at is None and listed.status in (
                    CallStatus.TRANSCRIBED,
                    CallStatus.ANALYZED,
                ):
                    call = self.calls.get(listed.call_id)
                    if call is not None:
                        report.outcomes.append(self._mask_call(call, policy, who, dry_run))
            if not dry_run and day < cutoff.date() - timedelta(days=LATE_ARRIVAL_DAYS):
                self.policies.save_checkpoint(CHECKPOINT, {"next_day": (day + timedelta(days=1)).isoformat()})
            day += timedelta(days=1)
        if not dry_run:
            self.audit.record(
                actor=who.actor, role=who.role, action="masking.sweep", target="calls", request_id=who.request_id,
                details={"masked_calls": len(report.outcomes), "cutoff": cutoff.isoformat()},
            )  # fmt: skip
        return report

    def _mask_call(
        self, call: CallRecord, policy: MaskingPolicy, who: Actor, dry_run: bool
    ) -> MaskingOutcome:
        facts = call.transcription
        if facts is None:
            return MaskingOutcome(call_id=call.call_id, detail="no transcript")
        # an interrupted earlier run may have replaced it by the masked version already: continue from that
        transcript = self.transcripts.get_or_newest(facts.transcript_key, facts.transcript_version_id)
        masked, spans = mask_transcript(
            transcript,
            language_pack(transcript.language.code),
            policy,
            self.phone_region,
            self.order_number_pattern,
        )
        outcome = MaskingOutcome(call_id=call.call_id, masked=dict(Counter(s.type for s in spans)))
        if dry_run:
            return outcome
        # first, while the unmasked words are still at hand: index entries older analyses wrote for them
        outcome.index_entries_deleted = self._unindex_pii(call.call_id, transcript, masked)
        if call.superseded_by is None:  # a superseded call's audio is its key's newest call's now
            outcome.redacted_key, outcome.bleeped_s = self._redact(call, spans)
        _, version = self.transcripts.put(masked)
        if not policy.keep_unmasked_transcript:
            outcome.deleted_versions += self.artefacts.delete_versions(
                facts.transcript_bucket, facts.transcript_key, keep=version
            )
        if not policy.keep_original_audio and outcome.redacted_key:
            for key in (call.source.key, call.source.key + ".json"):
                outcome.deleted_versions += self.artefacts.delete_versions(call.source.bucket, key, keep=None)
        self.updates.set_masked(
            call.call_id, facts.model_copy(update={"transcript_version_id": version}), outcome.redacted_key
        )
        self.audit.record(
            actor=who.actor, role=who.role, action="masking.apply", target=f"call:{call.call_id}", request_id=who.request_id,
            details={"masked": outcome.masked, "bleeped_s": outcome.bleeped_s, "deleted_versions": outcome.deleted_versions,
                     "index_entries_deleted": outcome.index_entries_deleted},
        )  # fmt: skip
        return outcome

    def _unindex_pii(self, call_id: str, transcript: Transcript, masked: Transcript) -> int:
        """Delete the call's keyword-index entries of terms said only inside what was masked (an index
        written before PII terms were left out holds names and spoken digits)."""
        pack = language_pack(transcript.language.code)
        if pack is None:
            return 0
        terms = pii_terms(turn_views(transcript, pack), pack, masked_words(transcript, masked))
        return self.index.delete_terms(call_id, terms)

    def _redact(self, call: CallRecord, spans: list[Any]) -> tuple[str | None, float]:
        suffix = PurePosixPath(call.source.key).suffix or ".wav"
        with tempfile.TemporaryDirectory(prefix="callsight-redact-") as workdir:
            original = Path(workdir) / f"original{suffix}"
            try:
                self.recordings.download(
                    call.source.bucket, call.source.key, call.source.version_id, original
                )
            except ObjectMissing:  # an earlier run already redacted it (and deleted the original)
                redacted = self.artefacts.has_redacted(call.call_id)
                return (f"redacted/{call.call_id}/recording{suffix}" if redacted else None), 0.0
            target = Path(workdir) / f"redacted{suffix}"
            facts = redact_audio(original, target, spans)
            name = "recording.flac" if facts.container == "flac" else f"recording{suffix}"
            key = self.artefacts.put_redacted(call.call_id, target, name)
        return key, facts.bleeped_s
