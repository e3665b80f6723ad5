"""The analyzer on the labelled corpus (``tests/fixtures/analysis/corpus``): calls it was not tuned on.

255 RU/EN calls written by three other authors (and made consistent by a fourth) without sight of
the phrase lists, in deliberately varied styles (paraphrase, colloquial speech, ASR-like text,
numbers as words, long and very short calls, pranks and social engineering, genuine fraud reports,
mono recordings), labelled by the definitions in ``corpus/LABELS.md``. The split is fixed by each
call's id (``split_of``): train / dev / **test**. The test split is sealed: rules, thresholds and
models are never tuned while looking at it; its figures are reported beside the dev split's.

The floors below are regression guards on the **dev** split, set a little under the first
measurement of the rules alone (2026-12-04); they are far below issue 17's targets on purpose: they
keep today's behaviour from silently getting worse while the learned layer is built. The test
split's figures are printed (and written to ``tests/bench/results/analysis-corpus.txt``), not
asserted.
"""

from __future__ import annotations

from collections import Counter

from callsight.analysis.analyzer import Analyzer

from tests.analysis_fixtures import CORPUS, SPLITS, Evaluation, load_calls, load_split, split_of
from tests.conftest import REPO
from tests.unit.analysis.test_labelled_calls import micro

REPORT = REPO / "tests" / "bench" / "results" / "analysis-corpus.txt"
CATEGORIES = (
    "price_complaint", "delivery_problem", "warranty_return", "technical_fault", "installation",
    "competitor_mention", "urgency", "cancellation_refund", "callback_request", "order_placed",
    "profanity", "fraud_suspicion",
)  # fmt: skip
#: Dev split, rules only, measured 2026-12-04: categories micro F1 0.63 (P 0.80, R 0.52), outcome
#: 0.55, customer sentiment sign 0.54 (test split: F1 0.61, outcome 0.61, sentiment 0.53). Entity
#: recall on dev after issue 17 item 3: money 0.34 -> 0.60 (P 1.00 -> 0.93), order_number 0.87 -> 0.91
#: (P 0.93), email 0.60 -> 0.80 (P 0.75 -> 1.00); test split: money 0.34 -> 0.61, order_number 0.62 -> 0.85,
#: email 0.33 -> 0.89. Then spoken price forms, spelled letters and booking cues: dev money 0.60 -> 0.98
#: (P 0.93 -> 1.00), order_number 0.91 -> 0.98 (P 0.93 -> 1.00); test: money 0.61 -> 0.92, order_number
#: 0.85 -> 0.87.
DEV_FLOORS = {"categories_f1": 0.58, "outcome": 0.50, "customer_sentiment": 0.48}


def f1(evaluation: Evaluation) -> float:
    overall = micro(evaluation.categories)
    if overall.precision + overall.recall == 0:
        return 0.0
    return 2 * overall.precision * overall.recall / (overall.precision + overall.recall)


def summary(title: str, evaluation: Evaluation, calls: int) -> list[str]:
    overall = micro(evaluation.categories)
    lines = [
        f"== {title} ({calls} calls): categories micro P {overall.precision:.2f} R {overall.recall:.2f} "
        f"F1 {f1(evaluation):.2f}"
    ]
    lines += [
        f"   {name} accuracy {right / total:.2f} ({right}/{total})"
        for name, (right, total) in evaluation.accuracy.items()
    ]
    recalls = ", ".join(f"{name} {t.recall:.2f}" for name, t in sorted(evaluation.entities.items()))
    lines.append(f"   entity recall: {recalls}")
    return lines


def test_the_split_is_fixed_and_covers_every_label() -> None:
    calls = {split: load_split(split) for split in SPLITS}
    for split, members in calls.items():
        for call in members:
            assert split_of(call.id) == split, f"{call.path} is in {split}, its id says {split_of(call.id)}"
            assert call.path.stem == call.id
    stray = [p for p in CORPUS.rglob("*.yaml") if p.parent.name not in SPLITS]
    assert stray == [], "every corpus call belongs to exactly one split folder"
    everything = [c for members in calls.values() for c in members]
    assert len({c.id for c in everything}) == len(everything)
    assert len(everything) + len(load_calls()) >= 300, "issue 17: at least 300 labelled calls"
    for split in ("dev", "test"):
        counts = Counter(name for c in calls[split] for name in c.expected.get("categories") or [])
        assert all(counts[name] >= 5 for name in CATEGORIES), (split, counts)
        assert {c.language for c in calls[split]} == {"ru", "en"}
        assert {c.expected["outcome"] for c in calls[split]} == {"success", "refusal", "callback", "none"}


def test_the_rules_on_the_dev_and_test_splits(analyzer: Analyzer) -> None:
    from tests.analysis_fixtures import evaluate

    dev, test = load_split("dev"), load_split("test")
    evaluations = {"dev": evaluate(analyzer, dev), "test (sealed)": evaluate(analyzer, test)}
    lines = []
    for (title, evaluation), calls in zip(evaluations.items(), (dev, test), strict=True):
        lines += summary(f"rules only, {title}", evaluation, len(calls))
    lines += ["", "dev split, per label:", evaluations["dev"].report()]
    report = "\n".join(lines)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(report + "\n", encoding="utf-8")
    print("\n" + report)
    measured = evaluations["dev"]
    outcome_right, outcome_total = measured.accuracy["outcome"]
    sentiment_right, sentiment_total = measured.accuracy["customer_sentiment"]
    assert f1(measured) >= DEV_FLOORS["categories_f1"], report
    assert outcome_right / outcome_total >= DEV_FLOORS["outcome"], report
    assert sentiment_right / sentiment_total >= DEV_FLOORS["customer_sentiment"], report
