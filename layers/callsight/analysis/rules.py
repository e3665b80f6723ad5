"""Category, outcome, checkpoint and alert rules as data: the schema, and loading with line numbers.

A rule file (YAML or JSON) is validated when it is loaded — a deployment with a broken rule file
fails at start with ``file:line: what is wrong``, never at the first call that trips over it.
Phrases are written per language or refer to a language module's phrase set as ``"@name"``.

Rule vocabulary (as in commercial call analytics): phrases (stemmed; ``word*`` = prefix) said by a
speaker, inside a time window, negated or not, at least N times; another rule's result; sentiment,
silence, interruptions and duration conditions; combined with ``all`` / ``any`` / ``none``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from callsight.analysis.languages import language_pack, supported_languages

DEFAULT_RULES = Path(__file__).parent / "rules" / "default.yaml"

RuleKind = Literal["category", "purpose", "outcome", "refusal_reason", "checkpoint", "risk_trigger"]
SpeakerFilter = Literal["agent", "customer", "any"]
LabelKind = Literal["category", "purpose", "outcome", "refusal_reason"]

#: What the analyzer answers when no rule of the kind matched (so also a value a call may be labelled with).
FALLBACK_VALUES: dict[str, str] = {"purpose": "consultation", "outcome": "none", "refusal_reason": "other"}


class RuleFileError(ValueError):
    """A rule file that cannot be used; the message names the file, the line and the reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Strict):
    first_s: float | None = Field(default=None, gt=0)
    last_s: float | None = Field(default=None, gt=0)
    first_fraction: float | None = Field(default=None, gt=0, le=1)
    last_fraction: float | None = Field(default=None, gt=0, le=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> Window:
        if (
            sum(v is not None for v in (self.first_s, self.last_s, self.first_fraction, self.last_fraction))
            != 1
        ):
            raise ValueError("a window needs exactly one of first_s, last_s, first_fraction, last_fraction")
        return self

    def bounds(self, duration_s: float) -> tuple[float, float]:
        if self.first_s is not None:
            return 0.0, self.first_s
        if self.last_s is not None:
            return max(0.0, duration_s - self.last_s), duration_s
        if self.first_fraction is not None:
            return 0.0, duration_s * self.first_fraction
        assert self.last_fraction is not None
        return duration_s * (1 - self.last_fraction), duration_s


class Threshold(_Strict):
    speaker: SpeakerFilter = "customer"
    below: float | None = Field(default=None, ge=-1, le=1)
    above: float | None = Field(default=None, ge=-1, le=1)

    @model_validator(mode="after")
    def _one_side(self) -> Threshold:
        if (self.below is None) == (self.above is None):
            raise ValueError("give exactly one of below / above")
        return self


class Condition(_Strict):
    """Exactly one of: ``phrases``, ``category``, ``sentiment``, ``silence_at_least_s``,
    ``interruptions_at_least``, ``duration_below_s``."""

    phrases: list[str] | dict[str, list[str]] | None = None
    speaker: SpeakerFilter = "any"
    window: Window | None = None
    negated: bool | Literal["any"] = False
    #: false: ignore mentions inside questions (an agent's offer "would you like us to install it?").
    questions: bool = True
    min_count: int = Field(default=1, ge=1)
    category: str | None = None
    sentiment: Threshold | None = None
    silence_at_least_s: float | None = Field(default=None, gt=0)
    interruptions_at_least: int | None = Field(default=None, ge=1)
    duration_below_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _exactly_one_test(self) -> Condition:
        tests = (
            self.phrases, self.category, self.sentiment, self.silence_at_least_s,
            self.interruptions_at_least, self.duration_below_s,
        )  # fmt: skip
        if sum(t is not None for t in tests) != 1:
            raise ValueError(
                "a condition tests exactly one thing: phrases, category, sentiment, silence_at_least_s, "
                "interruptions_at_least or duration_below_s"
            )
        return self

    def phrases_for(self, language: str) -> list[str]:
        if self.phrases is None:
            return []
        if isinstance(self.phrases, dict):
            return list(self.phrases.get(language, []))
        return list(self.phrases)


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: RuleKind = "category"
    value: str | None = None
    description: str | None = None
    all: list[Condition] = Field(default_factory=list)
    any: list[Condition] = Field(default_factory=list)
    none: list[Condition] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_conditions(self) -> Rule:
        if not (self.all or self.any):
            raise ValueError("a rule needs conditions under 'all' or 'any'")
        if self.kind in ("purpose", "outcome", "refusal_reason") and not self.value:
            raise ValueError(f"a {self.kind} rule needs a 'value'")
        return self

    @property
    def conditions(self) -> list[Condition]:
        return [*self.all, *self.any, *self.none]


class AlertWhen(_Strict):
    tag: str | None = None
    customer_sentiment_below: float | None = Field(default=None, ge=-1, le=1)
    risk_at_least: float | None = Field(default=None, ge=0, le=1)
    at_least_per_hour: int | None = Field(default=None, ge=1)
    #: A checkpoint rule's id: the alert trips when the call was checked and that checkpoint was not met.
    checkpoint_missing: str | None = None

    @model_validator(mode="after")
    def _something(self) -> AlertWhen:
        if (
            self.tag is None and self.customer_sentiment_below is None and self.risk_at_least is None
            and self.checkpoint_missing is None
        ):  # fmt: skip
            raise ValueError(
                "an alert needs tag, customer_sentiment_below, risk_at_least or checkpoint_missing"
            )
        if self.at_least_per_hour is not None and self.tag is None:
            raise ValueError("at_least_per_hour counts calls with a tag: give the tag")
        return self


class AlertRule(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    when: AlertWhen
    severity: Literal["info", "warning", "critical"] = "warning"


class RulePack(_Strict):
    version: str
    negation_window: int = Field(default=3, ge=1, le=10)
    short_call_s: float = Field(default=45, gt=0)
    long_pause_s: float = Field(default=8, gt=0)
    stage_fraction: float = Field(
        default=0.15, gt=0, lt=0.5, description="Opening / closing share of the call."
    )
    rules: list[Rule]
    alerts: list[AlertRule] = Field(default_factory=list)

    def of_kind(self, kind: RuleKind) -> list[Rule]:
        return [r for r in self.rules if r.kind == kind]

    def label_values(self, kind: LabelKind) -> list[str]:
        """Every value the analyzer can give a call for ``kind``, in file order: the category ids, or
        the values of the purpose / outcome / refusal-reason rules and the fallback when none matched
        (QA corrections are checked against these)."""
        if kind == "category":
            return [r.id for r in self.of_kind("category")]
        values = [r.value for r in self.of_kind(kind) if r.value] + [FALLBACK_VALUES[kind]]
        return list(dict.fromkeys(values))


# --- loading ----------------------------------------------------------------------------------------


def load_rules(path: Path = DEFAULT_RULES) -> RulePack:
    """Parse and validate a rule file; :class:`RuleFileError` with the line of the first problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleFileError(f"{path}: cannot read the rule file ({exc.strerror})") from exc
    return parse_rules(text, str(path))


def parse_rules(text: str, source: str = "<rules>") -> RulePack:
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise RuleFileError(f"{source}{line}: not valid YAML/JSON: {getattr(exc, 'problem', exc)}") from exc
    try:
        pack = RulePack.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        location = ".".join(str(part) for part in error["loc"])
        raise RuleFileError(
            f"{source}:{_line_of(root, error['loc'])}: {location or 'file'}: {error['msg']}"
        ) from exc
    _check_references(pack, data, root, source)
    return pack


def _line_of(node: Any, path: tuple[Any, ...]) -> int:
    """1-based line of the YAML node at ``path`` (the deepest existing ancestor when it is missing)."""
    line = (node.start_mark.line + 1) if node is not None else 1
    for part in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _check_references(pack: RulePack, data: Any, root: Any, source: str) -> None:
    """Rule ids unique; ``category:`` refers to an earlier rule; ``@set`` exists in every language."""
    seen: set[str] = set()
    for r_index, rule in enumerate(pack.rules):
        if rule.id in seen:
            raise RuleFileError(
                f"{source}:{_line_of(root, ('rules', r_index, 'id'))}: rule id {rule.id!r} repeated"
            )
        for group in ("all", "any", "none"):
            for c_index, condition in enumerate(getattr(rule, group)):
                where = ("rules", r_index, group, c_index)
                if condition.category is not None and condition.category not in seen:
                    raise RuleFileError(
                        f"{source}:{_line_of(root, (*where, 'category'))}: rule {rule.id!r} refers to "
                        f"{condition.category!r}, which is not defined above it"
                    )
                _check_phrase_sets(condition, source, _line_of(root, (*where, "phrases")))
        seen.add(rule.id)
    for a_index, alert in enumerate(pack.alerts):
        if alert.when.tag is not None and alert.when.tag not in seen:
            line = _line_of(root, ("alerts", a_index, "when", "tag"))
            raise RuleFileError(f"{source}:{line}: alert {alert.id!r} watches unknown tag {alert.when.tag!r}")
        checkpoint = alert.when.checkpoint_missing
        if checkpoint is not None and checkpoint not in {r.id for r in pack.of_kind("checkpoint")}:
            line = _line_of(root, ("alerts", a_index, "when", "checkpoint_missing"))
            raise RuleFileError(
                f"{source}:{line}: alert {alert.id!r} watches unknown checkpoint {checkpoint!r}"
            )


def _check_phrase_sets(condition: Condition, source: str, line: int) -> None:
    for language in supported_languages():
        pack = language_pack(language)
        assert pack is not None
        for phrase in condition.phrases_for(language):
            if phrase.startswith("@") and phrase[1:] not in pack.phrase_sets:
                raise RuleFileError(
                    f"{source}:{line}: phrase set {phrase!r} is not defined for language {language!r}"
                )
            if not phrase.strip("@* "):
                raise RuleFileError(f"{source}:{line}: empty phrase")
