"""Precision and recall of the default rule pack on 48 labelled RU/EN calls (tests/fixtures/analysis).

The calls were written (with their labels) independently of the phrase lists, to cover every default
category with positive cases and traps (negations, offers declined, look-alike words). The odd-numbered
calls were used to tune the phrase lists once; the even-numbered ones were held out and are reported
separately. Thresholds sit a little under what was measured (2026-11-23: categories micro P 0.90 /
R 0.86 on all 48; weakest: fraud_suspicion recall 0.50 — prank calls have no fixed words —,
installation and technical_fault precision 0.67), so a regression fails while the honest weak spots
stay visible in the report. ``place`` is not labelled in the fixtures and is not scored.
"""

from __future__ import annotations

import re

from callsight.analysis.analyzer import Analyzer

from tests.analysis_fixtures import Evaluation, evaluate, load_calls
from tests.conftest import REPO

REPORT = REPO / "tests" / "bench" / "results" / "analysis-quality.txt"
CALLS = load_calls()
CATEGORY_FLOOR = (0.60, 0.50)  # every category: precision, recall
ENTITY_FLOORS = {
    "phone": (0.9, 0.9), "card": (0.9, 0.9), "email": (0.9, 0.9), "order_number": (0.9, 0.75),
    "date": (0.9, 0.8), "money": (0.8, 0.6), "person": (0.85, 0.65),
}  # fmt: skip
ACCURACY_FLOORS = {"purpose": 0.7, "outcome": 0.6, "customer_sentiment": 0.6}


def held_out(call_id: str) -> bool:
    match = re.match(r"[a-z]+_(\d+)", call_id)
    return match is not None and int(match.group(1)) % 2 == 0


def write_report(sections: dict[str, Evaluation]) -> str:
    lines = []
    for title, evaluation in sections.items():
        overall = evaluation.micro
        lines += [
            f"== {title}: categories micro precision {overall.precision:.2f}, recall {overall.recall:.2f}",
            evaluation.report(),
        ]
    text = "\n".join(lines)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(text + "\n", encoding="utf-8")
    return text


def test_the_fixture_set_is_big_and_balanced_enough() -> None:
    assert len(CALLS) >= 40
    assert {c.language for c in CALLS} == {"ru", "en"}
    assert sum(c.channels == 1 for c in CALLS) >= 6


def test_precision_and_recall_per_category(analyzer: Analyzer) -> None:
    everything = evaluate(analyzer, CALLS)
    sections = {
        "all 48 calls": everything,
        "held-out (even-numbered) calls": evaluate(analyzer, [c for c in CALLS if held_out(c.id)]),
        "Russian": evaluate(analyzer, [c for c in CALLS if c.language == "ru"]),
        "English": evaluate(analyzer, [c for c in CALLS if c.language == "en"]),
    }
    report = write_report(sections)
    print("\n" + report)  # shown with -s; also in tests/bench/results/analysis-quality.txt
    mistakes = "\n".join(everything.mistakes)
    overall = everything.micro
    assert overall.precision >= 0.85 and overall.recall >= 0.80, f"{report}\n{mistakes}"
    for name, tally in everything.categories.items():
        assert tally.precision >= CATEGORY_FLOOR[0] and tally.recall >= CATEGORY_FLOOR[1], (
            f"{name}\n{report}\n{mistakes}"
        )
    for name, (precision, recall) in ENTITY_FLOORS.items():
        tally = everything.entities[name]
        assert tally.precision >= precision and tally.recall >= recall, f"{name}\n{report}\n{mistakes}"
    for name, floor in ACCURACY_FLOORS.items():
        right, total = everything.accuracy[name]
        assert right / total >= floor, f"{name}\n{report}\n{mistakes}"


def test_recording_notice_checkpoint_on_every_labelled_call(analyzer: Analyzer) -> None:
    """Every fixture says whether the caller was told the call is recorded (four do: an IVR notice on
    two stereo and two mono calls, RU and EN); the checkpoint agrees on all 48."""
    from tests.analysis_fixtures import transcript_for

    wrong = []
    for call in CALLS:
        expected = call.expected["checkpoints"]["recording_notice"]
        got = analyzer.analyze(transcript_for(call)).checkpoints.get("recording_notice")
        if got is not expected:
            wrong.append(f"{call.id}: expected {expected}, got {got}")
    assert sum(c.expected["checkpoints"]["recording_notice"] for c in CALLS) == 4
    assert not wrong, "\n".join(wrong)
