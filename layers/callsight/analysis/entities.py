"""Entities for the CRM: order numbers, money, dates, phones, emails, card numbers, names, places.

Each turn's text is first number-normalised by its language module (ASR writes "seven two zero…",
«девятьсот шестнадцать…»), then digit groups that belong together are joined ("903, 123, 45 67").
A digit run after an order cue is an order number; 13-19 digits passing Luhn a card; a number
``phonenumbers`` accepts for the configured region a phone. PII (phones, emails, cards, names) is
masked in ``display``; phones also get the keyed lookup hash used for erasure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from difflib import SequenceMatcher

import phonenumbers

from callsight.analysis.languages.base import FoundEntity, LanguagePack, Token
from callsight.analysis.text import TurnView, compile_phrase, matches_at
from callsight.models.analysis import Entity
from callsight.phone import mask_phone

PII_TYPES = frozenset({"phone", "email", "card", "person"})
#: Groups of a spoken number: "4 1 5", "903, 123, 45 67", "5-8-3-1-9", "9.0.3.1", "(903) 123-45-67"
#: (ASR writes all of these). A dot joins only where one side is a single digit, so "249.99" stays a
#: decimal; longer dotted chains ("415.555.0123", see ``_DOTTED_CHAIN``) are read as spaced groups.
_DIGIT_GROUPS = re.compile(
    r"(?<![\d.])\d+(?:(?:[ \-()]+|,\s*|(?<=\b\d)\.(?=\d)|\.(?=\d\b))\d+)*(?![\d]|\.\d)"
)
#: "415.555.0123", "903.123.45.67": three or more dotted groups, the first of three digits or more
#: (a date "25.11.2026" stays apart).
_DOTTED_CHAIN = re.compile(r"(?<![\d.])(?:\d{3,}(?:\.\d+){2,}|\d+(?:\.\d+){3,})(?![\d])")
_NON_SPACE = re.compile(r"\S+")
_CLAUSE_MARKS = ".,!?;:"
#: A number said with a multiplier word is an amount, not a dictated number.
_MULTIPLIER = re.compile(r"тысяч|миллион|миллиард|thousand|million|billion", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_SPOKEN_EMAIL = re.compile(
    r"\b([^\W\d_]+(?:\s+(?:dot|точка|underscore|подчеркивание)\s+[\w]+)*(?:\s+\d+)?)\s+(?:at|собака)\s+"
    r"([\w]+(?:\s+(?:dot|точка)\s+[\w]+)+)\b",
    re.IGNORECASE,
)
_SPOKEN_SEPARATORS = {"dot": ".", "точка": ".", "underscore": "_", "подчеркивание": "_"}


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _pieces(match: str) -> list[tuple[int, int]]:
    """(start, end) within ``match`` of each number it holds: commas join only short groups (phone
    digit groups, "903, 123, 45"), not "61408, 99"."""
    pieces: list[tuple[int, int]] = []
    start = 0
    for comma in re.finditer(r",\s*", match):
        last = re.findall(r"\d+", match[start : comma.start()])[-1]
        first = re.findall(r"\d+", match[comma.end() :])[0]
        if len(last) > 4 or len(first) > 4:
            pieces.append((start, comma.start()))
            start = comma.end()
    pieces.append((start, len(match)))
    return pieces


def digit_runs(text: str) -> list[tuple[str, int, int]]:
    """(digits, start, end) of every number in ``text``, groups of one spoken number joined."""
    text = _DOTTED_CHAIN.sub(lambda m: m.group(0).replace(".", " "), text)  # same length: offsets hold
    runs: list[tuple[str, int, int]] = []
    for m in _DIGIT_GROUPS.finditer(text):
        for start, end in _pieces(m.group(0)):
            digits = re.sub(r"\D", "", m.group(0)[start:end])
            if digits:
                runs.append((digits, m.start() + start, m.start() + end))
    return runs


class Alignment:
    """Offsets in a number-normalised text mapped back to the text it came from.

    Normalising rewrites spoken numbers («девять ноль три» → «903», "double five" → "5 5") and leaves
    the other words as they were; the whitespace-separated pieces of both texts are aligned (difflib),
    and a rewritten piece points back at all the pieces it replaced. So a phone found in the
    normalised text covers every word that said it, whatever separators ASR wrote.
    """

    def __init__(self, original: str, normalized: str) -> None:
        self.original = original
        self.normalized = normalized
        source = [(m.start(), m.end()) for m in _NON_SPACE.finditer(original)]
        self._target = [(m.start(), m.end()) for m in _NON_SPACE.finditer(normalized)]
        self._back: list[tuple[int, int]] = [(0, 0)] * len(self._target)
        matcher = SequenceMatcher(
            None,
            [original[s:e] for s, e in source],
            [normalized[s:e] for s, e in self._target],
            autojunk=False,
        )
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                for k in range(j2 - j1):
                    self._back[j1 + k] = source[i1 + k]
                continue
            for (a1, a2), (b1, b2) in self._clauses(original, normalized, source, i1, i2, j1, j2):
                # rewritten: each new piece stands for all the old ones of its clause in the block
                if a2 > a1:
                    block = (source[a1][0], source[a2 - 1][1])
                else:  # inserted (not seen in practice): the neighbouring piece
                    block = source[min(a1, len(source) - 1)] if source else (0, 0)
                for k in range(b1, b2):
                    self._back[k] = block

    def _clauses(
        self,
        original: str,
        normalized: str,
        source: list[tuple[int, int]],
        i1: int,
        i2: int,
        j1: int,
        j2: int,
    ) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """A rewritten block cut where both sides end a piece with punctuation («семь.» ↔ "67."), when
        both have as many such pieces: "903, 123, 45, 67. 25" maps clause by clause, so a number
        found in it does not cover the next sentence's words."""
        ends_a = [k + 1 for k in range(i1, i2) if original[source[k][1] - 1] in _CLAUSE_MARKS]
        ends_b = [k + 1 for k in range(j1, j2) if normalized[self._target[k][1] - 1] in _CLAUSE_MARKS]
        if len(ends_a) != len(ends_b):
            return [((i1, i2), (j1, j2))]
        cuts_a, cuts_b = [i1, *ends_a, i2], [j1, *ends_b, j2]
        pairs = [((cuts_a[n], cuts_a[n + 1]), (cuts_b[n], cuts_b[n + 1])) for n in range(len(cuts_a) - 1)]
        return [pair for pair in pairs if pair[1][1] > pair[1][0]]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that said normalised ``[start, end)``."""
        covered = [
            back for (s, e), back in zip(self._target, self._back, strict=True) if s < end and start < e
        ]
        if not covered:
            return start, start
        return min(b[0] for b in covered), max(b[1] for b in covered)


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_card(digits: str) -> str:
    return f"**** **** **** {digits[-4:]}"


def mask_name(name: str) -> str:
    return " ".join(part[:1] + "***" for part in name.split())


class EntityExtractor:
    def __init__(self, pack: LanguagePack, phone_region: str, phone_hash: Callable[[str], str]) -> None:
        self.pack = pack
        self.phone_region = phone_region
        self.phone_hash = phone_hash
        cues = [compile_phrase(p, pack) for p in pack.phrase_sets.get("order_cues", [])]
        self._cue_prefixes = [p for p in cues if p is not None]

    def extract(self, turns: list[TurnView]) -> list[Entity]:
        entities: list[Entity] = []
        seen: set[tuple[str, str]] = set()
        for turn, found in zip(turns, self.find([turn.text for turn in turns]), strict=True):
            for entity in (self._entity(f, turn) for f in found if f.type != "number"):
                if (entity.type, entity.value) not in seen:
                    seen.add((entity.type, entity.value))
                    entities.append(entity)
        return entities

    def find(self, texts: list[str]) -> list[list[FoundEntity]]:
        """What each turn's text holds, with offsets into that text as written (not as normalised):
        the entities, plus every other number of four digits or more as type ``number`` (masking
        decides what those are). ``callsight.analysis.pii`` maps these spans onto words."""
        found: list[list[FoundEntity]] = []
        asked_for_order = False
        for text in texts:
            found.append(self._in_text(text, asked_for_order))
            # "What's your order number?" — the answer opens the next turn without the cue words.
            last_clause = re.split(r"[.!;]", self.pack.fold(text).rstrip(" ?.!"))[-1]
            asked_for_order = self._after_order_cue(self.pack.tokens(last_clause))
        return found

    def find_numbers(self, original: str) -> list[FoundEntity]:
        """Only the numbers of ``original`` (phones, cards, other numbers), offsets as written: for a
        number said across a pause that split it into two turns."""
        text = self.pack.normalize_numbers(original)
        alignment = Alignment(original, text)
        found = []
        for f in self._numbers(text):
            start, end = alignment.original_span(f.start, f.end)
            if f.type != "number" or not _MULTIPLIER.search(original[start:end]):
                found.append(replace(f, start=start, end=end))
        return found

    def _in_text(self, original: str, asked_for_order: bool = False) -> list[FoundEntity]:
        text = self.pack.normalize_numbers(original)
        found: list[FoundEntity] = []
        for m in _EMAIL.finditer(text):
            found.append(FoundEntity("email", m.group(0).lower(), m.start(), m.end()))
        for m in _SPOKEN_EMAIL.finditer(text):
            local, domain = (
                re.sub(
                    r"\s+(dot|точка|underscore|подчеркивание)\s+",
                    lambda w: _SPOKEN_SEPARATORS[w.group(1).lower()],
                    part,
                    flags=re.IGNORECASE,
                )
                for part in (m.group(1), m.group(2))
            )
            found.append(
                FoundEntity("email", f"{local.replace(' ', '')}@{domain}".lower(), m.start(), m.end())
            )
        found.extend(self._numbers(text, asked_for_order=asked_for_order))
        numeric_spans = [(f.start, f.end) for f in found if f.type in ("phone", "card", "order_number")]
        for entity in self.pack.entities(text):
            overlaps = any(s < entity.end and entity.start < e for s, e in numeric_spans)
            if not (entity.type in ("date", "money") and overlaps):
                found.append(entity)
        amounts = [(f.start, f.end) for f in found if f.type in ("date", "money")]
        found = [  # "49000" of «сорок девять тысяч рублей» is an amount, not an unnamed number
            f for f in found if f.type != "number" or not any(s < f.end and f.start < e for s, e in amounts)
        ]
        alignment = Alignment(original, text)
        spans = [alignment.original_span(f.start, f.end) for f in found]
        return [
            replace(f, start=start, end=end)
            for f, (start, end) in zip(found, spans, strict=True)
            if f.type != "number" or not _MULTIPLIER.search(original[start:end])  # «сорок девять тысяч»
        ]

    def _numbers(self, text: str, asked_for_order: bool = False) -> list[FoundEntity]:
        found: list[FoundEntity] = []
        folded = self.pack.fold(text)
        for index, (digits, start, end) in enumerate(digit_runs(text)):
            # the cue must be in the same clause, right before the number ("номер заказа 72051"),
            # or the other party just asked for it and this is the first number of the answer
            before = self.pack.tokens(re.split(r"[\d.,;:!?]", folded[max(0, start - 40) : start])[-1])[-3:]
            answered = asked_for_order and index == 0 and len(self.pack.tokens(folded[:start])) <= 3
            if 4 <= len(digits) <= 12 and (answered or self._after_order_cue(before)):
                found.append(FoundEntity("order_number", digits, start, end))
            elif 13 <= len(digits) <= 19 and luhn_valid(digits):
                found.append(FoundEntity("card", digits, start, end))
            elif 7 <= len(digits) <= 15 and (phone := self._phone(digits)) is not None:
                found.append(FoundEntity("phone", phone, start, end))
            elif len(digits) >= 4:
                found.append(FoundEntity("number", digits, start, end))
        return found

    def _after_order_cue(self, tokens: Sequence[Token]) -> bool:
        return any(
            matches_at(pattern, tokens, start)
            for pattern in self._cue_prefixes
            for start in range(len(tokens))
        )

    def _phone(self, digits: str) -> str | None:
        """E.164 if ``digits`` is a valid number: as dialled in the call language's usual region (a
        number said in English is most likely North American), then in the configured region, then
        as an international number."""
        attempts = [(digits, self.pack.phone_region), (digits, self.phone_region), ("+" + digits, None)]
        for candidate, region in attempts:
            try:
                number = phonenumbers.parse(candidate, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
        return None

    def _entity(self, found: FoundEntity, turn: TurnView) -> Entity:
        pii = found.type in PII_TYPES
        maskers: dict[str, Callable[[str], str]] = {
            "phone": mask_phone, "email": mask_email, "card": mask_card, "person": mask_name,
        }  # fmt: skip
        display = maskers[found.type](found.value) if found.type in maskers else found.value
        return Entity(
            type=found.type,
            value=found.value,
            display=display,
            pii=pii,
            speaker=turn.speaker,
            start=turn.start,
            lookup_hash=self.phone_hash(found.value) if found.type == "phone" else None,
        )
