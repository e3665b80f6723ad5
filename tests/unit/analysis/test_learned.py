"""The learned label layer: features, the model file, how it is combined with the rules, training.

Real code throughout: the shipped model file, real fits with scikit-learn on corpus calls (a handful,
to keep the test quick), the ``callsight train`` command through Typer's runner.
"""

from __future__ import annotations

import dataclasses
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from callsight.analysis.analyzer import Analyzer
from callsight.analysis.learned.combine import combine_categories, decide, overruled_categories
from callsight.analysis.learned.examples import SPLITS, CorpusError, load_corpus, split_of
from callsight.analysis.learned.features import SpokenTurn, Vocabulary, ngrams, view_counts, view_texts
from callsight.analysis.learned.model import MULTI_LABEL_HEAD, LabelModel, LabelModelError, Scores
from callsight.cli import app
from callsight.models.analysis import CategoryMatch, Evidence
from callsight.models.transcript import Speaker
from typer.testing import CliRunner

from tests.analysis_fixtures import CORPUS, build_transcript


def test_numbers_never_become_features_and_letters_are_folded() -> None:
    grams = ngrams("Номер 4155550147, ЁЛКА")
    assert not any(ch.isdigit() and ch != "0" for gram in grams for ch in gram)
    assert " 000" in grams and "елка" in grams and "ёлка" not in grams


def test_a_mono_call_reads_all_speech_as_the_customers() -> None:
    turns = [SpokenTurn("unknown", "hello there"), SpokenTurn("unknown", "my order is late")]
    assert view_texts(turns)["customer"] == "hello there my order is late"
    stereo = [SpokenTurn("agent", "hello"), SpokenTurn("customer", "late again")]
    assert view_texts(stereo)["customer"] == "late again"


def test_an_ngram_said_in_one_call_only_is_not_in_the_vocabulary() -> None:
    """So no fragment unique to one caller (a rare surname) is kept inside a trained model."""
    calls = [
        view_counts([SpokenTurn("customer", "my parcel is late, Zbigniewski")]),
        view_counts([SpokenTurn("customer", "the parcel is late again")]),
    ]
    vocabulary = Vocabulary.build(calls)
    assert "late" in vocabulary.index["customer"]
    assert not any("zbig" in gram for view in vocabulary.index.values() for gram in view)


def test_the_shipped_model_round_trips_and_scores_the_same(tmp_path: Path) -> None:
    model = LabelModel.shipped()
    turns = [SpokenTurn("customer", "I want my money back, the blender broke after two days")]
    before = model.score(turns)
    model.save(tmp_path / "copy")
    after = LabelModel.load(tmp_path / "copy").score(turns)
    assert after.categories == pytest.approx(before.categories)
    assert set(model.heads) == {"categories", "purpose", "outcome", "refusal_reason", "customer_sentiment"}
    assert after.vetoes == pytest.approx(before.vetoes) and after.thresholds == pytest.approx(
        before.thresholds
    )


def test_a_model_file_without_vetoes_overrules_no_rule(tmp_path: Path) -> None:
    """Files written before vetoes existed still load: the model then only adds categories."""
    npz, _ = LabelModel.shipped().save(tmp_path / "m")
    with zipfile.ZipFile(npz) as old, zipfile.ZipFile(tmp_path / "stripped.npz", "w") as new:
        for item in old.infolist():
            if item.filename != f"{MULTI_LABEL_HEAD}.vetoes.npy":
                new.writestr(item, old.read(item.filename))
    (tmp_path / "stripped.npz").replace(npz)
    scores = LabelModel.load(tmp_path / "m").score([SpokenTurn("customer", "hello, is my order on its way?")])
    assert scores.categories and set(scores.vetoes.values()) == {0.0}
    assert not any(scores.overrules(c) for c in scores.categories)


def test_a_damaged_or_foreign_model_file_is_a_clear_error(tmp_path: Path) -> None:
    model = LabelModel.shipped()
    npz, meta = model.save(tmp_path / "m")
    npz.write_bytes(npz.read_bytes()[:1000])
    with pytest.raises(LabelModelError, match="damaged"):
        LabelModel.load(tmp_path / "m")
    model.save(tmp_path / "m")
    meta.write_text(meta.read_text().replace('"format": 1', '"format": 99'))
    with pytest.raises(LabelModelError, match="format 99"):
        LabelModel.load(tmp_path / "m")
    meta.unlink()
    with pytest.raises(LabelModelError, match="needs both"):
        LabelModel.load(tmp_path / "m")


