"""Labelled call fixtures (``tests/fixtures/analysis/calls/*.yaml``) turned into real Transcripts.

Each turn's words are spread evenly over the turn's time span and go through the transcriber's own
merge and turn-building code (``callsight.asr.turns``), so overlapping speech and mono calls look
exactly as the analyzer sees them in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from callsight.analysis.learned.evaluation import Evaluation, Tally
from callsight.analysis.learned.evaluation import evaluate as evaluate_examples
from callsight.analysis.learned.examples import SPLITS, LabelledExample, example_from_yaml, split_of
from callsight.analysis.learned.examples import build_transcript as learned_transcript
from callsight.asr.turns import build_turns
from callsight.models.transcript import Transcript

__all__ = ["SPLITS", "Evaluation", "Tally", "split_of"]

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "analysis" / "calls"
#: The larger labelled corpus (``corpus/README.md``): calls by other authors in a fixed split.
CORPUS = FIXTURES.parent / "corpus"


@dataclass(frozen=True)
class LabelledCall:
    id: str
    language: str
    channels: int
    turns: list[dict[str, Any]]
    expected: dict[str, Any]
    path: Path


def load_calls(folder: Path = FIXTURES) -> list[LabelledCall]:
    calls = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        calls.append(
            LabelledCall(
                data["id"], data["language"], int(data["channels"]), data["turns"], data["expected"], path
            )
        )
    return calls


def build_transcript(
    turns: list[dict[str, Any]], language: str, channels: int, call_id: str | None = None
) -> Transcript:
    """A Transcript of fixture turns (``speaker``/``start``/``end``/``text`` dicts), built as
    ``callsight train`` builds its examples' (:func:`callsight.analysis.learned.examples.build_transcript`)."""
    specs = [(str(t["speaker"]), float(t["start"]), float(t["end"]), str(t["text"])) for t in turns]
    return learned_transcript(specs, language, channels, call_id=call_id)


def transcript_for(call: LabelledCall, call_id: str | None = None) -> Transcript:
    return build_transcript(call.turns, call.language, call.channels, call_id=call_id or call.id)


def load_split(split: str) -> list[LabelledCall]:
    """The corpus calls of one split (the 48 older fixtures, tuned on, are not in any)."""
    return load_calls(CORPUS / split)


# --- scoring the analyzer against the labels ----------------------------------------------------


def example_of(call: LabelledCall) -> LabelledExample:
    return example_from_yaml({"id": call.id, "language": call.language, "channels": call.channels,
                              "turns": call.turns, "expected": call.expected})  # fmt: skip


def evaluate(analyzer: Any, calls: list[LabelledCall]) -> Evaluation:
    """The analyzer scored on fixture calls, by the same code ``callsight train`` scores models with."""
    category_ids = [r.id for r in analyzer.rules.of_kind("category")]
    return evaluate_examples(analyzer, [example_of(c) for c in calls], category_ids)


# --- transcripts as Whisper writes dictated numbers -----------------------------------------------


def whisper_transcript(turns: list[tuple[str, str]], language: str, gap_s: float = 4.0) -> Transcript:
    """(speaker, text) turns, ``gap_s`` apart, on two channels; a piece written ``|.0`` is a word glued
    to the previous one (``space_before`` false), as Whisper writes a dictated «9.0.3.1…»."""
    specs = [
        {
            "speaker": speaker,
            "start": gap_s * i,
            "end": gap_s * i + gap_s - 0.5,
            "text": text.replace("|", ""),
        }
        for i, (speaker, text) in enumerate(turns)
    ]
    transcript = build_transcript(specs, language, 2)
    glued = [piece.startswith("|") for _, text in turns for piece in text.split()]
    assert len(glued) == len(transcript.words)
    words = [
        w.model_copy(update={"space_before": not g}) for w, g in zip(transcript.words, glued, strict=True)
    ]
    return transcript.model_copy(update={"words": words, "turns": build_turns(words, 1.0, mono=False)})


def word_indices(transcript: Transcript, said: str) -> list[int]:
    """Indices in ``transcript.words`` of the run of pieces ``said`` (as given to ``whisper_transcript``)."""
    pieces = [p.lstrip("|") for p in said.split()]
    texts = [w.text for w in transcript.words]
    for start in range(len(texts) - len(pieces) + 1):
        if texts[start : start + len(pieces)] == pieces:
            return list(range(start, start + len(pieces)))
    raise AssertionError(f"{said!r} not in {texts}")
