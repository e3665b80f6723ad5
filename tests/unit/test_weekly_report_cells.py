"""The weekly report from statistics cells without the emulator: what a cell counts for it, that the
report is the same however the calls are split into cells or JSON round-tripped (as the rollup
stores them), and how cells of an older rollup load."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from callsight.models.analysis import CustomerQuestion
from callsight.models.call import CallRecord, CallStatus
from callsight.reports.weekly import build_weekly_report, weekly_report_from
from callsight.stats.cells import CELL_VERSION, Cell, cells_of, merge

from tests.unit.test_stats_cells import NOW, call, one_cell, summary

WEEK = "2026-W49"  # Monday 2026-11-30 .. Sunday 2026-12-06; NOW is Tuesday the 1st


def asked(
    language: str | None, *questions: tuple[str, str], purpose: str | None = "order", **kw: object
) -> CallRecord:
    analysis = summary().model_copy(
        update={
            "language": language,
            "purpose": purpose,
            "customer_questions": [CustomerQuestion(key=k, text=t, start=1.0) for k, t in questions],
        }
    )
    return call(analysis=analysis, **kw)  # type: ignore[arg-type]


def test_a_cell_counts_purposes_tags_and_questions_of_every_summarised_call() -> None:
    cell = one_cell(
        asked(
            "ru", ("когд привез", "Когда привезут?"), ("когд привез", "Когда же привезут?"), tags=["delivery"]
        )
    )
    assert (cell.summarised, cell.purposes, cell.summarised_tags) == (1, {"order": 1}, {"delivery": 1})
    assert cell.questions == {"ru:когд привез": 1}  # once per call
    assert cell.wordings == {"ru:когд привез": {"Когда привезут?": 1, "Когда же привезут?": 1}}
    assert cell.version == CELL_VERSION
    # A call with no outcome (nothing said) is not "analysed" but still counts for reasons and topics.
    silent = one_cell(call(analysis=summary(outcome=None), tags=["x"]))
    assert (silent.analysed, silent.summarised, silent.summarised_tags, silent.tags) == (0, 1, {"x": 1}, {})
    assert one_cell(asked(None, ("a b", "A b?"))).questions == {}  # no language: no question


def test_calls_claimed_for_deletion_are_in_no_cell() -> None:
    assert cells_of([call(status=CallStatus.DELETED, analysis=summary())]) == []


def test_a_wording_tie_goes_to_the_one_used_first_then_by_text() -> None:
    later = NOW + timedelta(hours=1)
    calls = [
        asked("ru", ("k", "позже"), call_id="b", started=later),
        asked("ru", ("k", "раньше"), call_id="a", started=NOW),
    ]
    report = build_weekly_report(calls, WEEK)
    assert [(q.question, q.calls, q.languages) for q in report.top_questions] == [("раньше", 2, ["ru"])]


def random_week(seed: int, n: int = 60) -> list[CallRecord]:
    rng = random.Random(seed)
    pool = [
        ("ru", "k1", "Когда?"),
        ("ru", "k1", "Когда же?"),
        ("ru", "k2", "Сколько?"),
        ("en", "k1", "When?"),
    ]
    records = []
    for i in range(n):
        picked = rng.sample(pool, rng.randrange(0, 3))
        language = rng.choice(["ru", "en", None])
        records.append(
            asked(
                language, *[(k, t) for _, k, t in picked], purpose=rng.choice(["order", "complaint", None]),
                call_id=f"c{i}", agent=rng.choice(["201", "202", "203"]), team=rng.choice(["a", "b", None]),
                started=NOW + timedelta(days=rng.randrange(0, 5), minutes=rng.randrange(0, 600)),
                tags=rng.sample(["x", "y", "z"], rng.randrange(0, 3)),
                status=rng.choice([CallStatus.ANALYZED] * 9 + [CallStatus.DELETED]),
            )
        )  # fmt: skip
    return records


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_report_is_the_same_however_the_calls_are_split_and_stored(seed: int) -> None:
    records = random_week(seed)
    whole = build_weekly_report(records, WEEK).model_dump(exclude={"generated_at"})
    third = len(records) // 3
    stored = [Cell.from_json(c.to_json()) for c in cells_of(records[third:])]
    split = weekly_report_from(cells_of(records[:third]) + stored, WEEK).model_dump(exclude={"generated_at"})
    assert split == whole
    shuffled = list(reversed(records))
    assert build_weekly_report(shuffled, WEEK).model_dump(exclude={"generated_at"}) == whole


def test_merging_does_not_change_the_cells_merged() -> None:
    cell = one_cell(asked("ru", ("k", "Когда?")))
    before = cell.to_json()
    merge([cell, Cell.from_json(before)])
    assert cell.to_json() == before


def test_a_cell_of_an_older_rollup_loads_as_version_1_and_unknown_fields_are_ignored() -> None:
    data = json.loads(one_cell(asked("ru", ("k", "Когда?"))).to_json())
    old = {k: v for k, v in data.items() if k not in ("version", "summarised", "purposes", "summarised_tags",
                                                      "questions", "wordings", "first_worded")}  # fmt: skip
    loaded = Cell.from_dict(old)
    assert (loaded.version, loaded.questions, loaded.calls) == (1, {}, 1)
    newer = Cell.from_dict({**data, "version": 3, "something_new": {"a": 1}})
    assert newer.version == 3 and newer.questions == {"ru:k": 1}
