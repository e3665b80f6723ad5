"""Fits a :class:`~callsight.analysis.learned.model.LabelModel` on labelled calls (needs scikit-learn).

One logistic regression per head over the head's views. Each category gets two cut-offs, chosen
together by 5-fold cross-validation on the training examples alone (the dev split is for comparing
models, the test split for reporting): the *threshold* at which the model adds the category, and the
*veto* below which it overrules a rule that fired (a phrase said in paraphrase, negation or an
agent's offer). Each category also gets its own view of the call and C (``CATEGORY_VIEWS`` x
``CATEGORY_CS``), chosen by the same cross-validation: "urgency" is in the customer's words, "order
placed" in how the call ends. The rest of the hyper-parameters were chosen on the corpus's dev split
(train split only for fitting; 2026-12-04; views, the categories C and vetoes 2026-12-05); all are
recorded in every model's metadata. Fits run with BLAS on one thread: hundreds of small fits gain
nothing from threads and lose much to contention (a categories fit on 2 shared cores: minutes -> ~15 s
for one view and C).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from callsight.analysis.learned.examples import LabelledExample
from callsight.analysis.learned.features import VIEWS, Vocabulary, view_counts
from callsight.analysis.learned.model import MULTI_LABEL_HEAD, Head, LabelModel


@dataclass(frozen=True)
class HeadConfig:
    views: tuple[str, ...]
    c: float  # inverse regularisation strength


HEADS: dict[str, HeadConfig] = {
    MULTI_LABEL_HEAD: HeadConfig(("call",), 100.0),
    "outcome": HeadConfig(("closing",), 10.0),
    "purpose": HeadConfig(("call",), 10.0),
    "customer_sentiment": HeadConfig(VIEWS, 3.0),
    "refusal_reason": HeadConfig(("customer",), 10.0),
}
#: Thresholds tried for each category; with each, the vetoes up to it (a veto equal to the threshold
#: makes the category the model's alone); the pair with the best cross-validated F1 is kept.
#: Views and C tried for each category; 5-fold cross-validation on the training calls picks one pair
#: per category (the head's own views and C are the fallback for a category with too few examples).
CATEGORY_VIEWS: tuple[tuple[str, ...], ...] = (
    ("call",),
    ("customer",),
    ("call", "customer"),
    ("call", "closing"),
)
CATEGORY_CS = (10.0, 30.0, 100.0, 300.0)
THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8)
VETOES = (0.0, 0.02, 0.05, 0.08, 0.1, 0.15, 0.2, 0.25, 0.3, *THRESHOLDS)
FOLDS = 5


def _matrix(rows: Sequence[dict[int, float]], width: int, mask: np.ndarray) -> Any:
    from scipy import sparse

    data, indices, indptr = [], [], [0]
    for row in rows:
        for column, value in row.items():
            if mask[column]:
                indices.append(column)
                data.append(value)
        indptr.append(len(indices))
    return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), width))


def _mask(vocabulary: Vocabulary, views: Sequence[str]) -> np.ndarray:
    mask = np.zeros(vocabulary.size, dtype=bool)
    mask[vocabulary.columns_of(views)] = True
    return mask


def _classifier(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=5000, class_weight="balanced")


def _out_of_fold(matrix: Any, y: np.ndarray, c: float) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    scores = np.zeros(len(y))
    for fit, held in StratifiedKFold(FOLDS, shuffle=True, random_state=17).split(matrix, y):
        scores[held] = _classifier(c).fit(matrix[fit], y[fit]).predict_proba(matrix[held])[:, 1]
    return scores


def _enough(y: np.ndarray) -> bool:
    return bool(y.sum() >= FOLDS and (len(y) - y.sum()) >= FOLDS)


def _cut_offs(matrix: Any, y: np.ndarray, c: float, rules: np.ndarray) -> tuple[float, float]:
    """The (threshold, veto) with the best F1 of out-of-fold probabilities combined with the rules as
    the analyzer combines them (a category is said when the model clears the threshold, or a rule
    fires and the model is not below the veto); (0.5, 0.0) with too few positives to tell."""
    if not _enough(y):
        return 0.5, 0.0
    return _best_cut_offs(_out_of_fold(matrix, y, c), y, rules)[0]


def _best_cut_offs(scores: np.ndarray, y: np.ndarray, rules: np.ndarray) -> tuple[tuple[float, float], float]:
    """The (threshold, veto) with the best F1 of ``scores`` combined with the rules, and that F1."""
    best, best_f1 = (0.5, 0.0), -1.0
    for threshold in THRESHOLDS:
        for veto in (v for v in VETOES if v <= threshold):
            predicted = (scores >= threshold) | (rules & (scores >= veto))
            tp = float((predicted & (y == 1)).sum())
            f1 = 2 * tp / (predicted.sum() + y.sum()) if predicted.sum() + y.sum() else 0.0
            if f1 > best_f1 + 1e-12:
                best, best_f1 = (threshold, veto), f1
    return best, best_f1


@dataclass(frozen=True)
class CategoryChoice:
    """What cross-validation on the training calls chose for one category."""

    views: tuple[str, ...]
    c: float
    threshold: float
    veto: float
    cv_f1: float  # of the out-of-fold scores with the chosen cut-offs, rules included
    tp: int  # the counts behind it, for a micro F1 over the categories
    fp: int
    fn: int


def choose_category(
    matrices: dict[tuple[str, ...], Any], y: np.ndarray, rules: np.ndarray, default: HeadConfig
) -> CategoryChoice:
    """The view and C (``CATEGORY_VIEWS`` x ``CATEGORY_CS``) and cut-offs with the best cross-validated
    F1 for one category; the head's default view and C when it has too few examples to tell."""
    if not _enough(y):
        return CategoryChoice(default.views, default.c, 0.5, 0.0, 0.0, 0, 0, int(y.sum()))
    best: CategoryChoice | None = None
    for views, matrix in matrices.items():
        for c in CATEGORY_CS:
            scores = _out_of_fold(matrix, y, c)
            (threshold, veto), f1 = _best_cut_offs(scores, y, rules)
            if best is None or f1 > best.cv_f1 + 1e-9:
                predicted = (scores >= threshold) | (rules & (scores >= veto))
                tp = int((predicted & (y == 1)).sum())
                fp, fn = int(predicted.sum()) - tp, int(y.sum()) - tp
                best = CategoryChoice(views, c, threshold, veto, f1, tp, fp, fn)
    assert best is not None
    return best


