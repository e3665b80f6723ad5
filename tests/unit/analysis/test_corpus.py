"""The analyzer on the labelled corpus (``tests/fixtures/analysis/corpus``): calls it was not tuned on.

535 RU/EN calls written by six authors (the first 255 made consistent by a reviewer) without sight
of the phrase lists, in deliberately varied styles (paraphrase, colloquial speech, ASR-like text,
numbers as words, long and very short calls, pranks and social engineering, genuine fraud reports,
mono recordings), labelled by the definitions in ``corpus/LABELS.md``. The split is fixed by each
call's id (``split_of``): train / dev / **test**. The test split is sealed: rules, thresholds and
models are never tuned while looking at it; its figures are reported beside the dev split's.

Two sets of floors. ``DEV_FLOORS`` guard the rules alone on the dev split (set a little under their
first measurement). ``TEST_FLOORS`` guard rules + the shipped learned model on the sealed test split,
measured once after the model was fitted and never used to choose anything. Both tables are printed
(and written to ``tests/bench/results/analysis-corpus.txt``).
"""

from __future__ import annotations

from collections import Counter

from callsight.analysis.analyzer import Analyzer
from callsight.analysis.learned.model import LabelModel

from tests.analysis_fixtures import CORPUS, SPLITS, load_calls, load_split, split_of
from tests.conftest import REPO

REPORT = REPO / "tests" / "bench" / "results" / "analysis-corpus.txt"
CATEGORIES = (
    "price_complaint", "delivery_problem", "warranty_return", "technical_fault", "installation",
    "competitor_mention", "urgency", "cancellation_refund", "callback_request", "order_placed",
    "profanity", "fraud_suspicion",
)  # fmt: skip
#: Dev split, rules only, 2026-12-04. First 78 dev calls: categories micro F1 0.63 (P 0.80, R 0.52),
#: outcome 0.55, customer mood 0.54 (test: F1 0.61, outcome 0.61, mood 0.53). The grown corpus's 129
#: dev calls: F1 0.63, outcome 0.49, mood 0.46 (the new calls are harder for the rules); the 162 of the
#: 535-call corpus: F1 0.60 (P 0.78 R 0.49), outcome 0.49, mood 0.46. Entity recall
#: after issue 17 item 3 and the spoken price forms, spelled letters and booking cues: dev money
#: 0.34 -> 0.98, order numbers 0.87 -> 0.98, e-mail 0.60 -> 0.80 (78 dev calls).
DEV_FLOORS = {"categories_f1": 0.58, "outcome": 0.45, "customer_sentiment": 0.42}
#: Rules + the shipped model on the sealed test split, measured once per model (never used to choose
#: anything). 2026-12-04, 255-call corpus, model fitted on train + dev: categories F1 0.77, outcome
#: 0.84, mood 0.71. Then the corpus grew to 415 calls (160 more by two new authors, each in the split
#: its id gives) and the model was refitted (216 train + 129 dev calls): test (118 calls) categories
#: F1 0.77 (P 0.73 R 0.82), outcome 0.86, customer mood 0.77, purpose 0.76, refusal reason 0.52;
#: money recall 0.92, order numbers 0.83, then 0.86 once a bare letter beside a spelled one ("W, D as
#: in delta") was read (found on train/dev). Issue 17's targets: F1 0.85, outcome 0.80, mood 0.75,
#: money and order numbers 0.85 -- all met but categories. 2026-12-05: the model may overrule a rule's
#: category (per-category veto), purpose reads the whole call, refusal reason the customer's words
#: (all chosen on dev): test categories F1 0.81 (P 0.80 R 0.82), purpose 0.81, outcome 0.86, mood
#: 0.77, refusal reason 0.44 (11/25; 0.52 before -- a handful of calls either way). Then 120 more calls
#: (corpus 535: train 221 + 48 fixtures, dev 162, test 152) and the model refitted, same
#: hyper-parameters (no variant beat them on both dev and train cross-validation): test categories F1
#: 0.83 (P 0.81 R 0.85), outcome 0.88, mood 0.80, purpose 0.84, refusal reason 0.55 (21/38); money
#: recall 0.91, order numbers 0.84 (issue 17's 0.85 missed by one or two numbers, as is categories F1).
#: 2026-12-05, late: dictated alphanumeric order numbers read (letters glued, lowercase, a word before
#: the digits, letters then five digits with no cue; train/dev only), and each category's view and C
#: chosen by 5-fold cross-validation on train (dev F1 0.79 -> 0.82): test categories F1 0.847
#: (P 0.82 R 0.87; 227 tp, 49 fp, 33 fn), outcome 0.88, mood 0.80, purpose 0.84, refusal reason 0.55;
#: money recall 0.93, order numbers 0.91 -- all of issue 17's targets met but categories F1 (0.847 of
#: 0.85). 2026-12-06: 300 more calls by two more pairs of authors (corpus 835: train 342 + 48
#: fixtures, dev 256, test 237), the model refitted with the same per-category search, nothing else
#: changed: dev categories F1 0.86 (P 0.89 R 0.82), outcome 0.88, mood 0.77; test categories F1
#: 0.873 (P 0.86 R 0.88), outcome 0.90, mood 0.84, purpose 0.88, refusal reason 0.57 (36/63); money
#: recall 0.89 (the entity code is unchanged: the 85 new test calls hold amounts it does not read, so
#: its floor moved 0.90 -> 0.88), order numbers 0.94 -- every one of issue 17's targets met. Then money
#: patterns read from train/dev misses (estimates, differences, budgets, fees, "at <price>"): dev money
#: P 0.91 -> 0.97, R 0.87 -> 0.95; test (measured once after) P 0.912 -> 0.921, R 0.894 -> 0.917.
#: The floors sit a little under the measurement so that a worse model or rule change fails here.
TEST_FLOORS = {
    "categories_f1": 0.86, "outcome": 0.88, "customer_sentiment": 0.82, "money": 0.90, "order_number": 0.92,
}  # fmt: skip


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


