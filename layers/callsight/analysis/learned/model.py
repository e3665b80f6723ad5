"""A trained label model: loads its weights (numpy only) and scores one call.

The file is one ``.npz`` (vocabulary, idf, one weight matrix per head) and a ``.json`` beside it
(version, what it was trained on, hyper-parameters, its dev/test figures). Each *head* predicts one
field: ``categories`` is a set of independent yes/no labels, each with a threshold (the model adds
it) and a veto (below it the model overrules a rule that fired; absent in older files: no veto); ``outcome``,
``purpose``, ``customer_sentiment`` and ``refusal_reason`` pick one value. A head reads only the
views of the call it was trained on (``features.VIEWS``).
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from callsight.analysis.learned.features import VIEWS, SpokenTurn, Vocabulary, view_counts

#: Heads with one value per call; ``categories`` is the multi-label head.
SINGLE_VALUE_HEADS = ("purpose", "outcome", "refusal_reason", "customer_sentiment")
MULTI_LABEL_HEAD = "categories"
#: The model shipped in the package (trained by ``callsight train`` on the corpus's train split).
SHIPPED = "label-model"


@dataclass(frozen=True)
class Head:
    name: str
    labels: tuple[str, ...]
    views: tuple[str, ...]
    coef: np.ndarray  # (len(labels), vocabulary size); one row for a binary label
    intercept: np.ndarray
    thresholds: np.ndarray | None = None  # multi-label head only: per-label probability thresholds
    vetoes: np.ndarray | None = None  # multi-label head only: below it a rule's label is overruled


@dataclass(frozen=True)
class Scores:
    """What the model says about one call: a probability per category, and per value of each field."""

    categories: dict[str, float]
    fields: dict[str, dict[str, float]] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    vetoes: dict[str, float] = field(default_factory=dict)

    def best(self, name: str) -> tuple[str, float] | None:
        values = self.fields.get(name)
        if not values:
            return None
        label = max(values, key=lambda k: values[k])
        return label, values[label]

    def category_labels(self) -> dict[str, float]:
        """The categories at or above their threshold, with their probability."""
        return {k: p for k, p in self.categories.items() if p >= self.thresholds.get(k, 0.5)}

    def overrules(self, category: str) -> bool:
        """Whether the model's probability is below the category's veto (a rule's match is dropped)."""
        probability = self.categories.get(category)
        return probability is not None and probability < self.vetoes.get(category, 0.0)


class LabelModelError(ValueError):
    """The model file is missing, from another format, or damaged; the message says which."""


class LabelModel:
    FORMAT = 1

    def __init__(
        self, vocabulary: Vocabulary, heads: Mapping[str, Head], metadata: Mapping[str, Any]
    ) -> None:
        self.vocabulary = vocabulary
        self.heads = dict(heads)
        self.metadata = dict(metadata)
        self._masks: dict[str, np.ndarray] = {}
        for head in self.heads.values():
            mask = np.zeros(vocabulary.size, dtype=bool)
            mask[vocabulary.columns_of(head.views)] = True
            self._masks[head.name] = mask

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "unversioned"))

    def score(self, turns: Sequence[SpokenTurn]) -> Scores:
        vector = self.vocabulary.vector(view_counts(turns))
        columns = np.fromiter(vector.keys(), dtype=np.int64, count=len(vector))
        values = np.fromiter(vector.values(), dtype=np.float32, count=len(vector))
        categories: dict[str, float] = {}
        thresholds: dict[str, float] = {}
        vetoes: dict[str, float] = {}
        fields: dict[str, dict[str, float]] = {}
        for head in self.heads.values():
            allowed = self._masks[head.name][columns]
            logits = head.coef[:, columns[allowed]].astype(np.float32) @ values[allowed] + head.intercept
            if head.name == MULTI_LABEL_HEAD:
                assert head.thresholds is not None
                head_vetoes = head.vetoes if head.vetoes is not None else np.zeros(len(head.labels))
                for label, logit, threshold, veto in zip(
                    head.labels, logits, head.thresholds, head_vetoes, strict=True
                ):
                    categories[label] = _sigmoid(float(logit))
                    thresholds[label] = float(threshold)
                    vetoes[label] = float(veto)
            elif len(head.labels) == 2 and len(logits) == 1:  # a binary field stored as one row
                p = _sigmoid(float(logits[0]))
                fields[head.name] = {head.labels[0]: 1 - p, head.labels[1]: p}
            else:
                exp = np.exp(logits - logits.max())
                fields[head.name] = dict(zip(head.labels, (exp / exp.sum()).tolist(), strict=True))
        return Scores(categories, fields, thresholds, vetoes)

    # --- files ---------------------------------------------------------------------------------------

    def save(self, stem: Path) -> tuple[Path, Path]:
        """Writes ``stem.npz`` and ``stem.json``; returns both paths."""
        arrays: dict[str, np.ndarray] = {"idf": np.asarray(self.vocabulary.idf, dtype=np.float32)}
        for view in VIEWS:
            grams = sorted(self.vocabulary.index[view], key=lambda g: self.vocabulary.index[view][g])
            arrays[f"vocab.{view}"] = np.array(grams, dtype=np.str_)
            arrays[f"first.{view}"] = np.array([self.vocabulary.index[view][grams[0]] if grams else 0])
        for head in self.heads.values():
            arrays[f"{head.name}.coef"] = head.coef.astype(np.float16)
            arrays[f"{head.name}.intercept"] = head.intercept.astype(np.float32)
            if head.thresholds is not None:
                arrays[f"{head.name}.thresholds"] = head.thresholds.astype(np.float32)
            if head.vetoes is not None:
                arrays[f"{head.name}.vetoes"] = head.vetoes.astype(np.float32)
        stem.parent.mkdir(parents=True, exist_ok=True)
        npz, meta = stem.with_suffix(".npz"), stem.with_suffix(".json")
        with npz.open("wb") as out:
            np.savez_compressed(out, **arrays)  # type: ignore[arg-type]
        heads = {h.name: {"labels": list(h.labels), "views": list(h.views)} for h in self.heads.values()}
        document = {"format": self.FORMAT, **self.metadata, "heads": heads}
        meta.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return npz, meta

    @classmethod
    def load(cls, stem: Path) -> LabelModel:
        npz, meta = stem.with_suffix(".npz"), stem.with_suffix(".json")
        if not npz.is_file() or not meta.is_file():
            raise LabelModelError(f"label model {stem} needs both {npz.name} and {meta.name}")
        try:
            document = json.loads(meta.read_text(encoding="utf-8"))
            if document.get("format") != cls.FORMAT:
                raise LabelModelError(
                    f"label model {meta} has format {document.get('format')!r}; this code reads {cls.FORMAT}"
                )
            with np.load(npz, allow_pickle=False) as data:
                idf = data["idf"].astype(np.float64).tolist()
                index: dict[str, dict[str, int]] = {}
                for view in VIEWS:
                    first = int(data[f"first.{view}"][0])
                    index[view] = {str(g): first + i for i, g in enumerate(data[f"vocab.{view}"])}
                heads = {
                    name: Head(
                        name,
                        tuple(spec["labels"]),
                        tuple(spec["views"]),
                        data[f"{name}.coef"].astype(np.float32),
                        data[f"{name}.intercept"].astype(np.float32),
                        data[f"{name}.thresholds"] if f"{name}.thresholds" in data.files else None,
                        data[f"{name}.vetoes"] if f"{name}.vetoes" in data.files else None,
                    )
                    for name, spec in document["heads"].items()
                }
        except (KeyError, ValueError, OSError, zipfile.BadZipFile) as error:
            if isinstance(error, LabelModelError):
                raise
            raise LabelModelError(f"label model {stem} is damaged or incomplete: {error}") from error
        metadata = {k: v for k, v in document.items() if k not in ("format", "heads")}
        return cls(Vocabulary(index, idf), heads, metadata)

    @classmethod
    def shipped(cls) -> LabelModel:
        folder = resources.files("callsight.analysis.learned") / "weights"
        return cls.load(Path(str(folder)) / SHIPPED)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
