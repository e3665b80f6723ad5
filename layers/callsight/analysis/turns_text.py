"""Text of a run of words exactly as a turn writes it, with each word's character span."""

from __future__ import annotations

from collections.abc import Sequence

from callsight.models.transcript import Word


def word_offsets(words: Sequence[Word]) -> tuple[str, list[tuple[int, int]]]:
    """(text, [(start, end) of each word]) — spaced as Whisper wrote them (see ``Word.space_before``)."""
    parts: list[str] = []
    offsets: list[tuple[int, int]] = []
    length = 0
    for index, word in enumerate(words):
        if index and word.space_before:
            parts.append(" ")
            length += 1
        offsets.append((length, length + len(word.text)))
        parts.append(word.text)
        length += len(word.text)
    return "".join(parts), offsets
