"""Masking PII in a transcript, word by word, and saying where it was (for the audio redaction).

Found per turn: spoken or written numbers whose digits form a phone, card, passport, SNILS or INN
(7+ digits once number words are read as digits; amounts such as «сорок девять тысяч» stay), order
numbers when the policy asks, emails written or spelled ("dot … at …"), and person names (the
language module's name finder). Each masked word becomes a placeholder (``[PHONE]``…); the span keeps
the masked display (a phone with its middle digits hidden) and the times the audio must be bleeped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel

from callsight.analysis.entities import digit_runs, luhn_valid, mask_card, mask_email
from callsight.analysis.languages.base import LanguagePack
from callsight.analysis.turns_text import word_offsets
from callsight.compliance.policies import MaskingPolicy
from callsight.models.transcript import Transcript, Turn, Word
from callsight.phone import mask_phone

PLACEHOLDERS = {
    "phone": "[PHONE]",
    "card": "[CARD]",
    "email": "[EMAIL]",
    "person": "[NAME]",
    "number": "[NUMBER]",
    "order_number": "[ORDER]",
}
_SPOKEN_EMAIL_WORDS = re.compile(r"^(?:at|собака|dot|точка|underscore|подчеркивание)$", re.IGNORECASE)
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


class MaskedSpan(BaseModel):
    type: str
    channel: int
    start: float
    end: float
    display: str
    words: int


@dataclass
class _Hit:
    type: str
    first: int  # word indices into the transcript's word list, inclusive
    last: int
    display: str


def _is_number_word(text: str, pack: LanguagePack) -> bool:
    bare = text.strip(".,!?;:()«»\"'-")
    if not bare:
        return False
    if bare.lower() in pack.number_words:
        return True
    normalized = pack.normalize_numbers(bare)
    return any(c.isdigit() for c in normalized) and not _LETTERS.search(normalized.replace("-", ""))


def _number_hits(words: list[Word], first: int, pack: LanguagePack, policy: MaskingPolicy) -> list[_Hit]:
    hits: list[_Hit] = []
    index = 0
    while index < len(words):
        if not _is_number_word(words[index].text, pack):
            index += 1
            continue
        end = index
        while end + 1 < len(words) and _is_number_word(words[end + 1].text, pack):
            end += 1
        text = pack.normalize_numbers(" ".join(w.text for w in words[index : end + 1]))
        digits = max((run for run, _, _ in digit_runs(text)), key=len, default="")
        kind = None
        if len(digits) >= 13 and luhn_valid(digits):
            kind, display = "card", mask_card(digits)
        elif len(digits) >= 7:
            kind, display = "phone", mask_phone("+" + digits if len(digits) > 10 else digits)
        elif policy.mask_order_numbers and len(digits) >= 4:
            kind, display = "order_number", "*" * len(digits)
        if kind is not None:
            hits.append(_Hit(kind, first + index, first + end, display))
        index = end + 1
    return hits


def _email_hits(words: list[Word], first: int, pack: LanguagePack | None) -> list[_Hit]:
    hits: list[_Hit] = []
    for index, word in enumerate(words):
        if "@" in word.text:
            hits.append(
                _Hit("email", first + index, first + index, mask_email(word.text.strip(".,;:!?").lower()))
            )
        elif _bare(words[index]) in ("at", "собака") and 0 < index < len(words) - 1:
            start = _spoken_local_part_start(words, index, pack)
            end = index + 1
            while end + 2 < len(words) and _SPOKEN_EMAIL_WORDS.match(_bare(words[end + 1])):
                end += 2
            if end > index + 1:  # a domain with a dot: "gmail dot com"
                hits.append(_Hit("email", first + start, first + end, "***@***"))
    return hits


def _bare(word: Word) -> str:
    return word.text.lower().strip(".,;:!?")


def _spoken_local_part_start(words: list[Word], at: int, pack: LanguagePack | None) -> int:
    """First word of a spelled local part before "at": "t dot nguyen eighty eight"."""

    def spoken_digit(index: int) -> bool:
        return pack is not None and _is_number_word(words[index].text, pack)

    start = at - 1
    while start - 1 >= 0 and spoken_digit(start) and spoken_digit(start - 1):
        start -= 1
    if spoken_digit(start) and start - 1 >= 0:
        start -= 1
    while start - 2 >= 0 and _SPOKEN_EMAIL_WORDS.match(_bare(words[start - 1])):
        start -= 2
    return start


def _after_name_cue(words: list[Word], pack: LanguagePack) -> int | None:
    """Index of the first word after the last "what is your name" cue of the turn, if any."""
    text, offsets = word_offsets(words)
    folded = pack.fold(text)
    ends = [folded.rfind(cue) + len(cue) for cue in pack.phrase_sets.get("name_cues", []) if cue in folded]
    if not ends:
        return None
    cue_end = max(ends)
    return next((i for i, (start, _) in enumerate(offsets) if start >= cue_end), len(words))


def _answered_name_hits(words: list[Word], first: int) -> list[_Hit]:
    """The other party was just asked for a name: its leading capitalised words are one."""
    taken = 0
    while (
        taken < min(3, len(words))
        and words[taken].text[:1].isupper()
        and _LETTERS.match(words[taken].text[:1])
    ):
        taken += 1
        if words[taken - 1].text[-1:] in ".,!?":
            break
    if not taken:
        return []
    display = " ".join(w.text.strip(".,!?")[:1] + "***" for w in words[:taken])
    return [_Hit("person", first, first + taken - 1, display)]


def _joins_name(left: Word, right: Word) -> bool:
    """Two capitalised words with nothing between them: parts of one name."""
    return left.text[-1:] not in ".,!?;:" and all(
        w.text[:1].isupper() and _LETTERS.match(w.text[:1]) for w in (left, right)
    )


def _name_hits(words: list[Word], first: int, pack: LanguagePack) -> list[_Hit]:
    text, offsets = word_offsets(words)
    hits: list[_Hit] = []
    for entity in pack.names_to_mask(text):
        covered = [i for i, (start, end) in enumerate(offsets) if start < entity.end and entity.start < end]
        while covered and covered[0] > 0 and _joins_name(words[covered[0] - 1], words[covered[0]]):
            covered.insert(0, covered[0] - 1)  # a surname before the first name: «Сафонов Алексей»
        while (
            covered
            and covered[-1] + 1 < len(words)
            and _joins_name(words[covered[-1]], words[covered[-1] + 1])
        ):
            covered.append(covered[-1] + 1)
        if covered:
            display = " ".join(part[:1] + "***" for part in entity.value.split())
            hits.append(_Hit("person", first + covered[0], first + covered[-1], display))
    return hits


def mask_transcript(
    transcript: Transcript, pack: LanguagePack | None, policy: MaskingPolicy
) -> tuple[Transcript, list[MaskedSpan]]:
    """The transcript with PII words replaced by placeholders, and the masked spans (time order)."""
    hits: list[_Hit] = []
    asked_for_name = False
    for turn in transcript.turns:
        words = transcript.words[turn.first_word : turn.first_word + turn.word_count]
        if pack is not None:
            hits += _number_hits(words, turn.first_word, pack, policy)
            if "person" in policy.entity_types:
                hits += _name_hits(words, turn.first_word, pack)
                if asked_for_name:
                    hits += _answered_name_hits(words, turn.first_word)
                after = _after_name_cue(words, pack)  # "как вас зовут? — Людмила." within one mono turn
                if after is not None and after < len(words):
                    hits += _answered_name_hits(words[after:], turn.first_word + after)
                asked_for_name = after == len(words)
        hits += _email_hits(words, turn.first_word, pack)
    hits = [h for h in hits if h.type in policy.entity_types or h.type == "order_number"]
    replaced = list(transcript.words)
    spans: list[MaskedSpan] = []
    taken: set[int] = set()
    for hit in sorted(hits, key=lambda h: (h.first, -h.last)):
        if taken & set(range(hit.first, hit.last + 1)):
            continue  # the same words found twice (a name by NER and by its introduction)
        taken.update(range(hit.first, hit.last + 1))
        chunk = transcript.words[hit.first : hit.last + 1]
        for offset, word in enumerate(chunk):
            replaced[hit.first + offset] = word.model_copy(
                update={"text": PLACEHOLDERS[hit.type], "probability": 1.0}
            )
        spans.append(
            MaskedSpan(
                type=hit.type, channel=chunk[0].channel, start=chunk[0].start, end=max(w.end for w in chunk),
                display=hit.display, words=len(chunk),
            )
        )  # fmt: skip
    masked_turns = [_rebuild(turn, replaced) for turn in transcript.turns]
    segments = [
        s.model_copy(update={"text": _segment_text(replaced, i)}) for i, s in enumerate(transcript.segments)
    ]
    masked = transcript.model_copy(update={"words": replaced, "turns": masked_turns, "segments": segments})
    return masked, spans


def _rebuild(turn: Turn, words: list[Word]) -> Turn:
    text, _ = word_offsets(words[turn.first_word : turn.first_word + turn.word_count])
    return turn.model_copy(update={"text": text})


def _segment_text(words: list[Word], segment: int) -> str:
    text, _ = word_offsets([w for w in words if w.segment == segment])
    return text
