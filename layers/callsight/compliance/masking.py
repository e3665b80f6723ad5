"""Masking PII in a transcript, word by word, and saying where it was (for the audio redaction).

Where PII is comes from ``callsight.analysis.pii`` — the same spans the entity extractor found
(phones, cards, emails, names, whatever separators ASR wrote), plus the numbers, names and spelled
emails masking must hide even where the extractor cannot name them. Each masked word becomes a
placeholder (``[PHONE]``…); the span keeps the masked display (a phone with its middle digits hidden)
and the times the audio must be bleeped: from the first word's start to the last word's end.
"""

from __future__ import annotations

from pydantic import BaseModel

from callsight.analysis.languages.base import LanguagePack
from callsight.analysis.pii import PLACEHOLDERS, pii_spans
from callsight.analysis.turns_text import word_offsets
from callsight.compliance.policies import MaskingPolicy
from callsight.models.transcript import Transcript, Turn, Word

__all__ = ["PLACEHOLDERS", "MaskedSpan", "mask_transcript", "masked_words"]


class MaskedSpan(BaseModel):
    type: str
    channel: int
    start: float
    end: float
    display: str
    words: int


def mask_transcript(
    transcript: Transcript,
    pack: LanguagePack | None,
    policy: MaskingPolicy,
    phone_region: str = "RU",
    order_number_pattern: str | None = None,
) -> tuple[Transcript, list[MaskedSpan]]:
    """The transcript with PII words replaced by placeholders, and the masked spans (time order).

    ``order_number_pattern`` is the tenant's ``CALLSIGHT_ORDER_NUMBER_PATTERN``, as the analyzer uses it."""
    found = pii_spans(
        transcript,
        pack,
        phone_region,
        order_numbers=policy.mask_order_numbers,
        order_number_pattern=order_number_pattern,
    )
    replaced = list(transcript.words)
    spans: list[MaskedSpan] = []
    for hit in found:
        if hit.type not in policy.entity_types and hit.type != "order_number":
            continue
        chunk = transcript.words[hit.first : hit.last + 1]
        for offset, word in enumerate(chunk):
            replaced[hit.first + offset] = word.model_copy(
                update={"text": PLACEHOLDERS[hit.type], "probability": 1.0}
            )
        spans.append(
            MaskedSpan(
                type=hit.type, channel=chunk[0].channel, start=min(w.start for w in chunk),
                end=max(w.end for w in chunk), display=hit.display, words=len(chunk),
            )
        )  # fmt: skip
    masked_turns = [_rebuild(turn, replaced) for turn in transcript.turns]
    segments = [
        s.model_copy(update={"text": _segment_text(replaced, i)}) for i, s in enumerate(transcript.segments)
    ]
    masked = transcript.model_copy(update={"words": replaced, "turns": masked_turns, "segments": segments})
    return masked, spans


def masked_words(original: Transcript, masked: Transcript) -> frozenset[int]:
    """Indices of the words masking replaced."""
    return frozenset(
        i for i, (a, b) in enumerate(zip(original.words, masked.words, strict=True)) if a.text != b.text
    )


def _rebuild(turn: Turn, words: list[Word]) -> Turn:
    text, _ = word_offsets(words[turn.first_word : turn.first_word + turn.word_count])
    return turn.model_copy(update={"text": text})


def _segment_text(words: list[Word], segment: int) -> str:
    text, _ = word_offsets([w for w in words if w.segment == segment])
    return text