def test_rules_and_model_on_the_dev_and_test_splits(analyzer: Analyzer) -> None:
    """Rules only vs rules + the shipped model. The shipped model was fitted on train + dev, so its dev
    figure is the one recorded when ``callsight train`` measured the train-only fit (its metadata);
    the test split it never saw is measured here, and floored."""
    from tests.analysis_fixtures import evaluate

    model = LabelModel.shipped()
    with_model = Analyzer(analyzer.rules, analyzer.phone_region, analyzer.phone_hash, label_model=model)
    dev, test = load_split("dev"), load_split("test")
    evaluations = {
        "rules only, dev": evaluate(analyzer, dev),
        "rules only, test (sealed)": evaluate(analyzer, test),
        "rules + model, test (sealed)": evaluate(with_model, test),
    }
    lines = []
    for title, evaluation in evaluations.items():
        lines += evaluation.summary(title)
    lines += [line for line in model.metadata["selection"]["dev_table"]]
    lines += ["", f"label model {model.version}", "", "dev split, rules only, per label:"]
    lines.append(evaluations["rules only, dev"].report())
    report = "\n".join(lines)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(report + "\n", encoding="utf-8")
    print("\n" + report)
    rules_dev = evaluations["rules only, dev"]
    assert rules_dev.micro.f1 >= DEV_FLOORS["categories_f1"], report
    assert rules_dev.share("outcome") >= DEV_FLOORS["outcome"], report
    assert rules_dev.share("customer_sentiment") >= DEV_FLOORS["customer_sentiment"], report
    combined = evaluations["rules + model, test (sealed)"]
    assert combined.micro.f1 >= TEST_FLOORS["categories_f1"], report
    assert combined.share("outcome") >= TEST_FLOORS["outcome"], report
    assert combined.share("customer_sentiment") >= TEST_FLOORS["customer_sentiment"], report
    for kind in ("money", "order_number"):
        assert combined.entities[kind].recall >= TEST_FLOORS[kind], report


def test_the_shipped_model_records_how_it_was_measured() -> None:
    model = LabelModel.shipped()
    selection = model.metadata["selection"]
    assert model.metadata["fitted_on"] == "train+dev"
    assert selection["dev_calls"] == len(load_split("dev"))
    assert 0 < selection["score"] <= 1
