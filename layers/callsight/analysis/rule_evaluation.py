"""The rule pack applied to one call: which rules hold, with the phrase occurrences that made them
hold. A rule's ``all`` conditions must hold, one of its ``any`` and none of its ``none``; a condition
is phrases (by speaker, time window, negation, questions), an earlier rule, a sentiment threshold or a
talk metric. Rules are evaluated in file order, so a rule can build on one above it. Pure; compiled
phrase patterns are cached per language."""

from __future__ import annotations

from dataclasses import dataclass

from callsight.analysis.languages.base import LanguagePack
from callsight.analysis.rules import Condition, Rule, RulePack
from callsight.analysis.text import Occurrence, Pattern, TurnView, expand_phrases, find
from callsight.models.analysis import CategoryMatch, Evidence, SentimentSummary, TalkMetrics
from callsight.models.transcript import Transcript


@dataclass(frozen=True)
class CallContext:
    """What the rules see of one call."""

    transcript: Transcript
    pack: LanguagePack
    turns: list[TurnView]
    mono: bool
    sentiment: SentimentSummary
    metrics: TalkMetrics


class RuleEvaluator:
    """Evaluates one rule pack; reuse one per process (it caches compiled patterns per language)."""

    def __init__(self, rules: RulePack) -> None:
        self.rules = rules
        self._patterns: dict[tuple[str, int], list[Pattern]] = {}
        self._firsts: dict[int, frozenset[str] | None] = {}

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

    def _occurrences(self, condition: Condition, context: CallContext) -> list[Occurrence]:
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
        self, condition: Condition, context: CallContext, matched: dict[str, CategoryMatch]
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

    def evaluate(self, context: CallContext) -> tuple[dict[str, CategoryMatch], dict[str, list[Occurrence]]]:
        """The rules that hold (by id, with up to five pieces of evidence) and every occurrence behind each."""
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
        self, rule: Rule, context: CallContext, matched: dict[str, CategoryMatch]
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


def _sentiment_holds(condition: Condition, context: CallContext) -> bool:
    assert condition.sentiment is not None
    threshold = condition.sentiment
    summary = context.sentiment
    value = {"agent": summary.agent, "customer": summary.customer}.get(threshold.speaker, summary.overall)
    value = summary.overall if value is None else value
    return value < threshold.below if threshold.below is not None else value > (threshold.above or 0.0)
