"""Where PII is in a transcript: the one answer the masked transcript, the audio bleeps and the
keyword index all use.

The entity extractor (``analysis.entities``) reads each turn's text, numbers normalised («девять
ноль три…», "9.0.3.1…", "903-123-45-67", "+7 (903) 123-45-67" all become one digit run), and says
where each phone, card, email and name is in that text; here those spans are put on the words that
said them — every word, including the ten glued pieces Whisper writes for a dictated "9.0.3.1.2.3…".
Added, because masking must hide them even where the extractor cannot name them: any other number
of seven digits or more (passport, SNILS, INN, a phone of another region), names the language module
would rather mask than miss, a name given in answer to "what is your name?", emails written or
spelled word by word, every other mention of a name found, and words an earlier masking already
replaced by placeholders (so masking a masked transcript bleeps the same spans).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from callsight.analysis.entities import Alignment, EntityExtractor, mask_card, mask_email, mask_name
from callsight.analysis.languages import language_pack
from callsight.analysis.languages.base import LanguagePack
from callsight.analysis.turns_text import word_offsets
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
_PLACEHOLDER_TYPES = {placeholder: kind for kind, placeholder in PLACEHOLDERS.items()}
_SPOKEN_EMAIL_WORDS = re.compile(r"^(?:at|собака|dot|точка|underscore|подчеркивание)$", re.IGNORECASE)
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_PUNCTUATION = ".,!?;:()«»\"'-"
#: Turns of one speaker at most this far apart may hold one number said with a pause in it.
JOIN_PAUSE_S = 3.0


@dataclass(frozen=True)
class PiiSpan:
    """Words ``first``..``last`` (indices into ``Transcript.words``, inclusive) said one PII item."""

    type: str  # phone, card, email, person, order_number
    first: int
    last: int
    display: str  # the item masked (a phone with its middle digits hidden), never the item itself


def pii_spans(
    transcript: Transcript,
    pack: LanguagePack | None,
    phone_region: str = "RU",
    *,
    order_numbers: bool = False,
    order_number_pattern: str | None = None,
) -> list[PiiSpan]:
    """Every PII span of the transcript in word order, none overlapping; ``order_numbers``: order
    numbers (and other numbers of four to six digits) count as PII too."""
    turns = [transcript.words[t.first_word : t.first_word + t.word_count] for t in transcript.turns]
    firsts = [t.first_word for t in transcript.turns]
    hits: list[PiiSpan] = []
    for words, first in zip(turns, firsts, strict=True):
        hits += _placeholder_hits(words, first)
        hits += _email_hits(words, first, pack)
    if pack is not None:
        extractor = _extractor(pack.code, phone_region, order_number_pattern)
        hits += _extracted_hits(turns, firsts, extractor, order_numbers)
        hits += _numbers_across_turns(transcript, extractor)
        asked_for_name = False
        for words, first in zip(turns, firsts, strict=True):
            hits += _name_hits(words, first, pack)
            if asked_for_name:
                hits += _answered_name_hits(words, first)
            after = _after_name_cue(words, pack)  # "как вас зовут? — Людмила." within one mono turn
            if after is not None and after < len(words):
                hits += _answered_name_hits(words[after:], first + after)
            asked_for_name = after == len(words)
        hits += _other_mentions(transcript.words, hits, pack)
    spans: list[PiiSpan] = []
    taken: set[int] = set()
    for hit in sorted(hits, key=lambda h: (h.first, -h.last)):
        if taken & set(range(hit.first, hit.last + 1)):
            continue  # the same words found twice (a name by NER and by its introduction)
        taken.update(range(hit.first, hit.last + 1))
        spans.append(hit)
    return spans


@lru_cache(maxsize=16)
def _extractor(language: str, phone_region: str, order_number_pattern: str | None = None) -> EntityExtractor:
    pack = language_pack(language)
    assert pack is not None
    return EntityExtractor(pack, phone_region, lambda phone: "", order_number_pattern)


def _extracted_hits(
    turns: list[list[Word]], firsts: list[int], extractor: EntityExtractor, order_numbers: bool
) -> list[PiiSpan]:
    """The extractor's finds, each on every word its text span touches."""
    hits: list[PiiSpan] = []
    texts = [word_offsets(words) for words in turns]
    for (_, offsets), first, found in zip(texts, firsts, extractor.find([t for t, _ in texts]), strict=True):
        for entity in found:
            covered = [
                i for i, (start, end) in enumerate(offsets) if start < entity.end and entity.start < end
            ]
            if not covered:
                continue
            kind, display = _kind(entity.type, entity.value, order_numbers)
            if kind is not None:
                hits.append(PiiSpan(kind, first + covered[0], first + covered[-1], display))
    return hits


def _numbers_across_turns(transcript: Transcript, extractor: EntityExtractor) -> list[PiiSpan]:
    """Numbers a pause split into turns of one speaker («девять ноль три, один два три» … «сорок
    пять, шестьдесят семь»: each part too short to be a phone): the numbers of consecutive turns of
    one speaker read as one text, kept where they span a turn boundary."""
    hits: list[PiiSpan] = []
    turns = transcript.turns
    start = 0
    for end in range(1, len(turns) + 1):
        if end < len(turns) and _continues(turns[end - 1], turns[end]):
            continue
        if end - start > 1:
            first, last = turns[start].first_word, turns[end - 1].first_word + turns[end - 1].word_count
            words = transcript.words[first:last]
            text, offsets = word_offsets(words)
            boundaries = {t.first_word - first for t in turns[start + 1 : end]}
            for entity in extractor.find_numbers(text):
                covered = [i for i, (s, e) in enumerate(offsets) if s < entity.end and entity.start < e]
                if covered and any(covered[0] < b <= covered[-1] for b in boundaries):
                    kind, display = _kind(entity.type, entity.value, order_numbers=False)
                    if kind is not None:
                        hits.append(PiiSpan(kind, first + covered[0], first + covered[-1], display))
        start = end
    return hits


