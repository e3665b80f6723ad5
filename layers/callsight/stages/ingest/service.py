"""The ingest rules: one S3 object in, one call record (RECEIVED or QUARANTINED) and maybe one message out.

Order of checks: object still there → size → metadata (sidecar, S3 user metadata, file name) →
decode → erased subject (fence) → stop list (consent registry) → record → transcribe queue. Every
rejection becomes a QUARANTINED record carrying the reason, so nothing disappears; an object of an
erased subject or of an opted-out number (policy delete) is deleted with an audited receipt instead;
only infrastructure errors propagate (and the message is retried).
"""

from __future__ import annotations

import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from callsight.compliance.audit import AuditEntry
from callsight.compliance.policies import with_retention
from callsight.config import Settings
from callsight.models.call import (
    AudioFacts,
    CallMetadata,
    CallRecord,
    CallStatus,
    MetadataSource,
    QuarantineReason,
    SourceObject,
)
from callsight.models.consent import ConsentEntry, ConsentState, IngestVerdict, OptOutPolicy, ingest_verdict
from callsight.models.messages import TranscribeRequest
from callsight.observability import span
from callsight.phone import mask_phone, phone_forms, phone_lookup_hash
from callsight.resources import TRANSCRIBE_QUEUE
from callsight.stages.ingest.audio_probe import AudioRejected, probe_audio
from callsight.stages.ingest.call_id import derive_call_id
from callsight.stages.ingest.metadata import (
    SIDECAR_SUFFIX,
    MetadataError,
    MetadataFields,
    is_sidecar_key,
    merge_metadata,
    parse_filename,
    parse_sidecar,
    parse_user_metadata,
    resolve_start_time,
    sidecar_keys_for,
)
from callsight.stages.ingest.outcome import IngestOutcome, OutcomeKind
from callsight.storage.artefacts import CallArtefacts, key_digest
from callsight.storage.audit_log import AuditLog
from callsight.storage.call_repository import (
    CallAlreadyExists,
    CallRepository,
    CallUpdates,
    IllegalTransition,
    new_status_change,
)
from callsight.storage.consent_registry import ConsentRegistry
from callsight.storage.policy_store import CachedRetentionPolicies, PolicyStore
from callsight.storage.queues import StageQueue
from callsight.storage.recordings import ObjectInfo, ObjectMissing, ObjectTooLarge, RecordingStore
from callsight.sweeps.deletion import Actor, CallDeleter, DeletionReason

logger = logging.getLogger(__name__)

#: Sidecars are small JSON documents; anything bigger is not one.
MAX_SIDECAR_BYTES = 64 * 1024
#: The reason of an ignored event whose version a newer upload of the same key replaced.
SUPERSEDED = "superseded_by_newer_version"
#: Who ingest's deletions and receipts name in the audit log.
INGEST = Actor(actor="ingest", role="system")
#: The audit action of an opted-out recording's receipt (target ``call:<call_id>``).
OPT_OUT_RECEIPT = "consent.opt_out"


