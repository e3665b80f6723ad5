"""One transcript in, one :class:`~callsight.models.analysis.CallAnalysis` out. Pure; no AWS.

Order: sanity checks → language module → turns → sentiment → talk metrics → rules (categories,
purpose, outcome, refusal reason, checkpoints, risk triggers, in file order) → keyword hits →
entities → dissatisfaction risk. Unsupported languages still get talk metrics and a warning saying
what was skipped. A call with no words at all is ``no_speech``: talk metrics only, and no language,
sentiment, purpose, outcome or risk (silence is not a neutral call in some language).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import fmean
from typing import Literal

from callsight.analysis.entities import EntityExtractor
from callsight.analysis.index_terms import TermEntry, index_terms
from callsight.analysis.languages import language_pack, supported_languages
from callsight.analysis.languages.base import LanguagePack
from callsight.analysis.learned.combine import combine_categories, decide, mood_of, overruled_categories
from callsight.analysis.learned.features import SpokenTurn
from callsight.analysis.learned.model import LabelModel, Scores
from callsight.analysis.metrics import long_pauses, talk_metrics
from callsight.analysis.pii import pii_spans
from callsight.analysis.questions import customer_questions
from callsight.analysis.rules import FALLBACK_VALUES, Condition, Rule, RulePack
from callsight.analysis.text import Occurrence, Pattern, TurnView, expand_phrases, find, turn_views
from callsight.models.analysis import (
    CallAnalysis,
    CategoryMatch,
    Evidence,
    KeywordHit,
    Risk,
    SentimentSummary,
    TalkMetrics,
)
from callsight.models.transcript import Speaker, SpeakerAttribution, Transcript

#: A turn scoring within this of zero says nothing about the speaker's mood.
NEUTRAL_TURN = 0.05
#: Longer than a day is not a phone call: a broken transcript, refused with a reason.
MAX_CALL_DURATION_S = 24 * 3600


class TranscriptRejected(ValueError):
    """The transcript cannot be analysed (absurd duration or timings); the message says why."""


@dataclass(frozen=True)
class _Context:
    transcript: Transcript
    pack: LanguagePack
    turns: list[TurnView]
    mono: bool
    sentiment: SentimentSummary
    metrics: TalkMetrics


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
        self._patterns: dict[tuple[str, int], list[Pattern]] = {}
        self._firsts: dict[int, frozenset[str] | None] = {}
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
        context = _Context(
            transcript, pack, turns, mono, self._sentiment(turns, pack, transcript, mono), metrics
        )
        matches, occurrences = self._evaluate(context)
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

    # --- sentiment ------------------------------------------------------------------------------------

    def _sentiment(
        self, turns: list[TurnView], pack: LanguagePack, transcript: Transcript, mono: bool
    ) -> SentimentSummary:
        scores = [pack.sentiment(t.text) for t in turns]
        weights = [max(1, len(t.tokens)) for t in turns]

        def mean(selected: list[int]) -> float | None:
            """Token-weighted mean over the turns that carry any sentiment (neutral turns such as
            "order 51734" would otherwise dilute one furious turn to nothing); 0 when none do."""
            if not selected:
                return None
            toned = [i for i in selected if abs(scores[i]) >= NEUTRAL_TURN] or selected
            total = sum(weights[i] for i in toned)
            return round(sum(scores[i] * weights[i] for i in toned) / total, 4)

        agent = mean([i for i, t in enumerate(turns) if t.speaker is Speaker.AGENT])
        customer = mean([i for i, t in enumerate(turns) if t.speaker is Speaker.CUSTOMER])
        focus = [i for i, t in enumerate(turns) if mono or t.speaker is Speaker.CUSTOMER] or list(
            range(len(turns))
        )
        third = transcript.duration_s / 3
        first = [scores[i] for i in focus if turns[i].start < third]
        last = [scores[i] for i in focus if turns[i].start >= 2 * third]
        first_third = round(fmean(first), 4) if first else 0.0
        last_third = round(fmean(last), 4) if last else first_third
        return SentimentSummary(
            per_turn=scores,
            agent=agent,
            customer=customer,
            overall=mean(list(range(len(turns)))) or 0.0,
            trend=round(last_third - first_third, 4),
            first_third=first_third,
            last_third=last_third,
        )

    # --- rules ----------------------------------------------------------------------------------------

    def _patterns_for(self, condition: Condition, pack: LanguagePack) -> list[Pattern]:
        key = (pack.code, id(condition))
        if key not in self._patterns:
            self._patterns[key] = expand_phrases(condition.phrases_for(pack.code), pack)
        return self._patterns[key]

    def _post_negations(self, pack: LanguagePack) -> list[Pattern]:
        key = (pack.code, -1)
        if key not in self._patterns:
            self._patterns[key] = (
                expand_phrases(["@post_negations"], pack) if "post_negations" in pack.phrase_sets else []
            )
        return self._patterns[key]

    def _first_stems(self, patterns: list[Pattern]) -> frozenset[str] | None:
        """The stems the patterns start with; None when one starts with a prefix (any turn may match)."""
        key = id(patterns)
        if key not in self._firsts:
            stems = [p.words[0].stem for p in patterns]
            self._firsts[key] = None if any(s is None for s in stems) else frozenset(s for s in stems if s)
        return self._firsts[key]

    def _occurrences(self, condition: Condition, context: _Context) -> list[Occurrence]:
        bounds = condition.window.bounds(context.transcript.duration_s) if condition.window else None
        found: list[Occurrence] = []
        patterns = self._patterns_for(condition, context.pack)
        firsts = self._first_stems(patterns)
        for turn in context.turns:
            if condition.speaker != "any" and not context.mono and turn.speaker.value != condition.speaker:
                continue
            if firsts is not None and firsts.isdisjoint(turn.stems):
                continue  # no pattern can start in this turn
            stems = turn.stems
            for pattern in [p for p in patterns if p.words[0].stem is None or p.words[0].stem in stems]:
                for occurrence in find(
                    pattern,
                    turn,
                    context.pack,
                    self.rules.negation_window,
                    self._post_negations(context.pack),
                ):
                    if bounds and not bounds[0] <= occurrence.time <= bounds[1]:
                        continue
                    if occurrence.question and not condition.questions:
                        continue
                    if condition.negated != "any" and occurrence.negated != condition.negated:
                        continue
                    found.append(occurrence)
        return found

    def _holds(
        self, condition: Condition, context: _Context, matched: dict[str, CategoryMatch]
    ) -> tuple[bool, list[Occurrence]]:
        if condition.phrases is not None:
            occurrences = self._occurrences(condition, context)
            return len(occurrences) >= condition.min_count, occurrences
        if condition.category is not None:
            return condition.category in matched, []
        if condition.sentiment is not None:
            return _sentiment_holds(condition, context), []
        metrics = context.metrics
        if condition.silence_at_least_s is not None:
            return metrics.longest_silence_s >= condition.silence_at_least_s, []
        if condition.interruptions_at_least is not None:
            return (metrics.interruptions or 0) >= condition.interruptions_at_least, []
        assert condition.duration_below_s is not None
        return metrics.duration_s < condition.duration_below_s, []

    def _evaluate(self, context: _Context) -> tuple[dict[str, CategoryMatch], dict[str, list[Occurrence]]]:
        matched: dict[str, CategoryMatch] = {}
        occurrences: dict[str, list[Occurrence]] = {}
        for rule in self.rules.rules:
            result = self._rule(rule, context, matched)
            if result is not None:
                evidence, seen = result
                matched[rule.id] = CategoryMatch(
                    id=rule.id, kind=rule.kind, value=rule.value, evidence=evidence
                )
                occurrences[rule.id] = seen
        return matched, occurrences

    def _rule(
        self, rule: Rule, context: _Context, matched: dict[str, CategoryMatch]
    ) -> tuple[list[Evidence], list[Occurrence]] | None:
        seen: list[Occurrence] = []
        for condition in rule.all:
            holds, found = self._holds(condition, context, matched)
            if not holds:
                return None
            seen.extend(found)
        if rule.any:
            results = [self._holds(c, context, matched) for c in rule.any]
            if not any(holds for holds, _ in results):
                return None
            seen.extend(o for holds, found in results if holds for o in found)
        if any(self._holds(c, context, matched)[0] for c in rule.none):
            return None
        evidence = [
            Evidence(turn=o.turn, speaker=o.speaker, start=round(o.time, 2), text=o.text) for o in seen[:5]
        ]
        return evidence, seen

    # --- the result -----------------------------------------------------------------------------------

    def _build(
        self,
        context: _Context,
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
            risk=self._risk(context, matched, occurrences),
            warnings=warnings,
            analyzed_at=datetime.now(UTC),
            customer_questions=customer_questions(
                context.transcript, context.pack, entities, self.pii_words(context.transcript, context.pack)
            ),
            label_model=self.label_model.version if self.label_model is not None else None,
            decisions=decisions,
        )

    def _keyword_hits(self, context: _Context, occurrences: dict[str, list[Occurrence]]) -> list[KeywordHit]:
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

    def _risk(
        self, context: _Context, matched: dict[str, CategoryMatch], occurrences: dict[str, list[Occurrence]]
    ) -> Risk:
        parts: list[tuple[float, str]] = []
        sentiment = context.sentiment
        customer = sentiment.customer if sentiment.customer is not None else sentiment.overall
        if customer < -0.05:
            parts.append((min(1.0, -customer) * 0.6, f"customer sentiment {customer:+.2f}"))
        if sentiment.trend < -0.2:
            parts.append(
                (
                    min(1.0, -sentiment.trend) * 0.4,
                    f"sentiment fell by {-sentiment.trend:.2f} from the first to the last third",
                )
            )
        pauses = long_pauses(context.transcript, self.rules.long_pause_s)
        if pauses:
            spans = ", ".join(f"{a:.0f}-{b:.0f} s" for a, b in pauses[:3])
            parts.append(
                (
                    min(0.3, 0.1 * len(pauses)),
                    f"{len(pauses)} long pause(s) of {self.rules.long_pause_s:.0f} s or more: {spans}",
                )
            )
        for rule in self.rules.of_kind("risk_trigger"):
            found = occurrences.get(rule.id, [])
            if found:
                said = "; ".join(
                    f"turn {o.turn} ({o.speaker.value}, {o.time:.1f} s): {o.text!r}" for o in found[:3]
                )
                parts.append((min(0.6, 0.3 * len(found)), f"trigger words: {said}"))
        if "profanity" in matched:
            parts.append((0.5, "profanity"))
        score = 1 - math.prod(1 - weight for weight, _ in parts)
        level: Literal["low", "medium", "high"] = (
            "high" if score >= 0.7 else "medium" if score >= 0.4 else "low"
        )
        return Risk(score=round(score, 3), level=level, evidence=[reason for _, reason in parts])

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


def _sentiment_holds(condition: Condition, context: _Context) -> bool:
    assert condition.sentiment is not None
    threshold = condition.sentiment
    summary = context.sentiment
    value = {"agent": summary.agent, "customer": summary.customer}.get(threshold.speaker, summary.overall)
    value = summary.overall if value is None else value
    return value < threshold.below if threshold.below is not None else value > (threshold.above or 0.0)


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