def test_rules_keep_their_evidence_and_the_model_adds_what_they_missed() -> None:
    evidence = Evidence(turn=1, speaker=Speaker.CUSTOMER, start=3.0, text="too expensive")
    matched = {"price_complaint": CategoryMatch(id="price_complaint", kind="category", evidence=[evidence])}
    scores = Scores(
        categories={"price_complaint": 0.9, "urgency": 0.7, "profanity": 0.1},
        thresholds={"price_complaint": 0.5, "urgency": 0.4, "profanity": 0.5},
    )
    combined = combine_categories(matched, scores, ["price_complaint", "urgency", "profanity"])
    assert combined["price_complaint"].source == "rules+model"
    assert combined["price_complaint"].evidence == [evidence]
    assert combined["urgency"].source == "model" and combined["urgency"].score == 0.7
    assert "profanity" not in combined


def test_the_model_overrules_a_rule_below_the_veto_and_says_so() -> None:
    """A rule that fired on a negation ("no rush at all") is dropped when the model's probability is
    below the category's veto; the match is reported as overruled with its evidence and the score."""
    evidence = Evidence(turn=2, speaker=Speaker.CUSTOMER, start=8.0, text="no rush at all")
    matched = {
        "urgency": CategoryMatch(id="urgency", kind="category", evidence=[evidence]),
        "price_complaint": CategoryMatch(id="price_complaint", kind="category", evidence=[evidence]),
    }
    scores = Scores(
        categories={"urgency": 0.03, "price_complaint": 0.2},
        thresholds={"urgency": 0.5, "price_complaint": 0.4},
        vetoes={"urgency": 0.1, "price_complaint": 0.1},
    )
    ids = ["urgency", "price_complaint"]
    combined = combine_categories(matched, scores, ids)
    assert "urgency" not in combined
    assert combined["price_complaint"].source == "rules" and combined["price_complaint"].score == 0.2
    (overruled,) = overruled_categories(matched, scores, ids)
    assert (overruled.id, overruled.score, overruled.evidence) == ("urgency", 0.03, [evidence])


def test_one_value_fields_say_which_layer_decided() -> None:
    assert decide("outcome", "none", None).source == "rules"
    scores = Scores(categories={}, fields={"outcome": {"success": 0.8, "none": 0.2}})
    overruled = decide("outcome", "none", scores)
    assert (overruled.value, overruled.source, overruled.rules_said) == ("success", "model", "none")
    assert decide("outcome", "success", scores).source == "rules+model"


def test_the_analyzer_with_the_model_reads_a_paraphrase_the_rules_miss(analyzer: Analyzer) -> None:
    """A cancellation said without any of the rule file's phrases (written for this test)."""
    turns = [
        {"speaker": "agent", "start": 0.0, "end": 3.0, "text": "Good afternoon, HomeTech, Maria speaking."},
        {"speaker": "customer", "start": 3.5, "end": 12.0,
         "text": "Hi, I put in an order for a dishwasher yesterday and I'd like to undo it, we changed our minds."},
        {"speaker": "agent", "start": 12.5, "end": 18.0,
         "text": "No problem, it's cancelled and the money goes back to your card within three days."},
        {"speaker": "customer", "start": 18.5, "end": 21.0, "text": "Great, thanks a lot, bye."},
    ]  # fmt: skip
    transcript = build_transcript(turns, "en", 2)
    with_model = Analyzer(
        analyzer.rules, analyzer.phone_region, analyzer.phone_hash, label_model=LabelModel.shipped()
    )
    result = with_model.analyze(transcript)
    assert result.label_model == LabelModel.shipped().version
    assert set(result.decisions) >= {"purpose", "outcome", "customer_mood"}
    assert (
        result.sentiment is not None
        and result.sentiment.customer_mood == result.decisions["customer_mood"].value
    )
    assert all(m.score is not None for m in result.categories)
    scores = LabelModel.shipped().score([SpokenTurn(str(t["speaker"]), str(t["text"])) for t in turns])
    assert max(scores.categories, key=lambda k: scores.categories[k]) == "cancellation_refund"
    assert result.purpose == "order" and result.decisions["purpose"].source in ("model", "rules+model")
    rules_only = analyzer.analyze(transcript)
    assert rules_only.label_model is None and all(m.source == "rules" for m in rules_only.categories)


def test_the_analyzer_reports_a_category_the_model_overruled(analyzer: Analyzer) -> None:
    """The shipped model with the price-complaint veto raised to 1.0 (so it always overrules): the
    rule's match leaves the tags and is listed under ``overruled`` with its evidence."""
    turns = [
        {"speaker": "agent", "start": 0.0, "end": 3.0, "text": "Good afternoon, HomeTech, Maria speaking."},
        {"speaker": "customer", "start": 3.5, "end": 9.0,
         "text": "That fridge is way too expensive, it's a total rip-off, I'm not paying that."},
        {"speaker": "agent", "start": 9.5, "end": 12.0, "text": "I understand. Anything else I can help with?"},
    ]  # fmt: skip
    transcript = build_transcript(turns, "en", 2)
    assert "price_complaint" in analyzer.analyze(transcript).tags  # the rule fires
    shipped = LabelModel.shipped()
    head = shipped.heads[MULTI_LABEL_HEAD]
    vetoes = head.vetoes.copy() if head.vetoes is not None else np.zeros(len(head.labels))
    vetoes[head.labels.index("price_complaint")] = 1.0
    strict = LabelModel(
        shipped.vocabulary, {**shipped.heads, MULTI_LABEL_HEAD: dataclasses.replace(head, vetoes=vetoes)}, {}
    )
    result = Analyzer(analyzer.rules, analyzer.phone_region, analyzer.phone_hash, label_model=strict).analyze(
        transcript
    )
    assert "price_complaint" not in result.tags
    (overruled,) = [m for m in result.overruled if m.id == "price_complaint"]
    assert overruled.evidence and overruled.score is not None and overruled.source == "rules"


