"""``callsight train``: rebuild the learned label layer from labelled calls, print the dev/test table,
and keep the better model.

Without ``--from-feedback`` it trains on the labelled corpus and writes the model shipped in the
package. With it, the deployment's QA corrections (``PUT /calls/{id}/labels``) join the corpus, each
call in the split its id fixes, and the model is stored as the deployment's own (the analyze function
loads it at its next cold start). Exit status 1 when the new model scores below the current one on
dev and ``--force`` was not given, or when the labelled data are unusable.
"""

from __future__ import annotations

import getpass
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from callsight.analysis.analyzer import Analyzer
from callsight.analysis.learned.examples import (
    CorpusError,
    LabelledExample,
    by_split,
    load_corpus,
    load_folder,
)
from callsight.analysis.learned.model import SHIPPED, LabelModel, LabelModelError
from callsight.analysis.learned.trainer import WorseModel, check_better, example_of_feedback, train
from callsight.analysis.rules import DEFAULT_RULES, load_rules
from callsight.config import Settings
from callsight.storage.secrets import resolved_settings

console = Console(stderr=True, soft_wrap=True)
#: Where the repository keeps the labelled corpus, and the older fixtures that were tuned on (train).
CORPUS = Path("tests/fixtures/analysis/corpus")
FIXTURES = Path("tests/fixtures/analysis/calls")
#: Where ``LabelModel.shipped`` loads the packaged model from (``callsight/analysis/learned/weights``;
#: this module is ``callsight/cli/train.py``, so two levels up).
SHIPPED_STEM = Path(__file__).resolve().parents[1] / "analysis" / "learned" / "weights" / SHIPPED


def train_command(
    corpus: Annotated[
        Path, typer.Option(help="Labelled corpus with train/, dev/ and test/ folders (LABELS.md format).")
    ] = CORPUS,
    extra_train: Annotated[
        list[Path] | None,
        typer.Option(
            help="More labelled calls for the train split only (default: the repo's older fixtures)."
        ),
    ] = None,
    from_feedback: Annotated[
        bool,
        typer.Option(
            "--from-feedback",
            help="Add this deployment's QA corrections and store the result as the deployment's model.",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the model to this path stem (.npz/.json) instead of its usual place."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Keep the new model even when it scores lower.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Train and print the table; save nothing.")
    ] = False,
) -> None:
    """Rebuild the label model; print rules-only vs rules + model on dev and test."""
    started = time.monotonic()
    settings = resolved_settings()
    rules = load_rules(settings.analysis_rules or DEFAULT_RULES)
    splits = _labelled(corpus, extra_train)
    feedback: list[LabelledExample] = []
    if from_feedback:
        feedback = _feedback(settings)
        for split, members in by_split(feedback).items():
            splits[split] += members
        console.print(f"{len(feedback)} QA-corrected calls added ({_count(by_split(feedback))})")
    console.print(f"labelled calls: {_count(splits)}")

    def analyzer_for(model: LabelModel | None) -> Analyzer:
        return Analyzer(
            rules, settings.phone_region, lambda phone: phone[-4:], settings.order_number_pattern, model
        )

    category_ids = [r.id for r in rules.of_kind("category")]
    try:
        run = train(splits, category_ids, analyzer_for, progress=lambda line: console.print(f"… {line}"))
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    typer.echo(run.table())
    if dry_run:
        console.print(f"dry run: nothing saved ({time.monotonic() - started:.0f}s)")
        return
    current = _current(settings, from_feedback, out)
    try:
        console.print(check_better(run, current))
    except WorseModel as error:
        if not force:
            console.print(f"[red]{error}[/red]")
            raise typer.Exit(1) from error
        console.print(f"[yellow]{error}; kept anyway (--force)[/yellow]")
    if from_feedback and out is None:
        from callsight.storage.label_models import LabelModelStore

        where = LabelModelStore(settings).put(run.model)
    else:
        npz, _ = run.model.save(out or SHIPPED_STEM)
        where = str(npz.with_suffix(""))
    console.print(f"model {run.model.version} saved to {where} ({time.monotonic() - started:.0f}s)")


def _labelled(corpus: Path, extra_train: list[Path] | None) -> dict[str, list[LabelledExample]]:
    try:
        splits = load_corpus(corpus)
        extras = extra_train if extra_train is not None else ([FIXTURES] if FIXTURES.is_dir() else [])
        for folder in extras:
            splits["train"] += load_folder(folder)
    except CorpusError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    return splits


def _feedback(settings: Settings) -> list[LabelledExample]:
    from callsight.api.labels import label_feedback
    from callsight.api.service import CallsApi
    from callsight.storage.audit_log import AuditLog

    api = CallsApi(settings)
    examples = [example_of_feedback(f) for f in label_feedback(api)]
    AuditLog(settings).record(
        actor=f"cli:{getpass.getuser()}", role="admin", action="labels.export", target="label-model",
        details={"calls": len(examples), "purpose": "callsight train --from-feedback"},
    )  # fmt: skip
    return examples


def _current(settings: Settings, from_feedback: bool, out: Path | None) -> LabelModel | None:
    try:
        if out is not None:
            return LabelModel.load(out) if out.with_suffix(".json").is_file() else None
        if from_feedback:
            from callsight.storage.label_models import LabelModelStore

            return LabelModelStore(settings).get() or LabelModel.shipped()
        return LabelModel.load(SHIPPED_STEM) if SHIPPED_STEM.with_suffix(".json").is_file() else None
    except LabelModelError as error:
        console.print(f"[yellow]the current model cannot be read ({error}): it will be replaced[/yellow]")
        return None


def _count(splits: dict[str, list[LabelledExample]]) -> str:
    return ", ".join(f"{name} {len(members)}" for name, members in splits.items())
