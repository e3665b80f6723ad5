"""Labelled calls as training and evaluation examples: the corpus's YAML files or QA corrections.

A corpus call is a YAML file (``tests/fixtures/analysis/corpus/LABELS.md`` gives the format and the
label definitions); its split is the folder it sits in, and the folder must agree with
:func:`split_of`, which also places every QA-corrected call, by its id, so that a call never moves
between training and evaluation as corrections accumulate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callsight.analysis.learned.features import SpokenTurn
from callsight.asr.recognized import RecognizedSegment, RecognizedWord
from callsight.asr.turns import build_turns, channel_speakers, channel_summaries, merge_channels
from callsight.models.transcript import LanguageInfo, LanguageSource, ModelInfo, Transcript, Vocabulary

SPLITS = ("train", "dev", "test")


def split_of(call_id: str) -> str:
    """The split a labelled call belongs to, fixed by its id: 40 % train, 30 % dev, 30 % test."""
    bucket = int(hashlib.sha256(call_id.encode("utf-8")).hexdigest(), 16) % 10
    return "train" if bucket < 4 else "dev" if bucket < 7 else "test"


@dataclass(frozen=True)
class TimedTurn(SpokenTurn):
    start: float = 0.0
    end: float = 0.0


@dataclass(frozen=True)
class LabelledExample:
    id: str
    language: str
    channels: int
    turns: tuple[TimedTurn, ...]
    categories: frozenset[str]
    purpose: str | None
    outcome: str | None
    refusal_reason: str | None
    customer_sentiment: str | None
    entities: tuple[tuple[str, str], ...] = ()
    source: str = "corpus"

    @property
    def split(self) -> str:
        return split_of(self.id)

    def label(self, name: str) -> str | None:
        value: str | None = getattr(self, name)
        return value


class CorpusError(ValueError):
    """A corpus file is not a labelled call; the message names the file and the problem."""


def example_from_yaml(data: dict[str, Any], source: str = "corpus") -> LabelledExample:
    expected = data["expected"]
    turns = tuple(
        TimedTurn(str(t["speaker"]), str(t["text"]), float(t["start"]), float(t["end"]))
        for t in data["turns"]
    )
    return LabelledExample(
        id=str(data["id"]),
        language=str(data["language"]),
        channels=int(data["channels"]),
        turns=turns,
        categories=frozenset(expected.get("categories") or ()),
        purpose=expected.get("purpose"),
        outcome=expected.get("outcome"),
        refusal_reason=expected.get("refusal_reason"),
        customer_sentiment=expected.get("customer_sentiment"),
        entities=tuple((str(e["type"]), str(e["value"])) for e in expected.get("entities") or ()),
        source=source,
    )


def load_folder(folder: Path) -> list[LabelledExample]:
    """Every ``*.yaml`` call in ``folder`` (not recursive), in file-name order."""
    import yaml

    examples = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            examples.append(example_from_yaml(yaml.safe_load(path.read_text(encoding="utf-8"))))
        except (KeyError, TypeError, ValueError, AttributeError, yaml.YAMLError) as error:
            raise CorpusError(f"{path}: not a labelled call ({type(error).__name__}: {error})") from error
    return examples


def load_corpus(root: Path) -> dict[str, list[LabelledExample]]:
    """The corpus's ``train``/``dev``/``test`` folders; a call filed in the wrong folder is an error."""
    missing = [s for s in SPLITS if not (root / s).is_dir()]
    if missing:
        raise CorpusError(f"{root} is not a labelled corpus: no {', '.join(missing)} folder")
    corpus = {split: load_folder(root / split) for split in SPLITS}
    for split, examples in corpus.items():
        for example in examples:
            if example.split != split:
                raise CorpusError(
                    f"{example.id} is filed under {split}/ but its id places it in {example.split}"
                )
    return corpus


def by_split(examples: Iterable[LabelledExample]) -> dict[str, list[LabelledExample]]:
    out: dict[str, list[LabelledExample]] = {s: [] for s in SPLITS}
    for example in examples:
        out[example.split].append(example)
    return out


def transcript_of(example: LabelledExample, call_id: str | None = None) -> Transcript:
    """The example as the analyzer sees a real call: words spread over each turn's span, merged and
    split into turns by the transcriber's own code (so overlaps and mono calls look as in production)."""
    return build_transcript(
        [(t.speaker, t.start, t.end, t.text) for t in example.turns],
        example.language,
        example.channels,
        call_id=call_id or example.id,
    )


def build_transcript(
    turns: Sequence[tuple[str, float, float, str]], language: str, channels: int, call_id: str | None = None
) -> Transcript:
    """A :class:`Transcript` of (speaker, start, end, text) turns; two channels put the agent left."""
    stereo = channels == 2
    per_channel: list[list[RecognizedSegment]] = [[], []] if stereo else [[]]
    for speaker, start, end, text in turns:
        channel = (0 if speaker == "agent" else 1) if stereo else 0
        per_channel[channel].append(_segment(start, end, text))
    speakers, attribution, note = channel_speakers(len(per_channel), "left")
    segments, words = merge_channels(per_channel, speakers)
    duration = max((end for _, _, end, _ in turns), default=1.0) + 0.5
    return Transcript(
        call_id=call_id,
        language=LanguageInfo(code=language, probability=None, source=LanguageSource.CALL_HINT),
        duration_s=round(duration, 3),
        speaker_attribution=attribution,
        speaker_note=note,
        channels=channel_summaries(words, speakers),
        model=_LABELLED,
        vocabulary=Vocabulary(),
        segments=segments,
        words=words,
        turns=build_turns(words, 1.0 if stereo else 0.4, mono=not stereo),
        processing_s=0.0,
        real_time_factor=0.0,
        created_at=datetime(2026, 11, 23, tzinfo=UTC),
    )


_LABELLED = ModelInfo(
    name="labelled", model_id="labelled@0", device="cpu", compute_type="none", beam_size=1, batched=False,
    vad_threshold=0.3,
)  # fmt: skip


def _segment(start: float, end: float, text: str) -> RecognizedSegment:
    texts = text.split()
    step = (end - start) / max(1, len(texts))
    words = tuple(
        RecognizedWord(
            start=round(start + i * step, 3), end=round(start + (i + 1) * step - 0.02, 3), text=word,
            probability=0.9,
        )
        for i, word in enumerate(texts)
    )  # fmt: skip
    return RecognizedSegment(
        start=start, end=end, text=text, avg_logprob=-0.2, no_speech_prob=0.01, compression_ratio=1.3, words=words
    )  # fmt: skip
