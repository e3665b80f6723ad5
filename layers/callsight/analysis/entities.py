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

import phonenumbers

from callsight.analysis.languages.base import FoundEntity, LanguagePack, Token
from callsight.analysis.text import TurnView, compile_phrase, matches_at
from callsight.models.analysis import Entity
from callsight.phone import mask_phone

PII_TYPES = frozenset({"phone", "email", "card", "person"})
#: Groups of a spoken number: "4 1 5", "903, 123, 45 67", "5-8-3-1-9", "9.0.3.1" (ASR writes all of
#: these). A dot joins only where one side is a single digit, so "249.99" stays a decimal.
_DIGIT_GROUPS = re.compile(r"(?<![\d.])\d+(?:(?:[ \-]+|,\s*|(?<=\b\d)\.(?=\d)|\.(?=\d\b))\d+)*(?![\d]|\.\d)")
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


def _join_groups(match: str) -> str:
    """Digit groups joined; commas join only short groups (phone digit groups), not "61408, 99"."""
    parts = re.split(r"(,\s*)", match)
    joined = previous = parts[0]
    for separator, part in zip(parts[1::2], parts[2::2], strict=False):
        last = re.findall(r"\d+", previous)[-1]
        first = re.findall(r"\d+", part)[0]
        joined += ("" if len(last) <= 4 and len(first) <= 4 else separator) + part
        previous = part
    return joined


def digit_runs(text: str) -> list[tuple[str, int, int]]:
    """(digits, start, end) of every number in ``text``, groups of one spoken number joined."""
    runs: list[tuple[str, int, int]] = []
    for m in _DIGIT_GROUPS.finditer(text):
        for piece in _join_groups(m.group(0).replace(".", "")).split(","):
            digits = re.sub(r"\D", "", piece)
            if digits:
                runs.append((digits, m.start(), m.end()))
    return runs


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
        asked_for_order = False
        for turn in turns:
            for entity in self._from_turn(turn, asked_for_order):
                if (entity.type, entity.value) not in seen:
                    seen.add((entity.type, entity.value))
                    entities.append(entity)
            # "What's your order number?" — the answer opens the next turn without the cue words.
            last_clause = re.split(r"[.!;]", self.pack.fold(turn.text).rstrip(" ?.!"))[-1]
            asked_for_order = self._after_order_cue(self.pack.tokens(last_clause))
        return entities

    def _from_turn(self, turn: TurnView, asked_for_order: bool = False) -> list[Entity]:
        text = self.pack.normalize_numbers(turn.text)
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
        return [self._entity(f, turn) for f in found]

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