# --- training ---------------------------------------------------------------------------------------


def small_corpus(root: Path, per_split: dict[str, int]) -> Path:
    """A copy of the first N corpus calls of each split (real calls, fewer of them)."""
    for split in SPLITS:
        (root / split).mkdir(parents=True)
        for path in sorted((CORPUS / split).glob("*.yaml"))[: per_split[split]]:
            shutil.copy(path, root / split / path.name)
    return root


def test_a_call_filed_in_the_wrong_split_is_refused(tmp_path: Path) -> None:
    root = small_corpus(tmp_path / "c", {"train": 2, "dev": 1, "test": 1})
    moved = next((root / "dev").glob("*.yaml"))
    shutil.move(moved, root / "train" / moved.name)
    with pytest.raises(CorpusError, match="filed under train/"):
        load_corpus(root)
    assert split_of(moved.stem) == "dev"


def test_callsight_train_prints_the_table_and_refuses_a_worse_model(tmp_path: Path) -> None:
    corpus = small_corpus(tmp_path / "corpus", {"train": 30, "dev": 12, "test": 10})
    empty = tmp_path / "none"
    empty.mkdir()
    out = tmp_path / "model" / "label-model"
    args = ["train", "--corpus", str(corpus), "--extra-train", str(empty), "--out", str(out)]
    runner = CliRunner()
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    for title in ("dev, rules only", "dev, rules + model", "test, rules only", "test, rules + model"):
        assert f"== {title} (" in first.output
    assert out.with_suffix(".npz").is_file()
    saved = LabelModel.load(out)
    assert saved.metadata["fitted_on"] == "train+dev" and saved.metadata["training_examples"] == 42

    # The current model claims a better dev figure than any real fit: the new one is refused.
    meta = out.with_suffix(".json")
    meta.write_text(
        meta.read_text().replace(f'"score": {saved.metadata["selection"]["score"]}', '"score": 1.0')
    )
    before = out.with_suffix(".npz").read_bytes()
    refused = runner.invoke(app, args)
    assert refused.exit_code == 1
    assert "the new model is worse" in refused.output and "on the same dev calls" in refused.output
    assert out.with_suffix(".npz").read_bytes() == before
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert LabelModel.load(out).metadata["selection"]["score"] < 1.0


def test_callsight_train_writes_the_model_where_the_analyzer_loads_it() -> None:
    """``callsight train`` (no ``--out``) replaces the packaged model ``LabelModel.shipped`` reads, and
    compares against it (it once wrote under ``callsight/cli/analysis/`` after the CLI became a package)."""
    from importlib import resources

    from callsight.cli.train import SHIPPED_STEM

    shipped = Path(str(resources.files("callsight.analysis.learned") / "weights")) / "label-model"
    assert SHIPPED_STEM.resolve() == shipped.resolve()
    assert SHIPPED_STEM.with_suffix(".npz").is_file()


def test_callsight_train_without_a_usable_corpus_says_why(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train", "--corpus", str(tmp_path), "--extra-train", str(tmp_path)])
    assert result.exit_code == 1
    assert "is not a labelled corpus: no train, dev, test folder" in result.output


def test_the_data_fingerprint_is_the_same_in_every_process() -> None:
    """``callsight train`` compares dev figures only on the same dev calls; the fingerprint once
    followed the per-process string hashing of the category sets, so every run said "different"."""
    import os
    import subprocess
    import sys

    from callsight.analysis.learned.examples import load_folder
    from callsight.analysis.learned.training import fingerprint

    code = (
        "from pathlib import Path; from callsight.analysis.learned.examples import load_folder;"
        "from callsight.analysis.learned.training import fingerprint;"
        f"print(fingerprint(load_folder(Path({str(CORPUS / 'dev')!r}))))"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout.strip()
        for seed in ("1", "2")
    }  # fmt: skip
    assert seen == {fingerprint(load_folder(CORPUS / "dev"))}
    assert LabelModel.shipped().metadata["selection"]["dev_fingerprint"] in seen
