"""Labelled call fixtures (``tests/fixtures/analysis/calls/*.yaml``) turned into real Transcripts.

Each turn's words are spread evenly over the turn's time span and go through the transcriber's own
merge and turn-building code (``callsight.asr.turns``), so overlapping speech and mono calls look
exactly as the analyzer sees them in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from callsight.asr.recognized import RecognizedSegment, RecognizedWord
from callsight.asr.turns import build_turns, channel_speakers, channel_summaries, merge_channels
from callsight.models.transcript import LanguageInfo, LanguageSource, ModelInfo, Transcript, Vocabulary

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "analysis" / "calls"
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


def load_calls() -> list[LabelledCall]:
    calls = []
    for path in sorted(FIXTURES.glob("*.yaml")):
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
