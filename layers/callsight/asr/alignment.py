"""Repair word timestamps that faster-whisper's VAD stitching puts across a silence.

With the VAD filter on, faster-whisper concatenates the speech chunks, decodes them as one
stream and maps times back. A word at the start of a chunk can then come back straddling the
silence before it (measured on the samples: a customer's word "Мой" at 15.18-16.12 s, said
at ~20 s, put an agent turn in the middle of the customer's sentence). A word cannot span a
silence, so a word that leaves its speech chunk is moved into the chunk where the rest of its
segment continues, or else trimmed to its own chunk. Pure functions on (start, end) spans.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import replace

from callsight.asr.recognized import RecognizedSegment, RecognizedWord

Span = tuple[float, float]

#: Slack for rounding between the VAD's sample positions and the aligner's 20 ms frames.
TOLERANCE_S = 0.05


def _chunk_index(chunks: Sequence[Span], at: float) -> int:
    """Index of the last chunk starting at or before ``at`` (0 when ``at`` precedes them all)."""
    return max(0, bisect.bisect_right([start for start, _ in chunks], at + TOLERANCE_S) - 1)


def repair_word_times(
    segments: Sequence[RecognizedSegment], chunks: Sequence[Span]
) -> list[RecognizedSegment]:
    """Segments whose words each lie inside one speech chunk of ``chunks`` (sorted, non-overlapping)."""
    if not chunks:
        return list(segments)
    flat = [(s_index, word) for s_index, segment in enumerate(segments) for word in segment.words]
    fixed: list[RecognizedWord] = []
    for position, (s_index, word) in enumerate(flat):
        home = _chunk_index(chunks, word.start)
        chunk_start, chunk_end = chunks[home]
        if word.end <= chunk_end + TOLERANCE_S and word.start >= chunk_start - TOLERANCE_S:
            fixed.append(word)
            continue
        following = flat[position + 1] if position + 1 < len(flat) else None
        if (
            following is not None
            and following[0] == s_index
            and _chunk_index(chunks, following[1].start) > home
        ):
            later_start = chunks[_chunk_index(chunks, following[1].start)][0]
            overhang = max(word.end - chunk_end, 0.0)
            end = following[1].start
            start = (
                max(later_start, end - overhang)
                if overhang
                else max(later_start, end - (word.end - word.start))
            )
            fixed.append(replace(word, start=round(min(start, end), 3), end=round(end, 3)))
        else:
            end = min(word.end, chunk_end)
            fixed.append(
                replace(word, start=round(min(max(word.start, chunk_start), end), 3), end=round(end, 3))
            )
    result: list[RecognizedSegment] = []
    cursor = 0
    for segment in segments:
        words = tuple(fixed[cursor : cursor + len(segment.words)])
        cursor += len(segment.words)
        start = min((w.start for w in words), default=segment.start)
        end = max((w.end for w in words), default=segment.end)
        result.append(replace(segment, words=words, start=round(start, 3), end=round(end, 3)))
    return result
