"""The analyze stage: a TRANSCRIBED call in; an ANALYZED call, its search entries, an event and alerts out.

Steps: read the transcript version the message names → analyse (pure) → analysis document to S3
(PII masked) → search-index entries replaced → call item updated with the summary, tags and scores
(TRANSCRIBED → ANALYZED, or ANALYZED → ANALYZED on re-analysis) → ``CallAnalyzed`` on the event bus
→ alert rules to SNS. A transcript that cannot be analysed (absurd timings) marks the call FAILED
with the reason; infrastructure errors propagate and the queue retries.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel

from callsight.analysis.alerts import enabled_alerts, rate_alerts, tripped_alerts
from callsight.analysis.analyzer import Analyzer, TranscriptRejected
from callsight.auth.access import Owner
from callsight.compliance.policies import with_retention
from callsight.config import Settings
from callsight.models.analysis import (
    AnalysisSummary,
    CallAnalysis,
    label_evidence,
    stored_entities,
    without_pii,
)
from callsight.models.call import CallRecord, CallStatus, error_detail
from callsight.models.messages import AnalyzeRequest
from callsight.observability import span
from callsight.storage.analyses import AnalysisStore
from callsight.storage.call_repository import CallNotFound, CallRepository
from callsight.storage.notifications import AlertPublisher, EventPublisher, HourlyCounter
from callsight.storage.policy_store import CachedRetentionPolicies, PolicyStore
from callsight.storage.search_index import SearchIndex
from callsight.storage.transcripts import TranscriptStore

logger = logging.getLogger(__name__)


class AnalyzeOutcomeKind(StrEnum):
    ANALYZED = "analyzed"
    FAILED = "failed"  # the transcript itself is unusable
    SKIPPED = "skipped"  # already analysed from this transcript version, or the call moved on


class AnalyzeOutcome(BaseModel):
    kind: AnalyzeOutcomeKind
    call_id: str
    detail: str | None = None
    tags: list[str] = []
    alerts: list[str] = []
    index_entries: int = 0
    #: Seconds from the recording's upload to this ANALYZED write (the pipeline's latency).
    queue_to_done_s: float | None = None


class AnalyzeService:
    def __init__(
        self,
        settings: Settings,
        analyzer: Analyzer,
        calls: CallRepository | None = None,
        transcripts: TranscriptStore | None = None,
        analyses: AnalysisStore | None = None,
        index: SearchIndex | None = None,
        events: EventPublisher | None = None,
        alerts: AlertPublisher | None = None,
        counters: HourlyCounter | None = None,
    ) -> None:
        self.settings = settings
        self.analyzer = analyzer
        #: The rule pack's alerts less CALLSIGHT_ALERTS_DISABLED (an unknown id stops the cold start).
        self.alert_rules = enabled_alerts(analyzer.rules, settings.alerts_disabled_set)
        self.calls = calls or CallRepository(settings)
        self.transcripts = transcripts or TranscriptStore(settings)
        self.analyses = analyses or AnalysisStore(settings)
        self.index = index or SearchIndex(settings)
        self.events = events or EventPublisher(settings)
        self.alerts = alerts or AlertPublisher(settings)
        self.counters = counters or HourlyCounter(settings)
        self.retention = CachedRetentionPolicies(PolicyStore(settings))

    def handle(self, request: AnalyzeRequest) -> AnalyzeOutcome:
        call = self.calls.get(request.call_id)
        if call is None:
            raise CallNotFound(f"no call record {request.call_id} for this analyze message")
        if call.status not in (CallStatus.TRANSCRIBED, CallStatus.ANALYZED):
            return AnalyzeOutcome(
                kind=AnalyzeOutcomeKind.SKIPPED, call_id=call.call_id, detail=f"call is {call.status.value}"
            )
        if (
            call.status is CallStatus.ANALYZED
            and call.analysis is not None
            and call.analysis.transcript_version_id == request.transcript_version_id
            and call.analysis.rules_version == self.analyzer.rules.version
        ):
            # Only reached when no idempotency record answered the message: the attempt that analysed
            # the call may have died before announcing it, so announce it again (CallAnalyzed is
            # at-least-once; a consumer recognises a repeat by call_id and analysis_key).
            self.events.publish("CallAnalyzed", self._event(call, call.analysis, call.tags))
            return AnalyzeOutcome(
                kind=AnalyzeOutcomeKind.SKIPPED,
                call_id=call.call_id,
                detail="already analysed from this transcript; CallAnalyzed sent again",
            )
        transcript = self.transcripts.get(request.transcript_key, request.transcript_version_id)
        try:
            with span("analysis", language=transcript.language.code):
                analysis = self.analyzer.analyze(transcript, call_id=call.call_id)
        except TranscriptRejected as exc:
            logger.warning("transcript rejected by the analyzer", extra={"detail": str(exc)})
            if call.status is CallStatus.TRANSCRIBED:
                self.calls.transition(
                    call.call_id, CallStatus.FAILED, reason="transcript_invalid", detail=str(exc)
                )
            return AnalyzeOutcome(kind=AnalyzeOutcomeKind.FAILED, call_id=call.call_id, detail=str(exc))
        stored = without_pii(analysis)
        with span("write_analysis"):
            key, version_id = self.analyses.put(stored)
        with span("write_search_index"):
            entries = self.index.replace_call(
                call.call_id,
                call.started_at,
                self.analyzer.search_terms(transcript, analysis),
                Owner.of(call),
            )
        summary = self._summary(stored, key, version_id, request.transcript_version_id)
        tagged = with_retention(call.model_copy(update={"tags": stored.tags}), self.retention.policies())
        assert tagged.retention_policy is not None and tagged.expires_at is not None
        self.calls.transition(
            call.call_id, CallStatus.ANALYZED, analysis=(summary, stored.tags),
            retention=(tagged.retention_policy, tagged.expires_at),
        )  # fmt: skip
        self.events.publish("CallAnalyzed", self._event(call, summary, stored.tags))
        alerts = self._alerts(call, stored) if self.settings.alerts_enabled else []
        logger.info("call analysed", extra={"tags": stored.tags, "outcome": stored.outcome, "alerts": alerts})
        uploaded = call.source.uploaded_at or call.created_at
        return AnalyzeOutcome(
            kind=AnalyzeOutcomeKind.ANALYZED,
            call_id=call.call_id,
            tags=stored.tags,
            alerts=alerts,
            index_entries=entries,
            queue_to_done_s=round((datetime.now(UTC) - uploaded).total_seconds(), 3),
        )

    def release_after_error(self, call_id: str, error: BaseException, *, final: bool) -> None:
        """After the queue's last failed attempt: the TRANSCRIBED call becomes FAILED with the error
        (earlier attempts change nothing: the call stays TRANSCRIBED and the queue retries)."""
        if not final:
            return
        call = self.calls.get(call_id)
        if call is not None and call.status is CallStatus.TRANSCRIBED:
            self.calls.transition(
                call_id, CallStatus.FAILED, reason="analysis_error", detail=error_detail(error)
            )

    def _summary(
        self, analysis: CallAnalysis, key: str, version_id: str | None, transcript_version_id: str | None
    ) -> AnalysisSummary:
        sentiment, risk = analysis.sentiment, analysis.risk
        return AnalysisSummary(
            analysis_bucket=self.analyses.bucket, analysis_key=key, analysis_version_id=version_id,
            transcript_version_id=transcript_version_id, rules_version=analysis.rules_version,
            no_speech=analysis.no_speech, language=analysis.language, language_supported=analysis.language_supported,
            purpose=analysis.purpose, outcome=None if analysis.no_speech else analysis.outcome or "none",
            refusal_reason=analysis.refusal_reason,
            sentiment_overall=sentiment.overall if sentiment else None,
            sentiment_customer=sentiment.customer if sentiment else None,
            sentiment_agent=sentiment.agent if sentiment else None,
            sentiment_trend=sentiment.trend if sentiment else None,
            customer_mood=sentiment.customer_mood if sentiment else None, labels=label_evidence(analysis),
            risk_score=risk.score if risk else None, risk_level=risk.level if risk else None,
            checkpoints=analysis.checkpoints, metrics=analysis.metrics,
            entities=stored_entities(analysis.entities), warnings=analysis.warnings, analyzed_at=analysis.analyzed_at,
            customer_questions=analysis.customer_questions,
            alerts=[hit.rule.id for hit in tripped_alerts(self.alert_rules, analysis)],
        )  # fmt: skip

    @staticmethod
    def _event(call: CallRecord, summary: AnalysisSummary, tags: list[str]) -> dict[str, object]:
        """``CallAnalyzed`` detail: ids, classification and scores; no transcript text, no PII."""
        return {
            "call_id": call.call_id, "started_at": call.started_at, "agent_id": call.agent_id, "team": call.team,
            "queue": call.queue, "direction": call.direction.value, "language": summary.language, "tags": tags,
            "purpose": summary.purpose, "outcome": summary.outcome, "refusal_reason": summary.refusal_reason,
            "sentiment": summary.headline_sentiment,
            "customer_mood": summary.customer_mood,
            "risk_score": summary.risk_score, "duration_s": summary.metrics.duration_s,
            "analysis_key": summary.analysis_key, "no_speech": summary.no_speech,
        }  # fmt: skip

    def _alerts(self, call: CallRecord, analysis: CallAnalysis) -> list[str]:
        sent: list[str] = []
        base = {"call_id": call.call_id, "agent_id": call.agent_id, "team": call.team, "queue": call.queue}
        for hit in tripped_alerts(self.alert_rules, analysis):
            self.alerts.publish(
                f"Callsight alert: {hit.rule.id}",
                base | {"alert": hit.rule.id, "reason": hit.reason},
                hit.rule.severity,
            )
            sent.append(hit.rule.id)
        for rule in rate_alerts(self.alert_rules, analysis):
            threshold = rule.when.at_least_per_hour
            count = self.counters.increment(f"alert#{rule.id}", datetime.now(UTC))
            if threshold is not None and count == threshold:  # once per hour, when the count reaches it
                reason = f"{count} calls tagged {rule.when.tag} this hour (threshold {threshold})"
                self.alerts.publish(
                    f"Callsight alert: {rule.id}", base | {"alert": rule.id, "reason": reason}, rule.severity
                )
                sent.append(rule.id)
        return sent
