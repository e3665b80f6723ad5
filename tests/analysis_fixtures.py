"""Labelled call fixtures (``tests/fixtures/analysis/calls/*.yaml``) turned into real Transcripts.

Each turn's words are spread evenly over the turn's time span and go through the transcriber's own
merge and turn-building code (``callsight.asr.turns``), so overlapping speech and mono calls look
exactly as the analyzer sees them in production.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from callsight.asr.recognized import RecognizedSegment, RecognizedWord
from callsight.asr.turns import build_turns, channel_speakers, channel_summaries, merge_channels
from callsight.models.transcript import LanguageInfo, LanguageSource, ModelInfo, Transcript, Vocabulary

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "analysis" / "calls"
#: The larger labelled corpus (``corpus/README.md``): calls by other authors in a fixed split.
CORPUS = FIXTURES.parent / "corpus"
SPLITS = ("train", "dev", "test")
MODEL = ModelInfo(
    name="fixture",
    model_id="fixture@0",
    device="cpu",
    compute_type="none",
    beam_size=1,
    batched=False,
    vad_threshold=0.3,
)


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


def _segment(turn: dict[str, Any]) -> RecognizedSegment:
    texts = str(turn["text"]).split()
    start, end = float(turn["start"]), float(turn["end"])
    step = (end - start) / max(1, len(texts))
    words = tuple(
        RecognizedWord(
            start=round(start + i * step, 3),
            end=round(start + (i + 1) * step - 0.02, 3),
            text=text,
            probability=0.9,
        )
        for i, text in enumerate(texts)
    )
    return RecognizedSegment(
        start=start, end=end, text=str(turn["text"]), avg_logprob=-0.2, no_speech_prob=0.01,
        compression_ratio=1.3, words=words,
    )  # fmt: skip


def transcript_for(call: LabelledCall, call_id: str | None = None) -> Transcript:
    return build_transcript(call.turns, call.language, call.channels, call_id=call_id or call.id)


def build_transcript(
    turns: list[dict[str, Any]], language: str, channels: int, call_id: str | None = None
) -> Transcript:
    stereo = channels == 2
    per_channel: list[list[RecognizedSegment]] = [[], []] if stereo else [[]]
    for turn in turns:
        channel = (0 if turn["speaker"] == "agent" else 1) if stereo else 0
        per_channel[channel].append(_segment(turn))
    speakers, attribution, note = channel_speakers(len(per_channel), "left")
    segments, words = merge_channels(per_channel, speakers)
    duration = max((float(t["end"]) for t in turns), default=1.0) + 0.5
    return Transcript(
        call_id=call_id,
        language=LanguageInfo(code=language, probability=None, source=LanguageSource.CALL_HINT),
        duration_s=round(duration, 3),
        speaker_attribution=attribution,
        speaker_note=note,
        channels=channel_summaries(words, speakers),
        model=MODEL,
        vocabulary=Vocabulary(),
        segments=segments,
        words=words,
        turns=build_turns(words, 1.0 if stereo else 0.4, mono=not stereo),
        processing_s=0.0,
        real_time_factor=0.0,
        created_at=datetime(2026, 11, 23, tzinfo=UTC),
    )


def split_of(call_id: str) -> str:
    """The split a corpus call belongs to, fixed by its id: 40 % train, 30 % dev, 30 % test."""
    bucket = int(hashlib.sha256(call_id.encode("utf-8")).hexdigest(), 16) % 10
    return "train" if bucket < 4 else "dev" if bucket < 7 else "test"


def load_split(split: str) -> list[LabelledCall]:
    """The corpus calls of one split (the 48 older fixtures, tuned on, are not in any)."""
    return load_calls(CORPUS / split)


# --- scoring the analyzer against the labels ----------------------------------------------------


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Evaluation:
    categories: dict[str, Tally]
    entities: dict[str, Tally]
    accuracy: dict[str, tuple[int, int]]  # field -> (right, total)
    mistakes: list[str]

    def report(self) -> str:
        lines = [f"{'category':<22} {'P':>5} {'R':>5}  tp fp fn"]
        for name, t in sorted(self.categories.items()):
            lines.append(f"{name:<22} {t.precision:5.2f} {t.recall:5.2f}  {t.tp:2} {t.fp:2} {t.fn:2}")
        lines.append(f"{'entity':<22} {'P':>5} {'R':>5}  tp fp fn")
        for name, t in sorted(self.entities.items()):
            lines.append(f"{name:<22} {t.precision:5.2f} {t.recall:5.2f}  {t.tp:2} {t.fp:2} {t.fn:2}")
        for name, (right, total) in self.accuracy.items():
            lines.append(f"{name:<22} accuracy {right}/{total} = {right / total:.2f}")
        return "\n".join(lines)


#: Entity types the fixtures label (places are extracted but not labelled, so not scored).
LABELLED_ENTITIES = frozenset({"order_number", "money", "phone", "email", "card", "date", "person"})


def sentiment_label(score: float | None) -> str:
    if score is None:
        return "neutral"
    return "positive" if score >= 0.15 else "negative" if score <= -0.15 else "neutral"


def evaluate(analyzer: Any, calls: list[LabelledCall]) -> Evaluation:
    categories: dict[str, Tally] = {}
    entities: dict[str, Tally] = {}
    accuracy: dict[str, list[int]] = {
        "purpose": [0, 0],
        "outcome": [0, 0],
        "refusal_reason": [0, 0],
        "customer_sentiment": [0, 0],
    }
    mistakes: list[str] = []
    for call in calls:
        result = analyzer.analyze(transcript_for(call))
        expected = set(call.expected.get("categories") or [])
        got = set(result.tags)
        for name in expected | got | {r.id for r in analyzer.rules.of_kind("category")}:
            tally = categories.setdefault(name, Tally())
            tally.tp += name in expected and name in got
            tally.fp += name in got and name not in expected
            tally.fn += name in expected and name not in got
        if expected != got:
            mistakes.append(
                f"{call.id}: categories missing {sorted(expected - got)} extra {sorted(got - expected)}"
            )
        customer = (
            result.sentiment.customer if result.sentiment.customer is not None else result.sentiment.overall
        )
        observed = {
            "purpose": result.purpose, "outcome": result.outcome, "refusal_reason": result.refusal_reason,
            "customer_sentiment": sentiment_label(customer),
        }  # fmt: skip
        for name, value in observed.items():
            want = call.expected.get(name)
            if name == "refusal_reason" and want is None and value is None:
                continue
            accuracy[name][1] += 1
            accuracy[name][0] += value == want
            if value != want:
                mistakes.append(f"{call.id}: {name} {value!r}, expected {want!r}")
        want_entities = {(e["type"], str(e["value"])) for e in call.expected.get("entities") or []}
        got_entities = {(e.type, e.value) for e in result.entities if e.type in LABELLED_ENTITIES}
        for kind in {k for k, _ in want_entities | got_entities}:
            tally = entities.setdefault(kind, Tally())
            w = {v for k, v in want_entities if k == kind}
            g = {v for k, v in got_entities if k == kind}
            tally.tp += len(w & g)
            tally.fp += len(g - w)
            tally.fn += len(w - g)
            if w != g:
                mistakes.append(f"{call.id}: {kind} missing {sorted(w - g)} extra {sorted(g - w)}")
    return Evaluation(categories, entities, {k: (v[0], v[1]) for k, v in accuracy.items()}, mistakes)


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
