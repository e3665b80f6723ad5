"""The transcribe stage: one RECEIVED call in, a transcript in S3, a TRANSCRIBED record and an analyze message out.

Life cycle: RECEIVED → TRANSCRIBING → TRANSCRIBED (transcript facts written in the same update),
then the analyze message. Undecodable or over-long audio → QUARANTINED with the reason (the
recording is kept). Any other error propagates so the queue retries; :meth:`release_after_error`
puts the call back to RECEIVED (retry) or FAILED (last attempt, error stored).

Re-delivery is safe at every point: a TRANSCRIBED call is not transcribed again (only its analyze
message is re-sent, in case the previous attempt stopped right before sending it); an interrupted
attempt (still TRANSCRIBING) is resumed; stale messages for quarantined, failed or deleted calls
are dropped. A message for a call whose record is gone because it was deleted on purpose (erased,
opted out, expired: the audit log holds its deletion receipt) is acknowledged and dropped
(``call_deleted``), not retried into the DLQ; a call that never existed still fails.

Voice prints (:mod:`callsight.stages.transcribe.voice_prints`): a mono call's agent's enrolled print goes
into the speaker separation; a stereo call of an opted-in agent enrolls one once TRANSCRIBED.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath

from pydantic import BaseModel

from callsight.asr.audio import AudioUndecodable
from callsight.asr.transcriber import AudioTooLong, Transcriber, TranscriptionOptions
from callsight.config import Settings
from callsight.models.call import CallRecord, CallStatus, QuarantineReason, error_detail
from callsight.models.messages import AnalyzeRequest, TranscribeRequest
from callsight.models.transcript import LanguageSource, Transcript, TranscriptionFacts, Vocabulary
from callsight.resources import ANALYZE_QUEUE
from callsight.stages.transcribe.voice_prints import AgentVoicePrints
from callsight.storage.artefacts import CallArtefacts
from callsight.storage.audit_log import AuditLog
from callsight.storage.call_repository import CallNotFound, CallRepository, IllegalTransition
from callsight.storage.queues import StageQueue
from callsight.storage.recordings import ObjectMissing, RecordingStore
from callsight.storage.transcripts import TranscriptStore

logger = logging.getLogger(__name__)


class TranscribeOutcomeKind(StrEnum):
    TRANSCRIBED = "transcribed"
    QUARANTINED = "quarantined"
    ANALYZE_RESENT = "analyze_resent"  # already TRANSCRIBED: only the analyze message was sent again
    SKIPPED = "skipped"  # stale message (call analysed, quarantined, failed or deleted)
    CALL_DELETED = (
        "call_deleted"  # the call's record is gone: deleted on purpose (receipt) before transcription
    )


class TranscribeOutcome(BaseModel):
    kind: TranscribeOutcomeKind
    call_id: str
    detail: str | None = None
    language: str | None = None
    audio_s: float | None = None
    processing_s: float | None = None
    real_time_factor: float | None = None
    transcript_key: str | None = None
    #: A voice print of the call's agent was enrolled from this (stereo) call.
    voice_print_enrolled: bool = False


class TranscribeService:
    """``transcriber`` is a factory so that messages needing no model never load one."""

    def __init__(
        self,
        settings: Settings,
        transcriber: Callable[[], Transcriber],
        calls: CallRepository | None = None,
        recordings: RecordingStore | None = None,
        transcripts: TranscriptStore | None = None,
        analyze_queue: StageQueue | None = None,
    ) -> None:
        self.settings = settings
        self._transcriber = transcriber
        self.calls = calls or CallRepository(settings)
        self.recordings = recordings or RecordingStore(settings)
        self.transcripts = transcripts or TranscriptStore(settings)
        self.analyze_queue = analyze_queue or StageQueue(ANALYZE_QUEUE, settings)
        self.artefacts = CallArtefacts(settings)
        self.voice_prints = AgentVoicePrints(settings)
        self._audit: AuditLog | None = None

    def _deletion_receipt(self, call_id: str) -> str | None:
        """The action of the audit log's deletion receipt of ``call_id`` (``erasure.delete``,
        ``retention.delete``, ``opt_out.delete``), or None: the call was never deleted on purpose."""
        if self._audit is None:
            self._audit = AuditLog(self.settings)
        receipts = [
            e.action for e in self._audit.for_target(f"call:{call_id}") if e.action.endswith(".delete")
        ]
        return receipts[0] if receipts else None

    def handle(self, request: TranscribeRequest) -> TranscribeOutcome:
        call = self.calls.get(request.call_id)
        if call is None:
            receipt = self._deletion_receipt(request.call_id)
            if receipt is None:
                raise CallNotFound(f"no call record {request.call_id} for this transcribe message")
            logger.info(
                "transcribe message for a call deleted before transcription dropped",
                extra={"deleted_by": receipt},
            )
            return TranscribeOutcome(
                kind=TranscribeOutcomeKind.CALL_DELETED,
                call_id=request.call_id,
                detail=f"the call was deleted before transcription ({receipt}); nothing to transcribe",
            )
        if call.status is CallStatus.TRANSCRIBED and call.transcription is not None:
            self._send_analyze(call.call_id, call.transcription)
            return TranscribeOutcome(kind=TranscribeOutcomeKind.ANALYZE_RESENT, call_id=call.call_id)
        if call.status not in (CallStatus.RECEIVED, CallStatus.TRANSCRIBING):
            logger.info("stale transcribe message ignored", extra={"status": call.status.value})
            return TranscribeOutcome(
                kind=TranscribeOutcomeKind.SKIPPED,
                call_id=call.call_id,
                detail=f"call is {call.status.value}",
            )
        if call.status is CallStatus.RECEIVED:
            call = self.calls.transition(call.call_id, CallStatus.TRANSCRIBING)
        else:
            logger.warning("resuming an interrupted transcription")
        return self._transcribe(call, request)

    def options_for(self, call: CallRecord, request: TranscribeRequest) -> TranscriptionOptions:
        """Language (call hint → queue profile → detection), vocabulary and channel mapping."""
        profile = self.settings.queue_profile(call.queue)
        language, source = None, None
        if request.language_hint or call.language_hint:
            language, source = request.language_hint or call.language_hint, LanguageSource.CALL_HINT
        elif profile.language:
            language, source = profile.language, LanguageSource.QUEUE_PROFILE
        return TranscriptionOptions.from_settings(
            self.settings,
            language=language,
            language_source=source,
            vocabulary=Vocabulary(hotwords=profile.hotwords, initial_prompt=profile.initial_prompt),
            agent_channel=request.agent_channel or call.agent_channel or self.settings.agent_channel,
            agent_voice_print=self.voice_prints.print_for(call),
        )

    def _transcribe(self, call: CallRecord, request: TranscribeRequest) -> TranscribeOutcome:
        options = self.options_for(call, request)
        suffix = PurePosixPath(request.key).suffix or ".audio"
        with tempfile.TemporaryDirectory(prefix="callsight-asr-") as workdir:
            local = Path(workdir) / f"recording{suffix}"
            try:
                self.recordings.download(request.bucket, request.key, request.version_id, local)
            except ObjectMissing as exc:
                return self._quarantine(call, QuarantineReason.OBJECT_DELETED, str(exc))
            try:
                transcript = self._transcriber().transcribe_file(local, options, call_id=call.call_id)
            except AudioUndecodable as exc:
                return self._quarantine(call, QuarantineReason.UNDECODABLE, str(exc))
            except AudioTooLong as exc:
                return self._quarantine(call, QuarantineReason.TOO_LONG, str(exc))
            enrollment = self.voice_prints.enrollment_for(call, local, options.agent_channel)
        facts = self._store(transcript)
        try:
            self.calls.transition(call.call_id, CallStatus.TRANSCRIBED, transcription=facts)
        except (CallNotFound, IllegalTransition):
            current = self.calls.get(call.call_id)
            if current is not None and current.status is not CallStatus.DELETED:
                raise
            # Erased or expired while the model ran: what was just written must not outlive it.
            self.artefacts.delete_versions(facts.transcript_bucket, facts.transcript_key)
            logger.warning("call deleted while it was transcribed; transcript discarded")
            return TranscribeOutcome(
                kind=TranscribeOutcomeKind.SKIPPED, call_id=call.call_id,
                detail="the call was deleted while it was transcribed; its transcript was discarded",
            )  # fmt: skip
        self._send_analyze(call.call_id, facts)
        enrolled = enrollment is not None and self.voice_prints.enroll(call, enrollment)
        logger.info(
            "call transcribed",
            extra={"language": facts.language, "words": facts.word_count, "rtf": facts.real_time_factor},
        )
        return TranscribeOutcome(
            kind=TranscribeOutcomeKind.TRANSCRIBED,
            call_id=call.call_id,
            language=facts.language,
            audio_s=transcript.duration_s,
            processing_s=transcript.processing_s,
            real_time_factor=transcript.real_time_factor,
            transcript_key=facts.transcript_key,
            voice_print_enrolled=enrolled,
        )

    def _store(self, transcript: Transcript) -> TranscriptionFacts:
        key, version_id = self.transcripts.put(transcript)
        return TranscriptionFacts(
            transcript_bucket=self.transcripts.bucket,
            transcript_key=key,
            transcript_version_id=version_id,
            language=transcript.language.code,
            language_probability=transcript.language.probability,
            language_source=transcript.language.source,
            model_id=transcript.model.model_id,
            device=transcript.model.device,
            compute_type=transcript.model.compute_type,
            real_time_factor=transcript.real_time_factor,
            processing_s=transcript.processing_s,
            word_count=len(transcript.words),
            speaker_attribution=transcript.speaker_attribution,
            transcribed_at=datetime.now(UTC),
        )

    def _send_analyze(self, call_id: str, facts: TranscriptionFacts) -> None:
        message = AnalyzeRequest(
            call_id=call_id,
            transcript_bucket=facts.transcript_bucket,
            transcript_key=facts.transcript_key,
            transcript_version_id=facts.transcript_version_id,
            language=facts.language,
        )
        self.analyze_queue.send(message, correlation_id=call_id)

    def _quarantine(self, call: CallRecord, reason: QuarantineReason, detail: str) -> TranscribeOutcome:
        logger.warning("recording quarantined by the transcriber", extra={"reason": reason.value})
        self.calls.transition(call.call_id, CallStatus.QUARANTINED, reason=reason.value, detail=detail)
        return TranscribeOutcome(kind=TranscribeOutcomeKind.QUARANTINED, call_id=call.call_id, detail=detail)

    def release_after_error(self, call_id: str, error: BaseException, *, final: bool) -> None:
        """After a failed attempt: back to RECEIVED for the queue's retry, or FAILED on the last one."""
        call = self.calls.get(call_id)
        if call is None or call.status is not CallStatus.TRANSCRIBING:
            return
        detail = error_detail(error)
        if final:
            self.calls.transition(call_id, CallStatus.FAILED, reason="transcription_error", detail=detail)
        else:
            self.calls.transition(call_id, CallStatus.RECEIVED, reason="transcription_retry", detail=detail)
