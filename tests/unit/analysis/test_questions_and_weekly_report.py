"""Customer questions kept for the weekly report carry nothing personal; the report's pure parts."""

from __future__ import annotations

from datetime import date

import pytest
from callsight.analysis.analyzer import Analyzer
from callsight.reports.weekly import WeeklyQuery, _ranking, last_complete_week, week_start
from callsight.stats.summary import AgentStats

from tests.analysis_fixtures import build_transcript


def questions(analyzer: Analyzer, language: str, customer: str, channels: int = 2) -> list[str]:
    turns = [
        {"speaker": "agent", "start": 0.1, "end": 2.0, "text": "Hello, how can I help you today?"},
        {"speaker": "customer", "start": 2.5, "end": 9.0, "text": customer},
    ]
    return [q.text for q in analyzer.analyze(build_transcript(turns, language, channels)).customer_questions]


def test_customer_questions_are_kept_and_agent_questions_are_not(analyzer: Analyzer) -> None:
    assert questions(analyzer, "en", "Hi. When will my order arrive? It is late.") == [
        "when will my order arrive?"
    ]
    assert questions(analyzer, "ru", "Здравствуйте. Сколько стоит доставка до дома?") == [
        "сколько стоит доставка до дома?"
    ]


@pytest.mark.parametrize(
    "customer",
    [
        "Can you call me back on 903 123 45 67?",  # digits
        "Is my number nine zero three one two three?",  # spoken digits
        "Can you send it to john.smith@example.com?",  # e-mail (a PII entity)
        "Is Anna Petrova working today?",  # a name
        "Why?",  # too short to be a recurring question
    ],
)
def test_questions_with_anything_personal_or_too_short_are_left_out(
    analyzer: Analyzer, customer: str
) -> None:
    assert questions(analyzer, "en", customer) == []


def test_russian_questions_with_names_or_numbers_are_left_out(analyzer: Analyzer) -> None:
    assert questions(analyzer, "ru", "Можно позвать Ивана Петрова к телефону?") == []
    assert questions(analyzer, "ru", "Мой номер девять ноль три один два три, верно?") == []


def test_iso_weeks_parse_and_default_to_the_last_complete_week() -> None:
    assert week_start("2026-W47") == date(2026, 11, 16)
    assert week_start("2026-W53") == date(2026, 12, 28)  # 2026 has 53 ISO weeks
    with pytest.raises(ValueError, match="not a week of that year"):
        week_start("2025-W53")
    assert last_complete_week(date(2026, 11, 23)) == "2026-W47"  # a Monday: last week
    assert last_complete_week(date(2027, 1, 3)) == "2026-W52"
    with pytest.raises(ValueError):
        WeeklyQuery.model_validate({"week": "2026-W47'; DROP TABLE calls"})


def test_agents_rank_by_conversion_then_checkpoints_then_sentiment() -> None:
    agents = [
        AgentStats(agent_id="a", calls=5, conversion=0.2, avg_sentiment=0.9, checkpoints_met=1.0),
        AgentStats(agent_id="b", calls=5, conversion=0.8, avg_sentiment=-0.5, checkpoints_met=0.5),
        AgentStats(agent_id="c", calls=1, conversion=0.8, avg_sentiment=None, checkpoints_met=None),
    ]
    ranked = _ranking(agents)
    assert [(a.agent_id, a.rank) for a in ranked] == [("c", 1), ("b", 2), ("a", 3)]
    assert ranked[0].score == round(0.5 * 0.8 + 0.3 * 0.5 + 0.2 * 0.5, 3)


def test_csv_cells_cannot_smuggle_spreadsheet_formulas() -> None:
    from callsight.reports.weekly import _cell

    assert _cell('=HYPERLINK("http://x")').startswith("'=")
    assert _cell("-1+2") == "'-1+2" and _cell("когда?") == "когда?"