def _continues(previous: Turn, turn: Turn) -> bool:
    return (
        turn.speaker == previous.speaker
        and turn.channel == previous.channel
        and turn.start - previous.end <= JOIN_PAUSE_S
    )


def _kind(found: str, value: str, order_numbers: bool) -> tuple[str | None, str]:
    if found == "phone":
        return "phone", mask_phone(value)
    if found == "card":
        return "card", mask_card(value)
    if found == "email":
        return "email", mask_email(value)
    if found == "person":
        return "person", mask_name(value)
    if found == "number" and len(value) >= 7:  # passport, SNILS, INN, a phone of another region
        return "phone", mask_phone("+" + value if len(value) > 10 else value)
    if found in ("number", "order_number") and order_numbers:
        return "order_number", "*" * len(value)
    return None, ""


def _placeholder_hits(words: list[Word], first: int) -> list[PiiSpan]:
    """Words an earlier masking replaced (consecutive equal placeholders: one span)."""
    hits: list[PiiSpan] = []
    for index, word in enumerate(words):
        kind = _PLACEHOLDER_TYPES.get(word.text.strip(_PUNCTUATION.replace("-", "")))
        if kind is None:
            continue
        if hits and hits[-1].type == kind and hits[-1].last == first + index - 1:
            hits[-1] = PiiSpan(kind, hits[-1].first, first + index, hits[-1].display)
        else:
            hits.append(PiiSpan(kind, first + index, first + index, PLACEHOLDERS[kind]))
    return hits


def _is_number_word(text: str, pack: LanguagePack) -> bool:
    bare = text.strip(_PUNCTUATION)
    if not bare:
        return False
    if bare.lower() in pack.number_words:
        return True
    normalized = pack.normalize_numbers(bare)
    return any(c.isdigit() for c in normalized) and not _LETTERS.search(normalized.replace("-", ""))


def _email_hits(words: list[Word], first: int, pack: LanguagePack | None) -> list[PiiSpan]:
    hits: list[PiiSpan] = []
    for index, word in enumerate(words):
        if "@" in word.text:
            email = word.text.strip(".,;:!?").lower()
            hits.append(PiiSpan("email", first + index, first + index, mask_email(email)))
        elif _bare(words[index]) in ("at", "собака") and 0 < index < len(words) - 1:
            start = _spoken_local_part_start(words, index, pack)
            end = index + 1
            while end + 2 < len(words) and _SPOKEN_EMAIL_WORDS.match(_bare(words[end + 1])):
                end += 2
            if end > index + 1:  # a domain with a dot: "gmail dot com"
                hits.append(PiiSpan("email", first + start, first + end, "***@***"))
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


def _answered_name_hits(words: list[Word], first: int) -> list[PiiSpan]:
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
    return [PiiSpan("person", first, first + taken - 1, display)]


def _joins_name(left: Word, right: Word) -> bool:
    """Two capitalised words with nothing between them: parts of one name."""
    return left.text[-1:] not in ".,!?;:" and all(
        w.text[:1].isupper() and _LETTERS.match(w.text[:1]) for w in (left, right)
    )


def _name_hits(words: list[Word], first: int, pack: LanguagePack) -> list[PiiSpan]:
    text, offsets = word_offsets(words)
    # read in the text the extractor read (numbers normalised): the language model runs once per turn
    alignment = Alignment(text, pack.normalize_numbers(text))
    hits: list[PiiSpan] = []
    for entity in pack.names_to_mask(alignment.normalized):
        name_start, name_end = alignment.original_span(entity.start, entity.end)
        covered = [i for i, (start, end) in enumerate(offsets) if start < name_end and name_start < end]
        while covered and covered[0] > 0 and _joins_name(words[covered[0] - 1], words[covered[0]]):
            covered.insert(0, covered[0] - 1)  # a surname before the first name: «Сафонов Алексей»
        while (
            covered
            and covered[-1] + 1 < len(words)
            and _joins_name(words[covered[-1]], words[covered[-1] + 1])
        ):
            covered.append(covered[-1] + 1)
        if covered:
            hits.append(PiiSpan("person", first + covered[0], first + covered[-1], mask_name(entity.value)))
    return hits


def _other_mentions(words: list[Word], hits: list[PiiSpan], pack: LanguagePack) -> list[PiiSpan]:
    """Every other word that is a name found somewhere in the call («Антон, перезвоните»): the same
    stem, capitalised (or written exactly as found), so "mark" the verb stays when "Mark" is a name."""
    named = {i for h in hits if h.type == "person" for i in range(h.first, h.last + 1)}
    forms = {pack.fold(words[i].text.strip(_PUNCTUATION)) for i in named if not words[i].text.startswith("[")}
    forms = {form for form in forms if len(form) >= 3}
    stems = {pack.stem(form) for form in forms}
    found: list[PiiSpan] = []
    for index, word in enumerate(words):
        bare = word.text.strip(_PUNCTUATION)
        folded = pack.fold(bare)
        if index in named or len(folded) < 3:
            continue
        if folded in forms or (bare[:1].isupper() and pack.stem(folded) in stems):
            found.append(PiiSpan("person", index, index, mask_name(bare)))
    return found
