"""Rule files are validated when loaded: every mistake is reported with its line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from callsight.analysis.rules import DEFAULT_RULES, RuleFileError, load_rules, parse_rules

GOOD_HEAD = "version: test-1\nrules:\n"


def test_the_shipped_pack_loads_and_covers_the_default_categories() -> None:
    pack = load_rules(DEFAULT_RULES)
    categories = {r.id for r in pack.of_kind("category")}
    assert categories == {
        "price_complaint", "delivery_problem", "warranty_return", "technical_fault", "installation",
        "competitor_mention", "urgency", "cancellation_refund", "callback_request", "order_placed",
        "profanity", "fraud_suspicion",
    }  # fmt: skip
    assert {r.value for r in pack.of_kind("purpose")} == {"complaint", "order"}
    assert {r.value for r in pack.of_kind("outcome")} == {"success", "refusal", "callback"}
    assert {r.id for r in pack.of_kind("checkpoint")} == {
        "greeting",
        "need_discovery",
        "presentation",
        "closing",
        "recording_notice",
    }
    assert "recording_notice_missing" in {a.id for a in pack.alerts}


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        (
            "  - id: a\n    any: [{phrases: [x]}]\n  - id: a\n    any: [{phrases: [y]}]\n",
            5,
            "rule id 'a' repeated",
        ),
        ("  - id: a\n    kind: outcome\n    any: [{phrases: [x]}]\n", 3, "needs a 'value'"),
        (
            "  - id: a\n    any:\n      - {phrases: [x], window: {first_s: 5, last_s: 5}}\n",
            5,
            "exactly one of first_s",
        ),
        ("  - id: a\n    any:\n      - {phrases: [x], speaker: boss}\n", 5, "'agent', 'customer' or 'any'"),
        ("  - id: a\n    any:\n      - {category: b}\n", 5, "refers to 'b', which is not defined above it"),
        (
            "  - id: a\n    any:\n      - {phrases: ['@no_such_set']}\n",
            5,
            "phrase set '@no_such_set' is not defined",
        ),
        (
            "  - id: a\n    any:\n      - {phrases: [x], sentiment: {below: -0.5}}\n",
            5,
            "tests exactly one thing",
        ),
        ("  - id: a\n    all: []\n", 3, "needs conditions"),
        ("  - id: Bad-Id\n    any: [{phrases: [x]}]\n", 3, "should match pattern"),
        (
            "  - id: a\n    any: [{phrases: [x], speaker: agent\n",
            5,
            "not valid YAML",
        ),  # the parser stops at the end
    ],
    ids=[
        "duplicate-id",
        "outcome-without-value",
        "two-windows",
        "bad-speaker",
        "forward-reference",
        "unknown-phrase-set",
        "two-tests",
        "no-conditions",
        "bad-id",
        "broken-yaml",
    ],
)
def test_mistakes_are_reported_with_line_and_reason(body: str, line: int, message: str) -> None:
    with pytest.raises(RuleFileError) as error:
        parse_rules(GOOD_HEAD + body, "rules.yaml")
    assert str(error.value).startswith(f"rules.yaml:{line}:"), str(error.value)
    assert message in str(error.value)


def test_alerts_must_watch_known_tags(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        GOOD_HEAD + "  - id: a\n    any: [{phrases: [x]}]\nalerts:\n  - id: z\n    when: {tag: nope}\n"
    )
    with pytest.raises(RuleFileError, match=r"rules\.yaml:7: alert 'z' watches unknown tag 'nope'"):
        load_rules(path)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="cannot read the rule file"):
        load_rules(tmp_path / "missing.yaml")


def test_json_rule_files_work_too() -> None:
    pack = parse_rules('{"version": "j1", "rules": [{"id": "x", "any": [{"phrases": {"en": ["hello"]}}]}]}')
    assert pack.rules[0].any[0].phrases_for("en") == ["hello"]
    assert pack.rules[0].any[0].phrases_for("ru") == []