def fingerprint(examples: Sequence[LabelledExample]) -> str:
    """The same for the same labelled calls in every process: sets (categories) are sorted, since a
    frozenset's repr follows string hashing, which differs per process (``PYTHONHASHSEED``); so
    ``callsight train`` can tell when the dev calls are the ones the current model was measured on."""
    digest = hashlib.sha256()
    for example in sorted(examples, key=lambda e: e.id):
        fields = {k: sorted(v) if isinstance(v, frozenset) else v for k, v in asdict(example).items()}
        digest.update(json.dumps(fields, ensure_ascii=False, sort_keys=True, default=list).encode("utf-8"))
    return digest.hexdigest()[:16]


def fit(
    examples: Sequence[LabelledExample],
    categories: Sequence[str],
    rule_categories: Sequence[frozenset[str]] | None = None,
    metadata: dict[str, Any] | None = None,
) -> LabelModel:
    """A model trained on ``examples`` (all of them: pass the training split only).

    ``rule_categories``: what the rules say of each example; category thresholds are then chosen for
    the rules and the model together (as the analyzer combines them), else for the model alone."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # many small fits: threads only contend (2 cores: 8 min -> 14 s)
        return _fit(examples, categories, rule_categories, metadata)


def _fit(
    examples: Sequence[LabelledExample],
    categories: Sequence[str],
    rule_categories: Sequence[frozenset[str]] | None,
    metadata: dict[str, Any] | None,
) -> LabelModel:
    fired = rule_categories or [frozenset[str]() for _ in examples]
    counts = [view_counts(e.turns) for e in examples]
    vocabulary = Vocabulary.build(counts)
    vectors = [vocabulary.vector(c) for c in counts]
    heads: dict[str, Head] = {}
    per_category_choices: dict[str, dict[str, Any]] = {}
    for name, config in HEADS.items():
        mask = _mask(vocabulary, config.views)
        if name == MULTI_LABEL_HEAD:
            matrices = {
                views: _matrix(vectors, vocabulary.size, _mask(vocabulary, views)) for views in CATEGORY_VIEWS
            }
            union = tuple(v for v in VIEWS if any(v in views for views in (config.views, *CATEGORY_VIEWS)))
            coef, intercept, thresholds, vetoes = [], [], [], []
            chosen_per_category: dict[str, dict[str, Any]] = {}
            for category in categories:
                y = np.array([category in e.categories for e in examples], dtype=int)
                if y.sum() == 0:  # never seen: the model never says it
                    coef.append(np.zeros(vocabulary.size))
                    intercept.append(-20.0)
                    thresholds.append(0.5)
                    vetoes.append(0.0)
                    continue
                rules = np.array([category in f for f in fired], dtype=bool)
                choice = choose_category(matrices, y, rules, config)
                matrix = matrices.get(choice.views)
                if matrix is None:
                    matrix = _matrix(vectors, vocabulary.size, _mask(vocabulary, choice.views))
                model = _classifier(choice.c).fit(matrix, y)
                coef.append(model.coef_[0])  # zero outside the chosen views' columns
                intercept.append(float(model.intercept_[0]))
                thresholds.append(choice.threshold)
                vetoes.append(choice.veto)
                chosen_per_category[category] = {
                    "views": list(choice.views), "C": choice.c, "cv_f1": round(float(choice.cv_f1), 4),
                    "cv_counts": [choice.tp, choice.fp, choice.fn],
                }  # fmt: skip
            per_category_choices = chosen_per_category
            heads[name] = Head(
                name,
                tuple(categories),
                union,
                np.array(coef),
                np.array(intercept),
                np.array(thresholds),
                np.array(vetoes),
            )
            continue
        chosen = [i for i, e in enumerate(examples) if e.label(name) is not None]
        if name == "refusal_reason":
            chosen = [i for i in chosen if examples[i].outcome == "refusal"]
        labels = [str(examples[i].label(name)) for i in chosen]
        if len(set(labels)) < 2:
            continue
        matrix = _matrix([vectors[i] for i in chosen], vocabulary.size, mask)
        model = _classifier(config.c).fit(matrix, labels)
        heads[name] = Head(
            name, tuple(str(c) for c in model.classes_), config.views, model.coef_, model.intercept_
        )
    counts_cv = [c["cv_counts"] for c in per_category_choices.values()]
    tp, fp, fn = (sum(c[i] for c in counts_cv) for i in range(3))
    document = {
        "version": datetime.now(UTC).strftime("%Y%m%d-%H%M%S"),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "training_examples": len(examples),
        "training_fingerprint": fingerprint(examples),
        "hyper_parameters": {name: {"views": list(c.views), "C": c.c} for name, c in HEADS.items()},
        "categories": per_category_choices,
        "categories_cv_micro_f1": round(2 * tp / (2 * tp + fp + fn), 4) if tp else 0.0,
        **(metadata or {}),
    }
    return LabelModel(vocabulary, heads, document)
