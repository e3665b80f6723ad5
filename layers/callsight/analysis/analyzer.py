"""One transcript in, one :class:`~callsight.models.analysis.CallAnalysis` out. Pure; no AWS.

Order: sanity checks → language module → turns → sentiment (:mod:`sentiment`) → talk metrics →
rules (:mod:`rule_evaluation`: categories, purpose, outcome, refusal reason, checkpoints, risk
triggers, in file order) → the learned layer → keyword hits → entities → dissatisfaction risk
(:mod:`risk`). Unsupported languages still get talk metrics and a warning saying
what was skipped. A call with no words at all is ``no_speech``: talk metrics only, and no language,
sentiment, purpose, outcome or risk (silence is not a neutral call in some language).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from callsight.analysis.entities import EntityExtractor
from callsight.analysis.index_terms import TermEntry, index_terms
from callsight.analysis.languages import language_pack, supported_languages
from callsight.analysis.languages.base import LanguagePack
from callsight.analysis.learned.combine import combine_categories, decide, mood_of, overruled_categories
from callsight.analysis.learned.features import SpokenTurn
from callsight.analysis.learned.model import LabelModel, Scores
from callsight.analysis.metrics import talk_metrics
from callsight.analysis.pii import pii_spans
from callsight.analysis.questions import customer_questions
from callsight.analysis.risk import dissatisfaction_risk
from callsight.analysis.rule_evaluation import CallContext, RuleEvaluator
from callsight.analysis.rules import FALLBACK_VALUES, RulePack
from callsight.analysis.sentiment import sentiment_summary
from callsight.analysis.text import Occurrence, turn_views
from callsight.models.analysis import (
    CallAnalysis,
    CategoryMatch,
    KeywordHit,
    Risk,
    SentimentSummary,
    TalkMetrics,
)
from callsight.models.transcript import SpeakerAttribution, Transcript

#: Longer than a day is not a phone call: a broken transcript, refused with a reason.
MAX_CALL_DURATION_S = 24 * 3600


class TranscriptRejected(ValueError):
    """The transcript cannot be analysed (absurd duration or timings); the message says why."""


class Analyzer:
    """Holds the rule pack and compiled phrases (per language); reuse one per process."""

    def __init__(
        self,
        rules: RulePack,
        phone_region: str,
        phone_hash: Callable[[str], str],
        order_number_pattern: str | None = None,
        label_model: LabelModel | Callable[[], LabelModel | None] | None = None,
    ) -> None:
        """``label_model``: the learned layer beside the rules (None: rules only), or a function that
        loads it, called at the first analysis (a function module makes no AWS call at import)."""
        self.order_number_pattern = order_number_pattern
        self._label_model = label_model
        self.rules = rules
        self.phone_region = phone_region
        self.phone_hash = phone_hash
        self.evaluator = RuleEvaluator(rules)
        self._extractors: dict[str, EntityExtractor] = {}

    @property
    def label_model(self) -> LabelModel | None:
        if self._label_model is not None and not isinstance(self._label_model, LabelModel):
            self._label_model = self._label_model()  # LabelModelError: every analysis fails with the reason
        return self._label_model

    def analyze(self, transcript: Transcript, call_id: str | None = None) -> CallAnalysis:
        check_transcript(transcript)
        warnings: list[str] = []
        metrics = talk_metrics(transcript, self.rules.short_call_s)
        if not transcript.words:
            return self._no_speech(transcript, call_id, metrics)
        pack = language_pack(transcript.language.code)
        if pack is None:
            warnings.append(
                f"language {transcript.language.code!r} is not supported (supported: "
                f"{', '.join(supported_languages())}): categories, sentiment, entities and keyword hits skipped; "
                "talk metrics computed"
            )
            return self._metrics_only(transcript, call_id, metrics, warnings)
        mono = not transcript.speaker_attribution.names_speakers
        if mono:
            warnings.append("speakers are not separated: speaker-specific rules were applied to all speech")
        elif transcript.speaker_attribution is SpeakerAttribution.VOICE:
            warnings.append(
                "mono recording: agent and customer were told apart by voice; a word's speaker can be wrong"
            )
        turns = turn_views(transcript, pack)
        context = CallContext(
            transcript, pack, turns, mono, sentiment_summary(turns, pack, transcript, mono), metrics
        )
        matches, occurrences = self.evaluator.evaluate(context)
        scores = None
        label_model = self.label_model
        overruled: list[CategoryMatch] = []
        if label_model is not None:
            scores = label_model.score([SpokenTurn(t.speaker.value, t.text) for t in transcript.turns])
            category_ids = [r.id for r in self.rules.of_kind("category")]
            overruled = overruled_categories(matches, scores, category_ids)
            matches = combine_categories(matches, scores, category_ids)
        result = self._build(context, call_id, matches, occurrences, warnings, scores)
        return result.model_copy(update={"overruled": overruled}) if overruled else result

    def search_terms(self, transcript: Transcript, analysis: CallAnalysis) -> dict[str, TermEntry]:
        """Keyword-search entries of the call (empty for an unsupported language); no PII term."""
        pack = language_pack(transcript.language.code)
        if pack is None:
            return {}
        return index_terms(turn_views(transcript, pack), pack, analysis, self.pii_words(transcript, pack))

    def pii_words(self, transcript: Transcript, pack: LanguagePack) -> set[int]:
        """Indices of the words inside PII spans: never indexed, never in a reported question."""
        return {
            i
            for s in pii_spans(
                transcript, pack, self.phone_region, order_number_pattern=self.order_number_pattern
            )
            for i in range(s.first, s.last + 1)
        }

    # --- the result -----------------------------------------------------------------------------------

    def _build(
        self,
        context: CallContext,
        call_id: str | None,
        matched: dict[str, CategoryMatch],
        occurrences: dict[str, list[Occurrence]],
        warnings: list[str],
        scores: Scores | None = None,
    ) -> CallAnalysis:
        def first_value(kind: str) -> str | None:
            return next((m.value for m in matched.values() if m.kind == kind), None)

        sentiment = context.sentiment
        rules_mood = mood_of(sentiment.customer if sentiment.customer is not None else sentiment.overall)
        decisions = {
            "purpose": decide("purpose", first_value("purpose") or FALLBACK_VALUES["purpose"], scores),
            "outcome": decide("outcome", first_value("outcome") or FALLBACK_VALUES["outcome"], scores),
            "customer_mood": decide("customer_sentiment", rules_mood, scores),
        }
        outcome = decisions["outcome"].value
        if outcome == "refusal":
            decisions["refusal_reason"] = decide(
                "refusal_reason", first_value("refusal_reason") or FALLBACK_VALUES["refusal_reason"], scores
            )
        sentiment = sentiment.model_copy(update={"customer_mood": decisions["customer_mood"].value})
        checkpoints = [m for m in matched.values() if m.kind == "checkpoint"]
        extractor = self._extractors.get(context.pack.code)
        if extractor is None:  # built once per language: it compiles the order-cue phrases
            extractor = self._extractors[context.pack.code] = EntityExtractor(
                context.pack, self.phone_region, self.phone_hash, self.order_number_pattern
            )
        entities = extractor.extract(context.turns)
        return CallAnalysis(
            call_id=call_id,
            language=context.pack.code,
            language_supported=True,
            rules_version=self.rules.version,
            tags=[m.id for m in matched.values() if m.kind == "category"],
            categories=[m for m in matched.values() if m.kind == "category"],
            purpose=decisions["purpose"].value,
            outcome=outcome,
            refusal_reason=decisions["refusal_reason"].value if "refusal_reason" in decisions else None,
            checkpoints={r.id: r.id in matched for r in self.rules.of_kind("checkpoint")},
            checkpoint_evidence=checkpoints,
            sentiment=sentiment,
            entities=entities,
            keyword_hits=self._keyword_hits(context, occurrences),
            metrics=context.metrics,
            risk=dissatisfaction_risk(self.rules, context, matched, occurrences),
            warnings=warnings,
            analyzed_at=datetime.now(UTC),
            customer_questions=customer_questions(
                context.transcript, context.pack, entities, self.pii_words(context.transcript, context.pack)
            ),
            label_model=self.label_model.version if self.label_model is not None else None,
            decisions=decisions,
        )

    def _keyword_hits(
        self, context: CallContext, occurrences: dict[str, list[Occurrence]]
    ) -> list[KeywordHit]:
        duration = context.transcript.duration_s
        edge = duration * self.rules.stage_fraction
        hits: list[KeywordHit] = []
        for rule in self.rules.of_kind("category"):
            for o in occurrences.get(rule.id, []):
                stage: Literal["opening", "middle", "closing"] = (
                    "opening" if o.time < edge else "closing" if o.time > duration - edge else "middle"
                )
                hits.append(
                    KeywordHit(
                        term=o.phrase,
                        category=rule.id,
                        speaker=o.speaker,
                        start=round(o.time, 2),
                        stage=stage,
                        negated=o.negated,
                    )
                )
        return sorted(hits, key=lambda h: h.start)

    def _metrics_only(
        self, transcript: Transcript, call_id: str | None, metrics: TalkMetrics, warnings: list[str]
    ) -> CallAnalysis:
        return CallAnalysis(
            call_id=call_id, language=transcript.language.code, language_supported=False,
            rules_version=self.rules.version, tags=[], categories=[], purpose=None, outcome=FALLBACK_VALUES["outcome"],
            refusal_reason=None, checkpoints={}, checkpoint_evidence=[],
            sentiment=SentimentSummary(per_turn=[], agent=None, customer=None, overall=0.0, trend=0.0, first_third=0.0, last_third=0.0),
            entities=[], keyword_hits=[], metrics=metrics, risk=Risk(score=0.0, level="low", evidence=[]),
            warnings=warnings, analyzed_at=datetime.now(UTC),
        )  # fmt: skip

    def _no_speech(self, transcript: Transcript, call_id: str | None, metrics: TalkMetrics) -> CallAnalysis:
        return CallAnalysis(
            call_id=call_id, no_speech=True, language=None,
            language_supported=False, rules_version=self.rules.version,
            tags=[], categories=[], purpose=None, outcome=None, refusal_reason=None, checkpoints={},
            checkpoint_evidence=[], sentiment=None, entities=[], keyword_hits=[], metrics=metrics, risk=None,
            warnings=[
                f"no speech was recognised in {transcript.duration_s:.0f} s: no language, sentiment, purpose, "
                "outcome or risk (the transcriber's language guess on silence is not kept)"
            ],
            analyzed_at=datetime.now(UTC),
        )  # fmt: skip


def check_transcript(transcript: Transcript) -> None:
    duration = transcript.duration_s
    if not math.isfinite(duration) or duration <= 0 or duration > MAX_CALL_DURATION_S:
        raise TranscriptRejected(
            f"call duration {duration!r} s is not plausible (0 < duration ≤ {MAX_CALL_DURATION_S} s)"
        )
    for word in transcript.words:
        if not (0 <= word.start <= word.end <= duration + 1.0):
            raise TranscriptRejected(
                f"word {word.text!r} at {word.start}-{word.end} s lies outside the call's {duration} s"
            )