class Quarantine(Exception):
    def __init__(self, reason: QuarantineReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class RecordingNotYetIngested(Exception):
    """A sidecar whose recording exists but has no call record yet: retry the message later, then
    the record exists and the sidecar is applied (no race can lose its metadata)."""


class IngestService:
    """Applies the ingest rules to one object. Stateless apart from its clients; safe across threads."""

    def __init__(
        self,
        settings: Settings,
        recordings: RecordingStore | None = None,
        calls: CallRepository | None = None,
        transcribe_queue: StageQueue | None = None,
    ) -> None:
        self.settings = settings
        self.recordings = recordings or RecordingStore(settings)
        self.calls = calls or CallRepository(settings)
        self.call_updates = CallUpdates(settings)
        self.transcribe_queue = transcribe_queue or StageQueue(TRANSCRIBE_QUEUE, settings)
        self.policies = PolicyStore(settings)
        self.retention = CachedRetentionPolicies(self.policies)
        self.artefacts = CallArtefacts(settings)
        self.audit = AuditLog(settings)
        self.consent = ConsentRegistry(settings)
        self.opt_out_policy = OptOutPolicy(settings.consent_opt_out_policy)
        self.deleter = CallDeleter(settings)

    # --- recordings --------------------------------------------------------------------------------

    def ingest_recording(self, source: SourceObject) -> IngestOutcome:
        info = self._head(source)  # None: gone; recorded below as OBJECT_DELETED under the event's id
        if info is not None:
            source = _pin_version(source, info)
        call_id = _call_id_of(source)
        existing = self.calls.get(call_id)
        if existing is not None and not _awaits_sidecar_fix(existing):
            return self._duplicate(existing)
        superseded = self._superseded(source, info)
        if superseded is not None:
            return superseded
        if info is None and existing is None:
            receipt = self._opt_out_receipt(call_id)
            if receipt is not None:  # a redelivery of a recording deleted from the stop list
                return _opted_out_again(source.key, call_id, receipt.outcome)
        metadata = CallMetadata()
        try:
            if info is None:
                raise Quarantine(
                    QuarantineReason.OBJECT_DELETED,
                    f"s3://{source.bucket}/{source.key} was announced by S3 but is gone before ingest could read it",
                )
            metadata = self._metadata(source, info)
            self._check_size(info.size)
            metadata = self._check_start_time(metadata, source.uploaded_at or info.last_modified)
            audio, sha256 = self._download_and_probe(source)
        except Quarantine as rejected:
            return self._store(call_id, source, metadata, None, existing, rejected)
        source = source.model_copy(update={"sha256": sha256})
        return self._store(call_id, source, metadata, audio, existing, None)

    def _superseded(self, source: SourceObject, info: ObjectInfo | None) -> IngestOutcome | None:
        """One call per recording key, the newest version wins: an event for a version that is no
        longer the key's current one makes no call (the newer version's own event makes it)."""
        if info is None:
            return None
        if source.etag and info.etag and source.etag != info.etag:  # overwritten, no version to pin
            why = "the key was overwritten by a newer upload before ingest"
        elif source.version_id and source.version_id != "null":
            try:
                current = self.recordings.head(source.bucket, source.key)
            except ObjectMissing:
                return None
            if current.version_id in (None, "null", source.version_id):
                return None
            why = f"version {source.version_id} was replaced by version {current.version_id}"
        else:
            return None
        logger.info("superseded version: no call", extra={"key": source.key, "detail": why})
        return IngestOutcome(
            kind=OutcomeKind.IGNORED, key=source.key, reason=SUPERSEDED, detail=why
        )  # fmt: skip

    def _retire_older_calls(self, record: CallRecord) -> list[str]:
        """Mark the calls of older versions of ``record``'s key as superseded by it (one per key)."""
        source = record.source
        if not source.version_id or source.version_id == "null":
            return []  # unversioned: the older upload is gone with its version
        retired: list[str] = []
        older = False
        for version in self.recordings.versions(source.bucket, source.key):  # newest first
            if version.version_id == source.version_id:
                older = True
                continue
            if not older:  # a newer version than this record's: its event will retire this call
                continue
            for candidate in {
                derive_call_id(source.bucket, source.key, version.version_id, version.etag),
                derive_call_id(source.bucket, source.key, None, version.etag),
            }:
                call = self.calls.get(candidate)
                if call is None or call.superseded_by or call.status is CallStatus.DELETED:
                    continue
                self.call_updates.set_superseded(call.call_id, record.call_id)
                retired.append(call.call_id)
        if retired:
            logger.info(
                "older calls of this key superseded",
                extra={"call_id": record.call_id, "key": source.key, "superseded": retired},
            )
        return retired

    def _head(self, source: SourceObject) -> ObjectInfo | None:
        try:
            return self.recordings.head(source.bucket, source.key, source.version_id)
        except ObjectMissing:
            return None

    def _check_size(self, size: int) -> None:
        if size == 0:
            raise Quarantine(QuarantineReason.EMPTY_OBJECT, "the object is 0 bytes long")
        if size > self.settings.max_object_bytes:
            raise Quarantine(
                QuarantineReason.TOO_LARGE,
                f"{size} bytes exceeds the limit of {self.settings.max_object_bytes} (CALLSIGHT_MAX_OBJECT_BYTES)",
            )

    def _metadata(self, source: SourceObject, info: ObjectInfo) -> CallMetadata:
        sources: list[tuple[MetadataSource, MetadataFields]] = []
        warnings: list[str] = []
        sidecar = self._read_sidecar(source)
        if sidecar is not None:
            sources.append((MetadataSource.SIDECAR, sidecar))
        user_fields, user_warnings = parse_user_metadata(info.user_metadata)
        sources.append((MetadataSource.USER_METADATA, user_fields))
        warnings.extend(user_warnings)
        try:
            sources.append(
                (
                    MetadataSource.FILENAME,
                    parse_filename(source.key, self.settings.filename_pattern, self.settings.pbx_timezone),
                )
            )
        except MetadataError as exc:
            warnings.append(str(exc))
        return merge_metadata(sources, warnings)

    def _read_sidecar(self, source: SourceObject) -> MetadataFields | None:
        for sidecar_key in dict.fromkeys(sidecar_keys_for(source.key)):
            if sidecar_key == source.key:
                continue
            try:
                raw = self.recordings.read_bounded(source.bucket, sidecar_key, MAX_SIDECAR_BYTES)
            except ObjectMissing:
                continue
            except ObjectTooLarge as exc:
                raise Quarantine(QuarantineReason.SIDECAR_INVALID, str(exc)) from exc
            try:
                return parse_sidecar(raw, sidecar_key)
            except MetadataError as exc:
                raise Quarantine(QuarantineReason.SIDECAR_INVALID, str(exc)) from exc
        return None

    def _check_start_time(self, metadata: CallMetadata, uploaded_at: datetime | None) -> CallMetadata:
        if metadata.started_at is None and self.settings.require_start_time:
            raise Quarantine(
                QuarantineReason.START_TIME_UNKNOWN,
                "no sidecar, S3 metadata or file name gives the call start and CALLSIGHT_REQUIRE_START_TIME is set",
            )
        return resolve_start_time(metadata, uploaded_at)

    def _download_and_probe(self, source: SourceObject) -> tuple[AudioFacts, str]:
        suffix = PurePosixPath(source.key).suffix[:16]
        with tempfile.TemporaryDirectory(prefix="callsight-ingest-") as workdir:
            local = Path(workdir) / f"recording{suffix}"
            try:
                with span("download"):
                    sha256 = self.recordings.download(source.bucket, source.key, source.version_id, local)
            except ObjectMissing as exc:
                raise Quarantine(QuarantineReason.OBJECT_DELETED, str(exc)) from exc
            try:
                with span("decode"):
                    audio = probe_audio(
                        local,
                        accepted_codecs=self.settings.accepted_codec_set,
                        max_duration_s=self.settings.max_duration_s,
                        min_duration_s=self.settings.min_duration_s,
                    )
            except AudioRejected as exc:
                raise Quarantine(exc.reason, exc.detail) from exc
        return audio, sha256

    # --- writing -----------------------------------------------------------------------------------

    def _store(
        self,
        call_id: str,
        source: SourceObject,
        metadata: CallMetadata,
        audio: AudioFacts | None,
        existing: CallRecord | None,
        rejected: Quarantine | None,
    ) -> IngestOutcome:
        if existing is None:  # an existing call of an erased subject is one kept under legal hold
            fenced = self._fence_erased_subject(
                source.bucket, source.key, metadata.customer_phone, "recording"
            )
            if fenced is not None:
                return fenced
        entry, verdict = self._consent_verdict(metadata.customer_phone or self._filename_phone(source.key))
        if verdict is IngestVerdict.DELETE:
            return self._delete_opted_out(call_id, source, existing, entry)
        if verdict is IngestVerdict.KEEP:
            assert entry is not None
            rejected = Quarantine(
                QuarantineReason.OPTED_OUT,
                f"the customer's number is on the stop list (opted_out, source {entry.source}): kept, not "
                + (
                    "transcribed (CALLSIGHT_CONSENT_OPT_OUT_POLICY=keep)"
                    if self.opt_out_policy is OptOutPolicy.KEEP
                    else "transcribed and not deleted (legal hold on the customer)"
                ),
            )
        record = self._build_record(call_id, source, metadata, audio, existing, rejected)
        try:
            stored = self.calls.replace(record) if existing else self.calls.create(record)
        except CallAlreadyExists:
            current = self.calls.get(call_id)
            assert current is not None
            return self._duplicate(current)
        if existing is None:
            self._retire_older_calls(stored)
        if verdict is IngestVerdict.KEEP and entry is not None:
            self._opt_out_receipted(call_id, source.key, entry, "kept", 0)
            logger.warning(
                "recording of an opted-out number kept, not transcribed", extra={"call_id": call_id}
            )
            return IngestOutcome(
                kind=OutcomeKind.OPTED_OUT, key=source.key, call_id=call_id, reason=ConsentState.OPTED_OUT.value,
                detail="the number is on the stop list: kept as a QUARANTINED call, not transcribed",
            )  # fmt: skip
        if rejected is not None:
            logger.warning(
                "recording quarantined",
                extra={
                    "call_id": call_id,
                    "key": source.key,
                    "reason": rejected.reason.value,
                    "detail": rejected.detail,
                },
            )
            return IngestOutcome(
                kind=OutcomeKind.QUARANTINED, key=source.key, call_id=call_id,
                reason=rejected.reason.value, detail=rejected.detail,
            )  # fmt: skip
        self._enqueue(stored)
        logger.info(
            "recording received",
            extra={"call_id": call_id, "key": source.key, "duration_s": audio.duration_s if audio else None},
        )
        return IngestOutcome(
            kind=OutcomeKind.RECEIVED, key=source.key, call_id=call_id,
            caller_number=stored.customer_phone_hash is not None,
        )  # fmt: skip

    def _build_record(
        self,
        call_id: str,
        source: SourceObject,
        metadata: CallMetadata,
        audio: AudioFacts | None,
        existing: CallRecord | None,
        rejected: Quarantine | None,
    ) -> CallRecord:
        now = datetime.now(UTC)
        status = CallStatus.QUARANTINED if rejected else CallStatus.RECEIVED
        reason = rejected.reason.value if rejected else None
        detail = rejected.detail if rejected else None
        history = [*(existing.status_history if existing else []), new_status_change(status, reason, detail)]
        masked, phone_hash, alt_hash = self._protect_phone(metadata.customer_phone)
        return with_retention(
            CallRecord(
                call_id=call_id,
                status=status,
                status_reason=reason,
                status_detail=detail,
                status_history=history,
                source=source,
                audio=audio,
                direction=metadata.direction,
                agent_id=metadata.agent_id,
                team=metadata.team,
                queue=metadata.queue,
                customer_phone_masked=masked,
                customer_phone_hash=phone_hash,
                customer_phone_alt_hash=alt_hash,
                pbx_call_id=metadata.pbx_call_id,
                language_hint=metadata.language_hint,
                agent_channel=metadata.agent_channel
                or (self.settings.agent_channel if audio and audio.channels == 2 else None),
                metadata_sources={
                    k: v.value for k, v in metadata.sources.items() if k != "customer_phone" or masked
                },
                metadata_warnings=metadata.warnings,
                started_at=metadata.started_at,
                created_at=existing.created_at if existing else now,
                updated_at=now,
                version=existing.version if existing else None,
            ),
            self.retention.policies(),
        )

    def _protect_phone(self, raw: str | None) -> tuple[str | None, str | None, str | None]:
        """Masked likeliest reading, its keyed hash, and the keyed hash of a second plausible reading
        (``84955551234``: Moscow or Vietnam), so erasure by either number finds the call."""
        forms = phone_forms(raw, self.settings.phone_region) if raw else []
        if not forms:
            return None, None, None
        key = self.settings.phone_hash_key.get_secret_value().encode("utf-8")
        alt = phone_lookup_hash(forms[1], key) if len(forms) > 1 else None
        return mask_phone(forms[0]), phone_lookup_hash(forms[0], key), alt

    # --- erased subjects ----------------------------------------------------------------------------

    def _fence_erased_subject(
        self, bucket: str, key: str, phone: str | None, kind: str
    ) -> IngestOutcome | None:
        """An object of a subject erased earlier (a late upload, a redelivered event, a sidecar retry)
        is not recorded: the object and its sidecars (every version) are deleted and the fence is
        audited (no PII: the subject's keyed hash and a key digest). None when the subject is not
        erased. The number comes from the metadata read, else from the file name."""
        phone = phone or self._filename_phone(key)
        _, primary, alt = self._protect_phone(phone)
        subject, reason = self.policies.subject_erased(primary, alt), "subject_erased"
        if subject is None:  # the registry fences too (an erasure interrupted before its tombstones)
            listed = self.consent.find(primary, alt)
            if listed is not None and listed.state is ConsentState.CONSENT_REVOKED:
                subject, reason = listed.phone_hash, ConsentState.CONSENT_REVOKED.value
        if subject is None or any(self.policies.subject_on_hold(h) for h in (primary, alt)):
            return None  # not erased, or held again since (a hold always wins over deletion)
        doomed = [key] if is_sidecar_key(key) else [key, *sidecar_keys_for(key)]
        versions = sum(
            self.artefacts.delete_versions(bucket, doomed_key) for doomed_key in dict.fromkeys(doomed)
        )
        self.audit.record(
            actor="ingest", role="system", action="erasure.fence", target=f"subject:{subject}", outcome="deleted",
            details={"reason": reason, "kind": kind, "key": key_digest(key), "object_versions": versions},
        )  # fmt: skip
        logger.warning("object of an erased subject deleted", extra={"key": key, "kind": kind})
        return IngestOutcome(
            kind=OutcomeKind.FENCED, key=key, reason=reason,
            detail=f"the customer's data was erased; this {kind} was deleted ({versions} version(s))",
        )  # fmt: skip

    # --- the stop list (consent registry) ---------------------------------------------------------

    def _consent_verdict(self, phone: str | None) -> tuple[ConsentEntry | None, IngestVerdict]:
        """The registry entry of the call's number (likeliest or second reading) and what to do."""
        _, primary, alt = self._protect_phone(phone)
        entry = self.consent.find(primary, alt) if primary else None
        held = entry is not None and any(self.policies.subject_on_hold(h) for h in (primary, alt))
        return entry, ingest_verdict(entry, self.opt_out_policy, on_hold=held)

    def _opt_out_receipt(self, call_id: str) -> AuditEntry | None:
        return next(
            (e for e in self.audit.for_target(f"call:{call_id}") if e.action == OPT_OUT_RECEIPT), None
        )

    def _opt_out_receipted(
        self, call_id: str, key: str, entry: ConsentEntry, outcome: str, versions: int
    ) -> bool:
        """Write the receipt of an opted-out recording once (a redelivery finds it and writes none);
        False when one was there already. No PII: the subject's hash, a key digest, counts."""
        if self._opt_out_receipt(call_id) is not None:
            return False
        self.audit.record(
            actor=INGEST.actor, role=INGEST.role, action=OPT_OUT_RECEIPT, target=f"call:{call_id}", outcome=outcome,
            details={"subject": entry.phone_hash, "source": entry.source, "policy": self.opt_out_policy.value,
                     "key": key_digest(key), "object_versions": versions},
        )  # fmt: skip
        return True

    def _delete_opted_out(
        self, call_id: str, source: SourceObject, existing: CallRecord | None, entry: ConsentEntry | None
    ) -> IngestOutcome:
        """Policy delete: the receipt first (a crash before the deletion is finished by the redelivery,
        which finds the receipt and writes no second one), then every version of the recording and
        its sidecars. A call recorded earlier (quarantined for its sidecar) goes through the deleter."""
        assert entry is not None
        if existing is not None:
            self._opt_out_receipted(call_id, source.key, entry, "deleted", 0)
            self.deleter.delete(existing.call_id, DeletionReason.OPT_OUT, INGEST)
            versions = 0
        else:
            doomed = [source.key, *sidecar_keys_for(source.key)]
            found = [v for k in dict.fromkeys(doomed) for v in self.artefacts.key_versions(source.bucket, k)]
            self._opt_out_receipted(call_id, source.key, entry, "deleted", len(found))
            versions = sum(self.artefacts.delete_versions(source.bucket, k) for k in dict.fromkeys(doomed))
        logger.warning("recording of an opted-out number deleted", extra={"call_id": call_id})
        return IngestOutcome(
            kind=OutcomeKind.OPTED_OUT, key=source.key, call_id=call_id, reason=ConsentState.OPTED_OUT.value,
            detail=f"the number is on the stop list: the recording was deleted ({versions} version(s)), not transcribed; "
            "receipt in the audit log",
        )  # fmt: skip

    def _filename_phone(self, key: str) -> str | None:
        name = key[: -len(SIDECAR_SUFFIX)] if is_sidecar_key(key) else key
        try:
            return parse_filename(
                name, self.settings.filename_pattern, self.settings.pbx_timezone
            ).customer_phone
        except MetadataError:
            return None

    def _sidecar_phone(self, bucket: str, sidecar_key: str) -> str | None:
        try:
            raw = self.recordings.read_bounded(bucket, sidecar_key, MAX_SIDECAR_BYTES)
            return parse_sidecar(raw, sidecar_key).customer_phone
        except (MetadataError, ObjectTooLarge, ObjectMissing):
            return None

    def _enqueue(self, record: CallRecord) -> None:
        self.transcribe_queue.send(
            TranscribeRequest(
                call_id=record.call_id,
                bucket=record.source.bucket,
                key=record.source.key,
                version_id=record.source.version_id,
                agent_channel=record.agent_channel,
                language_hint=record.language_hint,
            ),
            correlation_id=record.call_id,
        )

    def _duplicate(self, existing: CallRecord) -> IngestOutcome:
        """A repeat delivery. A call stuck in RECEIVED (crash between write and send) is queued again;
        the transcriber is idempotent, so a second message cannot transcribe twice."""
        if existing.status is CallStatus.RECEIVED:
            self._enqueue(existing)
        logger.info(
            "duplicate delivery",
            extra={"call_id": existing.call_id, "key": existing.source.key, "status": existing.status.value},
        )
        return IngestOutcome(
            kind=OutcomeKind.DUPLICATE,
            key=existing.source.key,
            call_id=existing.call_id,
            reason=existing.status.value,
        )

    # --- sidecars ----------------------------------------------------------------------------------

    def ingest_sidecar(self, bucket: str, sidecar_key: str) -> IngestOutcome:
        """A sidecar arrived. Before its recording: wait (the recording's event reads it). After a
        recording quarantined for a broken sidecar: ingest that recording again with this one."""
        recordings = [
            (source, self.calls.get(_call_id_of(source)))
            for source in self._recordings_for_sidecar(bucket, sidecar_key)
        ]
        if not recordings or not all(existing for _, existing in recordings):
            fenced = self._fence_erased_subject(
                bucket, sidecar_key, self._sidecar_phone(bucket, sidecar_key), "sidecar"
            )
            if fenced is not None:
                return fenced
        if not recordings:
            logger.info("sidecar stored; its recording has not arrived yet", extra={"key": sidecar_key})
            return IngestOutcome(
                kind=OutcomeKind.SIDECAR_WAITING, key=sidecar_key,
                detail="no recording with this name yet; it will read this sidecar when it arrives",
            )  # fmt: skip
        outcomes: list[IngestOutcome] = []
        for source, existing in recordings:
            if existing is None:
                logger.info(
                    "sidecar before its recording was ingested; retrying later", extra={"key": sidecar_key}
                )
                raise RecordingNotYetIngested(
                    f"recording {source.key} of sidecar {sidecar_key} is not ingested yet; the message will be retried"
                )
            if _awaits_sidecar_fix(existing):
                outcomes.append(self.ingest_recording(source))
            else:
                outcomes.append(self._apply_late_sidecar(existing, sidecar_key))
        return outcomes[0] if len(outcomes) == 1 else _combine(outcomes)

    def _apply_late_sidecar(self, existing: CallRecord, sidecar_key: str) -> IngestOutcome:
        """The sidecar is the PBX's authoritative word: its fields replace what the file name gave."""
        try:
            raw = self.recordings.read_bounded(existing.source.bucket, sidecar_key, MAX_SIDECAR_BYTES)
            fields = parse_sidecar(raw, sidecar_key)
        except (MetadataError, ObjectTooLarge, ObjectMissing) as exc:
            logger.warning(
                "late sidecar not applied",
                extra={"call_id": existing.call_id, "key": sidecar_key, "detail": str(exc)},
            )
            return IngestOutcome(
                kind=OutcomeKind.IGNORED, key=sidecar_key, call_id=existing.call_id,
                reason=QuarantineReason.SIDECAR_INVALID.value, detail=str(exc),
            )  # fmt: skip
        changes: dict[str, object] = fields.model_dump(
            exclude_none=True, exclude={"customer_phone", "language"}
        )
        if fields.language:
            changes["language_hint"] = fields.language
        if fields.customer_phone:
            (
                changes["customer_phone_masked"],
                changes["customer_phone_hash"],
                changes["customer_phone_alt_hash"],
            ) = self._protect_phone(fields.customer_phone)
        given = {"language_hint" if n == "language" else n for n in fields.model_dump(exclude_none=True)}
        if all(existing.metadata_sources.get(name) == MetadataSource.SIDECAR.value for name in given):
            return IngestOutcome(
                kind=OutcomeKind.SIDECAR_APPLIED, key=sidecar_key, call_id=existing.call_id,
                detail="the recording was ingested with this sidecar already",
            )  # fmt: skip
        sources = {**existing.metadata_sources, **dict.fromkeys(given, MetadataSource.SIDECAR.value)}
        updated = existing.model_copy(
            update={**changes, "metadata_sources": sources, "updated_at": datetime.now(UTC)}
        )
        stored = self.calls.replace(CallRecord.model_validate(updated.model_dump()))
        logger.info(
            "late sidecar applied",
            extra={"call_id": existing.call_id, "key": sidecar_key, "fields": sorted(given)},
        )
        if fields.customer_phone:  # the number was not known when the call was recorded
            listed = self._late_listed(stored, sidecar_key, fields.customer_phone)
            if listed is not None:
                return listed
        return IngestOutcome(
            kind=OutcomeKind.SIDECAR_APPLIED, key=sidecar_key, call_id=existing.call_id,
            detail=f"updated {', '.join(sorted(given))}",
        )  # fmt: skip

    def _late_listed(self, call: CallRecord, sidecar_key: str, phone: str) -> IngestOutcome | None:
        """A late sidecar names a number on the stop list. Not transcribed yet and policy keep (or a
        legal hold): the call is quarantined (reason opted_out) before the transcriber takes it.
        Otherwise the call and everything it left go through the deleter (a transcription under way
        is discarded when it ends); consent revoked: as an erasure."""
        entry, verdict = self._consent_verdict(phone)
        if verdict is IngestVerdict.PASS or entry is None:
            return None
        if verdict is IngestVerdict.KEEP and call.status is CallStatus.RECEIVED:
            try:
                self.calls.transition(
                    call.call_id, CallStatus.QUARANTINED, reason=QuarantineReason.OPTED_OUT.value,
                    detail="a late sidecar put the customer's number on the stop list: kept, not transcribed",
                )  # fmt: skip
            except IllegalTransition:
                pass  # the transcriber took it meanwhile: delete below
            else:
                self._opt_out_receipted(call.call_id, call.source.key, entry, "kept", 0)
                return IngestOutcome(
                    kind=OutcomeKind.OPTED_OUT, key=sidecar_key, call_id=call.call_id,
                    reason=ConsentState.OPTED_OUT.value, detail="quarantined before transcription (stop list)",
                )  # fmt: skip
        fence = verdict is IngestVerdict.FENCE
        reason = DeletionReason.ERASURE if fence else DeletionReason.OPT_OUT
        result = self.deleter.delete(call.call_id, reason, INGEST)  # a legal hold keeps it (held)
        if not fence:
            self._opt_out_receipted(call.call_id, call.source.key, entry, result.result.value, result.objects)
        logger.warning(
            "late sidecar: call of a listed number",
            extra={"call_id": call.call_id, "result": result.result.value},
        )
        return IngestOutcome(
            kind=OutcomeKind.FENCED if fence else OutcomeKind.OPTED_OUT, key=sidecar_key, call_id=call.call_id,
            reason=entry.state.value, detail=f"a late sidecar named a number on the stop list: call {result.result.value}"
            + (f" ({result.detail})" if result.detail else ""),
        )  # fmt: skip

    def _recordings_for_sidecar(self, bucket: str, sidecar_key: str) -> list[SourceObject]:
        """The recordings a sidecar belongs to (``a.wav`` of ``a.wav.json``, else ``a.*`` of ``a.json``),
        identified by their current version."""
        without_json = sidecar_key[: -len(SIDECAR_SUFFIX)]
        if PurePosixPath(without_json).suffix:
            candidates = [without_json]
        else:
            candidates = [
                key
                for key in self.recordings.keys_with_prefix(bucket, without_json + ".")
                if not is_sidecar_key(key) and PurePosixPath(key).with_suffix("").as_posix() == without_json
            ]
        found = []
        for key in candidates:
            info = self._head(SourceObject(bucket=bucket, key=key))
            if info is not None:
                found.append(_pin_version(SourceObject(bucket=bucket, key=key), info))
        return found


def _call_id_of(source: SourceObject) -> str:
    return derive_call_id(source.bucket, source.key, source.version_id, source.etag)


def _pin_version(source: SourceObject, info: ObjectInfo) -> SourceObject:
    """Fill what the event left out (emulators omit ``versionId``) from the object itself, so the
    recording's own event and a sidecar's event derive the same ``call_id``. A head that shows a
    different ETag means the key was overwritten since: keep the event's identity then."""
    if source.etag and info.etag and source.etag != info.etag:
        return source.model_copy(update={"size": source.size or info.size})
    return source.model_copy(
        update={
            "version_id": source.version_id or info.version_id,
            "etag": source.etag or info.etag,
            "size": info.size,
            "uploaded_at": source.uploaded_at or info.last_modified,
        }
    )


def _opted_out_again(key: str, call_id: str, outcome: str) -> IngestOutcome:
    return IngestOutcome(
        kind=OutcomeKind.OPTED_OUT, key=key, call_id=call_id, reason=ConsentState.OPTED_OUT.value,
        detail=f"a redelivery: this recording of a number on the stop list was {outcome} before (receipt kept)",
    )  # fmt: skip


def _awaits_sidecar_fix(record: CallRecord) -> bool:
    return (
        record.status is CallStatus.QUARANTINED
        and record.status_reason == QuarantineReason.SIDECAR_INVALID.value
    )


def _combine(outcomes: list[IngestOutcome]) -> IngestOutcome:
    first = outcomes[0]
    return first.model_copy(update={"detail": f"{len(outcomes)} recordings share this sidecar"})
