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
from callsight.analysis.text import Pattern, PatternSet, TurnView, compile_phrase, matches_at
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
_MULTIPLIER = re.compile(r"тысяч|тыщ|тыс\b|косар|миллион|миллиард|thousand|million|billion", re.IGNORECASE)
#: «тысяч на пятнадцать»: the multiplier said before the preposition (read as «на 15000»).
_MULTIPLIER_BEFORE = re.compile(r"(?:тысяч|тыщ)\s+(?:на|в|до|за|под|около|от)\s+$", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
#: A spoken amount as normalised: "1249", "12 99", "44 990", "1,299" (not dictated "4 1 9").
_AMOUNT_SHAPE = re.compile(r"[1-9]\d{0,2}(?: \d{2,3})?|\d{4,7}|\d{1,3}(?:,\d{3})+")
#: Smallest and largest plausible amount said without a currency word.
_AMOUNT_RANGE = {"USD": (10, 99999), "RUB": (100, 9999999)}
_CURRENCY_AFTER = re.compile(r"\s*(?:руб|р\.|₽|\$|dollar|buck|usd|euro|евро|eur|cent|коп)", re.IGNORECASE)
_PRICE_IDIOM_RU = re.compile(r"[1-9]\d? [1-9]\d0")
#: "twelve forty-nine" (12 49), "nine ninety-nine", "two seventy-nine ninety-five" (2 79 95): prices
#: end in nine (or 95-98 after cents, or after forty: 49 95); times, street numbers and years rarely do.
_PRICE_IDIOM_EN = re.compile(
    r"[1-9]\d? [1-9]9|[4-9]\d 9[5-8]|[1-9]\d? [1-9]\d (?:[1-9]9|95|98)|[1-9]\d\d 9[5-9]"
)
#: Dollars then cents said as pairs: "2 29 99" (229.99), "11 49 99" (1149.99).
_DOLLARS_CENTS = re.compile(r"([1-9]\d?) ([1-9]\d) (\d\d)")
#: "forty-nine ninety-five" is $49.95, not $4995: a pair above forty ending in 95-99 is cents; so is
#: 95-99 after hundreds ("a hundred sixty-nine ninety-nine": 169.99).
#: A clock reading ("it's six thirty") in a turn about the time of day.
_CLOCK = re.compile(r"(?:[1-9]|1[0-2]) (?:00|15|30|45)")
_TIME_CONTEXT = re.compile(r"\b(?:today|tonight|this morning|between|o'clock|window|since)\b", re.IGNORECASE)
#: "left at my door at two fourteen this afternoon": a clock time after "at" in a turn about the time.
_AT_CLOCK = re.compile(r"(?:[1-9]|1[0-2]) [0-5]\d")
_AT_TIME_CONTEXT = re.compile(
    r"\b(?:today|tonight|morning|afternoon|evening|between|o'clock|window|since|am|pm)\b", re.IGNORECASE
)
#: "fourteen ninety-nine" for express shipping or a customs fee: dollars and cents, not 1499.
_SMALL_FEE = re.compile(r"([1-9]|[1-3]\d) (9[5-9])")
#: "three hundred and thirty-two sixty" (332 60): dollars in hundreds, then the cents.
_HUNDREDS_CENTS = re.compile(r"([1-9]\d\d) (\d\d)")
_CENTS_PAIR = re.compile(r"([4-9]\d|[1-9]\d\d) (9[5-9])")
#: Words that join two amounts: "189 or 119", "500 to 700", «27, или 25».
_AMOUNT_JOINERS = frozenset(
    {"or", "to", "and", "vs", "versus", "maybe", "max", "maximum", "или", "а", "и", "до", "против", "ну", "максимум"}
)  # fmt: skip
#: Words that may stand between the joiner and the amount: "or about 119", «или около 25».
_JOINER_FILLERS = frozenset(
    {"about", "around", "only", "just", "like", "maybe", "approximately", "у", "вас", "нас", "них", "там", "тут",
     "здесь", "примерно", "около", "всего", "где", "то"}
)  # fmt: skip
_COPULAS = frozenset(
    {"is", "are", "was", "be", "runs", "costs", "it's", "that's", "будет", "выйдет", "составит"}
)
_TIME_BEFORE = frozenset(
    {"between", "from", "at", "by", "until", "till", "после", "с", "от", "в", "к", "около"}
)
_HOUR_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|noon|midnight"
_YEAR_BEFORE = frozenset({"in", "since", "from", "of", "year", "back", "в", "с", "по", "от"})
_STREET_WORDS = frozenset(
    {"street", "st", "avenue", "ave", "road", "rd", "drive", "lane", "boulevard", "blvd", "way", "court"}
)
#: What "number" is in each language, for "the order I placed, it's number 5-5-8-2-0".
_NUMBER_WORDS = frozenset({"number", "номер", "no"})
_RANGE_WORDS = frozenset({"to", "or", "and", "до", "или", "и"})
_SPOKEN_SEPARATORS = {
    "dot": ".", "точка": ".", "underscore": "_", "подчеркивание": "_", "подчёркивание": "_",
    "dash": "-", "hyphen": "-", "дефис": "-", "тире": "-",
}  # fmt: skip
#: Words and commas of a spelled address: "k mitchell dot brighthome at gmail dot com",
#: «dasha, нижнее подчёркивание, sorokina, собака, yandex, точка, ru».
_EMAIL_PIECE = re.compile(r"\w+(?:['’]\w+)?(?:[.\-]\w+)*|,")
_AT_WORDS = frozenset({"at", "собака"})
#: Words that open a sentence about the address, never part of it.
_NOT_LOCAL = frozenset(
    {"is", "it's", "it’s", "its", "my", "email", "mail", "address", "to", "it", "send", "that's", "yes", "sure", "and",
     "the", "at", "personal", "work", "use", "me", "write", "down", "so", "ok", "okay", "um", "uh", "er", "or",
     "a", "an", "of", "on", "for", "with", "by", "in", "from", "just", "please", "here", "yeah", "no", "was",
     "be", "then", "try", "new", "old", "this", "account", "login", "username"}
)  # fmt: skip


def spoken_emails(text: str) -> list[FoundEntity]:
    """E-mail addresses spelled out, lowercase, with offsets into ``text``. Before "at"/«собака»:
    pieces joined by separator words (dot, underscore, «точка», «нижнее подчёркивание»; commas around
    them allowed) or said one after another (up to three Latin pieces and digits: "d rivers 99");
    after it: a domain of pieces joined by dots."""
    pieces = [(m.group(0), m.start(), m.end()) for m in _EMAIL_PIECE.finditer(text)]
    found: list[FoundEntity] = []
    for index, (word, _, _) in enumerate(pieces):
        if word.lower() not in _AT_WORDS:
            continue
        domain, end = _spoken_domain(pieces, index + 1)
        local, start = _spoken_local(pieces, index - 1)
        if domain and local and local[0].isalpha():
            found.append(FoundEntity("email", f"{local}@{domain}".lower(), start, end))
    return found


def _spoken_domain(pieces: list[tuple[str, int, int]], at: int) -> tuple[str, int]:
    i = at + 1 if at < len(pieces) and pieces[at][0] == "," else at
    if i >= len(pieces) or not re.fullmatch(r"[^\W_]+(?:[.\-][^\W_]+)*", pieces[i][0]):
        return "", 0
    parts, end = [pieces[i][0]], pieces[i][2]
    i += 1
    while True:
        j = i + 1 if i < len(pieces) and pieces[i][0] == "," else i
        if j < len(pieces) and pieces[j][0].lower() in ("dot", "точка"):
            k = j + 2 if j + 1 < len(pieces) and pieces[j + 1][0] == "," else j + 1
            if k < len(pieces) and re.fullmatch(r"[^\W\d_]{2,}", pieces[k][0]):
                parts.append(pieces[k][0])
                end, i = pieces[k][2], k + 1
                continue
        break
    domain = ".".join(parts)
    return (
        (domain, end) if "." in domain and re.fullmatch(r"[a-zA-Z.\-]+", domain.split(".")[-1]) else ("", 0)
    )


def _spoken_local(pieces: list[tuple[str, int, int]], last: int) -> tuple[str, int]:
    parts: list[str] = []
    start = 0
    i = last
    if i >= 0 and pieces[i][0] == ",":
        i -= 1
    bare_run = 0  # pieces said one after another with no separator word between
    while i >= 0:
        word = pieces[i][0]
        low = word.lower()
        if word == "," or low in _NOT_LOCAL or low in _SPOKEN_SEPARATORS:
            break
        if not (re.fullmatch(r"[A-Za-z0-9._\-]+", word)):
            break
        parts.insert(0, low)
        start = pieces[i][1]
        i -= 1
        j = i - 1 if i >= 0 and pieces[i][0] == "," else i
        sep = pieces[j][0].lower() if j >= 0 else ""
        if sep in _SPOKEN_SEPARATORS:
            k = j - 1
            if sep in ("подчеркивание", "подчёркивание") and k >= 0 and pieces[k][0].lower() == "нижнее":
                k -= 1
            parts.insert(0, _SPOKEN_SEPARATORS[sep])
            i = k - 1 if k >= 0 and pieces[k][0] == "," else k
            bare_run = 0
            continue
        bare_run += 1
        if bare_run >= 3 or i < 0 or pieces[i][0] == ",":
            break
    local = "".join(parts).lstrip("._-")
    return local, start


class _CallContext:
    """What earlier turns of the call tell the extractor: the order numbers already said (said again,
    they are the order number, not an amount) and whether a price in thousands was just said."""

    def __init__(self, known_orders: dict[str, str], thousands: bool) -> None:
        self.known_orders = known_orders
        self.thousands = thousands


def _money_value(value: str) -> float:
    try:
        return float(value.split()[0])
    except (ValueError, IndexError):
        return 0.0


def _format_amount(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def _with_half(value: int, start: int, before: list[Token]) -> tuple[int, int, list[Token]] | None:
    """ "Four and a half thousand" in Russian → 4500, «полторы тысячи» → 1500 (normalised as two numbers); ``None`` for
    a half after any other number."""
    words = [t.text for t in before[-3:]]
    half = ["с", "половиной"]
    if words[-2:] == half and len(words) == 3 and words[0].isdigit() and value == 1000:
        return int(words[0]) * 1000 + 500, before[-3].start, before[:-3]
    if words[-1:] in (["полторы"], ["полтора"]) and value == 1000:
        return 1500, before[-1].start, before[:-1]
    if words[-2:] == half:
        return None
    return value, start, before


#: Capital letters (Latin or Cyrillic) dictated right before a number ("K L, ", "KL-"), not inside a word.
_LETTER_PREFIX = re.compile(r"(?<![^\W\d_])((?:[A-ZА-ЯЁ](?:[ ,\-]+|(?=[A-ZА-ЯЁ]))){1,3})$")
#: One letter that is also a word ("I 4 1 9", the Russian prepositions): not a prefix on its own.
_LETTER_WORDS = frozenset("IAАВИСКОУЯ")


#: Russian letter names as dictated: «эс цэ» = СЦ, «ка эл» = КЛ (not the vowels, which are words).
_RU_LETTER_NAMES = {
    "бэ": "Б", "вэ": "В", "гэ": "Г", "дэ": "Д", "жэ": "Ж", "зэ": "З", "ка": "К", "эл": "Л", "эль": "Л",
    "эм": "М", "эн": "Н", "пэ": "П", "эр": "Р", "эс": "С", "тэ": "Т", "эф": "Ф", "ха": "Х", "цэ": "Ц",
    "ша": "Ш",
}  # fmt: skip
#: One spelled letter: "P as in Peter" (or "as in apple"), a capital «как» a name, «эс», «цэ».
_SPELLED_LETTER = (
    r"(?:(?<![^\W\d_])(?:[A-ZА-ЯЁ] |(?i:[a-zа-яё]) (?=as in ))(?:as in [^\W\d_]+|(?:like|for|как) [A-ZА-ЯЁ][^\W\d_]+)"
    rf"|(?i:\b(?:{'|'.join(_RU_LETTER_NAMES)})\b))"
)
#: A bare capital letter said beside spelled ones: "W, D as in delta, 8…", "K as in kilo, L, 5…".
_BARE_LETTER = r"(?:(?<![^\W\d_])[A-ZА-ЯЁ](?![^\W\d_]))"
_SPELLED_PREFIX = re.compile(rf"((?:(?:{_SPELLED_LETTER}|{_BARE_LETTER})[ ,\-]+){{1,3}})$")
_SPELLED_OR_BARE = re.compile(rf"{_SPELLED_LETTER}|{_BARE_LETTER}")


def _spelled_prefix(text: str, start: int) -> tuple[str, int] | None:
    """Letters spelled out before the digits at ``start``, and where they begin: "R as in Romeo,
    8 8 2 1 5", a capital letter «как» a name, «эс цэ, 2 7, 661»; a bare letter beside a spelled one
    counts too ("F as in Frank, D, 6 6 2 3 8")."""
    window = max(0, start - 60)
    m = _SPELLED_PREFIX.search(text[window:start])
    if m is None or re.search(_SPELLED_LETTER, m.group(1)) is None:
        return None  # bare letters alone: ``_LETTER_PREFIX`` decides (it knows letters that are words)
    letters = ""
    for piece in _SPELLED_OR_BARE.finditer(m.group(1)):
        word = piece.group(0)
        if word.isupper() and len(word) > 1:  # «ЭЛ» written as the letters themselves, «эл» said
            letters += word
            continue
        letters += _RU_LETTER_NAMES.get(word.lower(), word[:1])
    return letters.upper(), window + m.start(1)


#: Words said between the letters and the digits: "K W, then 5 5 3 9 0", «ЭЛ, две буквы, потом 3 3 0 9 1».
_LETTER_FILLER = re.compile(
    r"(?<=[ ,\-])(?:(?:and then|then|and|followed by|numbers|digits|(?:two |2 )?letters|потом|затем|"
    r"дальше|далее|и|цифры|(?:две |2 )?буквы)\b[ ,\-]*)+$",
    re.IGNORECASE,
)
#: Letters glued to the digits: "KW55390", "bk47209", "RMA916204".
_GLUED_LETTERS = re.compile(r"(?<![^\W\d_])([A-Za-zА-ЯЁа-яё]{1,3})$")
#: Lowercase letters as ASR writes a dictated prefix: "t-r 4-4-0-8-2", «сц 4 1 7 7 2» (Russian
#: consonants only: no vowel, so not a word; not a unit written before a number).
_LOWER_HYPHENATED = re.compile(r"(?<![^\W\d_])([a-zа-яё](?:-[a-zа-яё]){1,2})[ ,\-]+$")
_LOWER_RU_CONSONANTS = re.compile(r"(?<![^\W\d_])([бвгджзклмнпрстфхцчшщ]{2,3})[ ,\-]+$")
_NOT_PREFIXES = frozenset({"мм", "см", "кг", "гб", "тб", "шт", "вт", "км", "мб", "кв", "тыс"})


def _letter_prefix(text: str, start: int) -> tuple[str, int]:
    """The letters of an alphanumeric number dictated before the digits at ``start``, and where they
    begin; ("", start) when there are none. Letters may be glued to the digits ("KW55390"), spelled
    ("R as in Romeo"), written lowercase by ASR ("t-r 4-4-0-8-2", «сц 4 1 7 7 2»), or followed by a
    word before the digits ("C, B, then 3 1 4 4 2", «эс цэ, потом 6, 6, 0, 1, 2»)."""
    if start > 0 and text[start - 1].isalpha():
        glued = _GLUED_LETTERS.search(text[max(0, start - 4) : start])
        if glued is None:
            return "", start
        return glued.group(1).upper(), max(0, start - 4) + glued.start(1)
    filler = _LETTER_FILLER.search(text[max(0, start - 30) : start])
    ends = [start]
    if filler is not None:
        ends.append(max(0, start - 30) + filler.start())
    for end in ends:
        spelled = _spelled_prefix(text, end)
        if spelled is not None:
            return spelled
        window = max(0, end - 12)
        m = _LETTER_PREFIX.search(text[window:end])
        if m is not None:
            letters = re.sub(r"[^\w]", "", m.group(1))
            if len(letters) == 1 and letters in _LETTER_WORDS:
                continue
            return letters, window + m.start(1)
        for lower in (_LOWER_HYPHENATED, _LOWER_RU_CONSONANTS):
            m = lower.search(text[window:end])
            if m is not None and m.group(1) not in _NOT_PREFIXES:
                return m.group(1).replace("-", "").upper(), window + m.start(1)
    return "", start


#: How prices are said (``_PRICE_IDIOM_RU``, ``_PRICE_IDIOM_EN``, dollars and cents), by language.
_PRICE_IDIOMS = {
    "ru": _PRICE_IDIOM_RU,
    "en": re.compile(rf"{_PRICE_IDIOM_EN.pattern}|{_DOLLARS_CENTS.pattern}"),
}
_NEVER = re.compile(r"(?!)")


def _dictated(said: str) -> bool:
    """Digits said one by one ("4 1 9 2 0 7", "0 7 3 3 2"): four or more single digits, or a group
    with a leading zero; never an amount."""
    groups = re.findall(r"\d+", said)
    singles = sum(len(g) == 1 for g in groups)
    return singles >= 4 or (singles >= 2 and any(len(g) > 1 and g.startswith("0") for g in groups))


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _pieces(match: str, glued: bool = False) -> list[tuple[int, int]]:
    """(start, end) within ``match`` of each number it holds: commas join only short groups (phone
    digit groups, "903, 123, 45"), not "61408, 99", not a number glued to letters before it
    ("M903, 6990"), and not a run of five single digits and a pair after it ("order 9 1 1 8 4, 12 49")
    unless the whole is as long as a phone or a card."""
    pieces: list[tuple[int, int]] = []
    start = 0
    total = len(re.sub(r"\D", "", match))
    for comma in re.finditer(r",\s*", match):
        left = re.findall(r"\d+", match[start : comma.start()])
        last = left[-1]
        first = re.findall(r"\d+", match[comma.end() :])[0]
        dictated = len(left) >= 5 and all(len(g) == 1 for g in left) and len(first) > 1
        if (
            len(last) > 4
            or len(first) > 4
            or (glued and start == 0)
            or (dictated and total not in (10, 11) and not 13 <= total <= 19)
        ):
            pieces.append((start, comma.start()))
            start = comma.end()
    pieces.append((start, len(match)))
    return pieces


def digit_runs(text: str) -> list[tuple[str, int, int]]:
    """(digits, start, end) of every number in ``text``, groups of one spoken number joined."""
    text = _DOTTED_CHAIN.sub(lambda m: m.group(0).replace(".", " "), text)  # same length: offsets hold
    runs: list[tuple[str, int, int]] = []
    for m in _DIGIT_GROUPS.finditer(text):
        glued = m.start() > 0 and text[m.start() - 1].isalpha()
        for start, end in _pieces(m.group(0), glued):
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


#: The last few calls' finds, by (language, region, order pattern, turn texts): see ``EntityExtractor.find``.
_FOUND: dict[tuple[str, str, str | None, tuple[str, ...]], list[list[FoundEntity]]] = {}


class EntityExtractor:
    def __init__(
        self,
        pack: LanguagePack,
        phone_region: str,
        phone_hash: Callable[[str], str],
        order_number_pattern: str | None = None,
    ) -> None:
        """``order_number_pattern``: the tenant's order ids as normalised (letters then digits, no
        separators: "AB123456"); when set, only numbers it fully matches are order numbers, and one
        with dictated letters needs no order cue."""
        self.pack = pack
        self._order_pattern = re.compile(order_number_pattern) if order_number_pattern else None
        self._order_pattern_text = order_number_pattern
        self.phone_region = phone_region
        self.phone_hash = phone_hash
        self._pattern_sets: dict[int, PatternSet] = {}
        self._cue_prefixes = self._patterns("order_cues")
        self._price_cues = self._patterns("price_cues")
        self._price_cues_near = self._patterns("price_cues_near")
        self._price_cues_after = self._patterns("price_cues_after")
        self._small_fees = self._patterns("small_fees")
        self._amount_units = self._patterns("amount_units")
        self._model_words = self._patterns("model_words")
        self._priced_things = self._patterns("priced_things")

    def _patterns(self, name: str) -> list[Pattern]:
        compiled = [compile_phrase(p, self.pack) for p in self.pack.phrase_sets.get(name, [])]
        return [p for p in compiled if p is not None]

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
        """:meth:`find_uncached`, remembered for the last few calls: the analyzer and PII masking read
        the same turns, and finding is the costliest part of analysis."""
        key = (self.pack.code, self.phone_region, self._order_pattern_text, tuple(texts))
        cached = _FOUND.get(key)
        if cached is None:
            cached = _FOUND[key] = self.find_uncached(texts)
            while len(_FOUND) > 8:
                del _FOUND[next(iter(_FOUND))]
        return [list(turn) for turn in cached]

    def find_uncached(self, texts: list[str]) -> list[list[FoundEntity]]:
        """What each turn's text holds, with offsets into that text as written (not as normalised):
        the entities, plus every other number of four digits or more as type ``number`` (masking
        decides what those are). ``callsight.analysis.pii`` maps these spans onto words."""
        found: list[list[FoundEntity]] = []
        asked_for_order = asked_for_price = False
        known_orders: dict[str, str] = {}  # digits -> the order number they were part of
        recent: list[int] = []  # the largest amount of each of the last turns
        for text in texts:
            context = _CallContext(known_orders, thousands=any(v >= 1000 for v in recent[-3:]))
            turn = self._in_text(text, asked_for_order, asked_for_price, context)
            found.append(turn)
            for f in turn:
                if f.type == "order_number":
                    known_orders.setdefault(re.sub(r"\D", "", f.value), f.value)
            amounts = [_money_value(f.value) for f in turn if f.type == "money"]
            recent.append(int(max(amounts, default=0)))
            # "What's your order number?" — the answer opens the next turn without the cue words.
            last_clause = re.split(r"[.!;]", self.pack.fold(text).rstrip(" ?.!"))[-1]
            # ... when asked: a question, or the number named ("назовите номер заказа"), not "I want
            # to order it" or «хочу заказать».
            clause = self.pack.tokens(last_clause)
            asked_for_order = self._after_order_cue(clause) and (
                text.rstrip().endswith("?") or any(t.text in _NUMBER_WORDS for t in clause)
            )
            # "How much is the mount?" — "Five ninety." (an amount with no cue of its own)
            asked_for_price = text.rstrip().endswith("?") and self._any_at(
                self._price_cues, self.pack.tokens(last_clause)
            )
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

    def _in_text(
        self,
        original: str,
        asked_for_order: bool = False,
        asked_for_price: bool = False,
        context: _CallContext | None = None,
    ) -> list[FoundEntity]:
        text = self.pack.normalize_numbers(original)
        alignment = Alignment(original, text)
        context = context or _CallContext({}, thousands=False)

        def multiplied(start: int, end: int) -> bool:
            """Said with «тысяч», "thousand", "million": an amount or a count, never dictated digits."""
            said = alignment.original_span(start, end)
            return _MULTIPLIER.search(original[said[0] : said[1]]) is not None or (
                _MULTIPLIER_BEFORE.search(original[max(0, said[0] - 16) : said[0]]) is not None
            )

        found: list[FoundEntity] = []
        for m in _EMAIL.finditer(text):
            found.append(FoundEntity("email", m.group(0).lower(), m.start(), m.end()))
        found.extend(spoken_emails(text))
        found.extend(self._numbers(text, asked_for_order, context.known_orders, multiplied))
        numeric_spans = [(f.start, f.end) for f in found if f.type in ("phone", "card", "order_number")]
        for entity in self.pack.entities(text):
            overlaps = any(s < entity.end and entity.start < e for s, e in numeric_spans)
            if not (entity.type in ("date", "money") and overlaps):
                found.append(entity)
        taken = [(f.start, f.end) for f in found if f.type != "number"]
        said_money = [(f.start, f.end) for f in found if f.type == "money"]
        found.extend(
            self._bare_amounts(text, taken, asked_for_price, context.thousands, multiplied, said_money)
        )
        amounts = [(f.start, f.end) for f in found if f.type in ("date", "money")]
        found = [  # "49000" of «сорок девять тысяч рублей» is an amount, not an unnamed number
            f for f in found if f.type != "number" or not any(s < f.end and f.start < e for s, e in amounts)
        ]
        spans = [alignment.original_span(f.start, f.end) for f in found]
        return [
            replace(f, start=start, end=end)
            for f, (start, end) in zip(found, spans, strict=True)
            if f.type != "number" or not _MULTIPLIER.search(original[start:end])  # «сорок девять тысяч»
        ]

    def _numbers(
        self,
        text: str,
        asked_for_order: bool = False,
        known_orders: dict[str, str] | None = None,
        multiplied: Callable[[int, int], bool] | None = None,
    ) -> list[FoundEntity]:
        found: list[FoundEntity] = []
        folded = self.pack.fold(text)
        for index, (digits, start, end) in enumerate(digit_runs(text)):
            letters, at = _letter_prefix(text, start)  # "K L, 4 1 9, 2 07", "KL-419-207"
            amount = multiplied is not None and multiplied(start, end)
            cued = self._order_said(
                text, folded, (digits, start, end), letters, at, amount, asked_for_order and index == 0
            )
            if self._order_pattern is None and cued:
                value = (known_orders or {}).get(digits, digits) if not letters else letters + digits
                found.append(
                    FoundEntity("order_number", value, at, end)
                )  # "HK72055", said before: its letters
                continue
            if self._order_pattern is None and known_orders and digits in known_orders:
                # the order number said again later in the call ("68 550, I see it")
                found.append(FoundEntity("order_number", known_orders[digits], at if letters else start, end))
                continue
            if self._order_pattern is not None:  # the tenant's own format, and only it
                tenant = next(
                    (v for v in (letters + digits, digits) if self._order_pattern.fullmatch(v)), None
                )
                if tenant is not None and (cued or (letters and tenant != digits)):
                    found.append(FoundEntity("order_number", tenant, at if tenant != digits else start, end))
                    continue
            if 13 <= len(digits) <= 19 and luhn_valid(digits):
                found.append(FoundEntity("card", digits, start, end))
            elif 7 <= len(digits) <= 15 and (phone := self._phone(digits)) is not None:
                found.append(FoundEntity("phone", phone, start, end))
            elif len(digits) >= 4:
                found.append(FoundEntity("number", digits, start, end))
        return found

    def _order_said(
        self,
        text: str,
        folded: str,
        run: tuple[str, int, int],
        letters: str,
        at: int,
        amount: bool,
        first_answered: bool,
    ) -> bool:
        """Whether the digits of ``run`` (with ``letters`` before them from ``at``) are an order number:
        after an order cue (``_order_cued``); digits dictated one by one a little further from one;
        or letters then five digits or more ("under H 4 1 1 7 2", "ZM 45 112"). Never an amount said
        with «тысяч», a phone, or a number said the way prices are said without letters."""
        digits, start, end = run
        if amount:  # «двадцать четыре тысячи девятьсот девяносто» is an amount, not an order
            return False
        said = text[start:end]
        dictated = _dictated(said)
        answered = first_answered and self._opens_answer(folded[:at], dictated)
        if self._order_cued(text, folded, digits, at, end, answered, said):
            return True
        priced = _PRICE_IDIOMS.get(self.pack.code, _NEVER).fullmatch(said) is not None
        if not letters:
            return (
                dictated and not priced and self._order_cued(text, folded, digits, at, end, False, said, True)
            )
        # letters, then digits not said as a price (not "мини-LED, 74 990")
        return (
            self._order_pattern is None
            and not priced
            and 5 <= len(digits) <= 9
            and self._phone(digits) is None
        )

    def _opens_answer(self, before: str, dictated: bool) -> bool:
        """Whether a number after ``before`` opens the answer to "what's the order number?": at most
        three words before it, or "number" among the last three («Там номер, сейчас... 42, 0 18»),
        or digits dictated one by one a few words in ("It's G E, no sorry, it's just numbers. 5 5 2")."""
        tokens = self.pack.tokens(before)
        if len(tokens) <= 3 or any(t.text in _NUMBER_WORDS for t in tokens[-3:]):
            return True
        return dictated and len(tokens) <= 12

    def _order_cued(
        self,
        text: str,
        folded: str,
        digits: str,
        at: int,
        end: int,
        answered: bool,
        said: str = "",
        wide: bool = False,
    ) -> bool:
        """Whether the number at ``at`` follows an order cue. The cue must be in the same clause,
        right before the number ("номер заказа 72051"), or the other party just asked for it and
        this is the first number of the answer (``answered``); a short number may also follow the
        cue across a comma or a full stop: "checking on an order. 47716", «заказ оформлен, номер
        41066», "an order I placed last night, it's number 5-5-8-2-0". ``wide``: digits dictated one
        by one, never an amount, so the cue may be further back and a price word near does not
        matter ("my order, it's 3 7 1 1 0"; "order number ending... the whole thing is 7 7 3 1 9 2").
        Not a time: «заказ оформлен в 00 12»."""
        if not 4 <= len(digits) <= 12:
            return False
        before = self.pack.tokens(re.split(r"[\d.,;:!?]", folded[max(0, at - 40) : at])[-1])[-3:]
        if wide:
            wider = self.pack.tokens(re.split(r"\d", folded[max(0, at - 80) : at])[-1])[-8:]
            return (
                len(digits) <= 9
                and self._after_order_cue(wider)
                and not _CURRENCY_AFTER.match(text, end)
                and self._phone(digits) is None
            )
        wider = self.pack.tokens(re.split(r"\d", folded[max(0, at - 60) : at])[-1])[-6:]
        sentence = self.pack.tokens(re.split(r"[\d.!?;]", folded[max(0, at - 100) : at])[-1])
        numbered = bool(before) and before[-1].text in _NUMBER_WORDS and self._after_order_cue(sentence[-12:])
        if before and before[-1].text in _TIME_BEFORE and re.fullmatch(r"\d{1,2}[ :.]\d{2}", said):
            return False  # «заказ оформлен в 00 12»: a time
        if (
            before
            and not _dictated(said)
            and self._any_at(self._price_cues, before[-1:])
            and not (len(before) > 1 and before[-2].text in _NUMBER_WORDS)
        ):
            return False  # «заказ отменён, возврат 24990»: the refund's amount, not the order (not «номер возврата»)
        if self._after_order_cue(before) or numbered:
            return True
        if (
            said
            and _PRICE_IDIOMS.get(self.pack.code, _NEVER).fullmatch(said)
            and not self._after_order_cue(before)
        ):
            return False  # "верните деньги 24 990" after the order was named: an amount
        loose = answered or (
            len(digits) <= 8
            and self._after_order_cue(wider)
            and not _CURRENCY_AFTER.match(text, end)
            and not self._any_at(self._price_cues, wider)
            and not self._any_at(self._price_cues_near, wider[-1:])
        )
        # "Name on the order?" "Robert Hale. Phone's 6 1 7, 5 5 5, 0 1 3 2." is a phone
        return loose and not (len(digits) >= 10 and self._phone(digits) is not None)

    def _bare_amounts(
        self,
        text: str,
        taken: list[tuple[int, int]],
        asked_for_price: bool,
        thousands: bool = False,
        multiplied: Callable[[int, int], bool] | None = None,
        said_money: list[tuple[int, int]] | None = None,
    ) -> list[FoundEntity]:
        """Amounts said without a currency word, in the language's currency, when a price word is
        near in the same sentence ("it cost me twelve hundred", «стоит сорок четыре девятьсот
        девяносто»), or the other party just asked the price, or the way the number is said makes
        it a price: "twelve forty-nine" (a pair ending in nine), "two twenty-nine ninety-nine"
        (dollars and cents), «девятнадцать тысяч четыреста девяносто» with no noun it counts;
        also "installation is eighty-nine", and an amount beside another ("189 dollars, or 119").
        Not a model ("Core 600", "XPS 13", "RF 70 to 200"), not a number with a unit after it
        (degrees, inches, months, pieces), not a time ("between 10 and 1"), not a year, not a
        dictated digit string ("4 1 9")."""
        if not self.pack.currency:
            return []
        tokens = self.pack.tokens(text)
        turn_priced = self._any_at(self._price_cues, tokens)
        found: list[FoundEntity] = []
        scaled: list[bool] = []  # whether each found amount is thousands said without «тысяч»
        rest: list[tuple[int, int, int, float]] = []  # not (yet) money: start, end, index, value
        for index, (_, start, end) in enumerate(digit_runs(text)):
            if any(s < end and start < e for s, e in taken):
                continue
            trimmed = self._pronoun_one(text, start, end)  # "the twelve ninety-nine one"
            pronoun, end = trimmed != end, trimmed
            clause_start = max(text.rfind(mark, 0, start) for mark in ".!?;") + 1
            ends = [i for i in (text.find(mark, end) for mark in ".!?;") if i >= 0]
            clause_end = min(ends) if ends else len(text)
            before = [t for t in tokens if clause_start <= t.start and t.end <= start]
            after = [t for t in tokens if end <= t.start and t.end <= clause_end]
            amount = _with_half(int(re.sub(r"\D", "", text[start:end])), start, before)
            if amount is None:
                continue
            _, start, before = amount
            value = self._amount_value(text, start, end)
            value = self._small_fee(text[start:end], before, after, value)
            if value is None:
                small = self._elided_thousands(text, start, end, before, after, thousands, turn_priced)
                if small is not None:
                    found.append(FoundEntity("money", f"{small} {self.pack.currency}", start, end))
                    scaled.append(True)
                elif self.pack.code == "ru" and re.fullmatch(r"[1-9]\d?", text[start:end]):
                    rest.append((start, end, index, float(text[start:end])))  # thousands beside thousands
                continue
            said = text[start:end]
            # "the 12 99 one", "the 5 29 will be back on my card": "the" before a price, not a model
            priced_shape = self.pack.code == "en" and (pronoun or _PRICE_IDIOM_EN.fullmatch(said) is not None)
            model = self._after_model(text, before, start) and not (
                priced_shape and before and before[-1].text in ("the", "that", "this")
            )
            clock = self._clock(text, said, before, after)
            if (
                model
                or clock
                or self._unit_after(text, end, after)
                or self._time_or_year(text, value, end, before, after)
            ):
                continue
            answered = asked_for_price and index == 0 and len(before) <= 6
            if answered or self._priced(text, start, end, before, after, multiplied):
                found.append(
                    FoundEntity("money", f"{_format_amount(value)} {self.pack.currency}", start, end)
                )
                # «тысяч на пятнадцать, ну максимум двадцать»: round thousands said with «тысяч»
                scaled.append(
                    self.pack.code == "ru"
                    and value % 1000 == 0
                    and multiplied is not None
                    and multiplied(start, end)
                )
            else:
                rest.append((start, end, index, value))
        found += self._siblings(text, tokens, rest, found, scaled, said_money or [])
        return sorted(found, key=lambda f: f.start)

    def _small_fee(
        self, said: str, before: list[Token], after: list[Token], value: float | None
    ) -> float | None:
        """ "next-day is 14 99", "a customs fee of 1 99": dollars and cents when express shipping or a
        fee of that kind is paid for, not 1499."""
        fee = _SMALL_FEE.fullmatch(said) if value is not None else None
        if fee is None:
            return value
        if self._any_at(self._small_fees, before[-10:]) or self._any_at(self._small_fees, after[:3]):
            return float(f"{fee.group(1)}.{fee.group(2)}")
        return value

    def _clock(self, text: str, said: str, before: list[Token], after: list[Token]) -> bool:
        """ "between twelve and four. It's six thirty.": the time now, not a price."""
        return (
            self.pack.code == "en"
            and not after
            and _CLOCK.fullmatch(said) is not None
            and bool(before)
            and before[-1].text in ("it's", "it’s", "is", "now", "already")
            and _TIME_CONTEXT.search(text) is not None
        )

    def _priced(
        self,
        text: str,
        start: int,
        end: int,
        before: list[Token],
        after: list[Token],
        multiplied: Callable[[int, int], bool] | None,
    ) -> bool:
        """Whether the number at ``start`` is a price by the words around it or the way it is said."""
        if before and before[-1].text == "a":  # "it's a hundred and fifty"
            before = before[:-1]
        near = any(
            len(p.words) <= len(before) and matches_at(p, before, len(before) - len(p.words))
            for p in self._price_cues_near
        )
        if near or self._any_at(self._price_cues, before[-8:]) or self._any_at(self._price_cues, after[:3]):
            return True
        if (  # "the Samsung at twenty-three fifty", "mounting at two forty-nine": not a clock time
            self.pack.code == "en"
            and before
            and before[-1].text == "at"
            and not re.fullmatch(r"\d{1,2}", text[start:end])
            and not (_AT_CLOCK.fullmatch(text[start:end]) and _AT_TIME_CONTEXT.search(text))
            and not self._street_after(after)  # "I live at twelve forty-nine Maple Street"
        ):
            return True
        if (
            after
            and text[end : after[0].start].strip() == ""
            and self._any_at(self._price_cues_after, after[:1])
        ):
            return True  # "eighty less", "seven hundred tops"
        said = text[start:end]
        if self.pack.code == "ru":  # «двадцать девять девятьсот» (29 900): thousands, hundreds apart
            idiom = _PRICE_IDIOM_RU.fullmatch(said) is not None or (
                multiplied is not None and multiplied(start, end) and not self._counts_after(text, end)
            )
        else:  # "twelve forty-nine", "two seventy-nine ninety-five"
            idiom = _PRICE_IDIOM_EN.fullmatch(said) is not None and not self._street_after(after)
        return idiom or self._priced_thing(text, before, start)

    def _siblings(
        self,
        text: str,
        tokens: list[Token],
        rest: list[tuple[int, int, int, float]],
        found: list[FoundEntity],
        scaled: list[bool],
        said_money: list[tuple[int, int]],
    ) -> list[FoundEntity]:
        """Numbers beside an amount in the same sentence, joined to it by "or", "to", «или»:
        "189 dollars for 3 years, or 119 for 2", "between 500 and 700 dollars", «там 27, или
        около 25500» (thousands when the amount beside them is thousands said without «тысяч»)."""
        money = [(f.start, f.end, sc) for f, sc in zip(found, scaled, strict=True)]
        money += [(s, e, False) for s, e in said_money]
        extra: list[FoundEntity] = []
        for start, end, _, value in rest:
            after = [t for t in tokens if t.start >= end][:3]
            if self._unit_after(text, end, after) or (
                self.pack.code == "ru" and self._counts_after(text, end)
            ):
                continue  # «до трёх метров», «и две трубки»
            for m_start, m_end, thousands in money:
                gap = text[m_end:start] if m_end <= start else text[end:m_start]
                if any(mark in gap for mark in ".!?;") or not self._joined(gap, m_end <= start):
                    continue
                if not any(m_start <= t.start < m_end and t.text.isdigit() for t in tokens) and not thousands:
                    continue
                if value < 100 and not thousands:
                    continue  # «27» beside «25500» is 27000; beside «25500 рублей» nothing is known
                amount = value * 1000 if thousands and value < 100 else value
                extra.append(
                    FoundEntity("money", f"{_format_amount(amount)} {self.pack.currency}", start, end)
                )
                break
        return extra

    def _joined(self, gap: str, after_amount: bool) -> bool:
        """Whether ``gap`` joins two amounts: a conjunction, perhaps with "for 3 years" or «около»."""
        words = [t.text for t in self.pack.tokens(gap)]
        if not words or not any(w in _AMOUNT_JOINERS for w in words):
            return False
        last = max(i for i, w in enumerate(words) if w in _AMOUNT_JOINERS)
        fillers = all(w in _JOINER_FILLERS for w in words[last + 1 :])
        if not after_amount:  # "500 and 700 dollars", «27, или 25500»
            return words[0] in _AMOUNT_JOINERS and fillers and len(words) <= 4
        return fillers and len(words) <= 8

    def _amount_value(self, text: str, start: int, end: int) -> float | None:
        """The amount a number said without a currency word would be, if it is shaped like one:
        "1249", "12 99", "44 990", "1,299"; in English "2 29 99" is 229.99 and "49 95" is 49.95
        (a pair above forty ending in 95-99 is dollars and cents)."""
        said = text[start:end]
        glued = (start > 0 and text[start - 1].isalpha()) or (end < len(text) and text[end].isalpha())
        if glued:
            return None
        low, high = _AMOUNT_RANGE.get(self.pack.currency, (10, 999999))
        if self.pack.code == "en" and (cents := _DOLLARS_CENTS.fullmatch(said)) is not None:
            value = float(f"{cents.group(1)}{cents.group(2)}.{cents.group(3)}")
            return value if low <= value <= high else None
        digits = re.sub(r"\D", "", said)
        if not _AMOUNT_SHAPE.fullmatch(said) or digits.startswith("0"):
            return None
        if self.pack.code == "en" and (pair := _HUNDREDS_CENTS.fullmatch(said)) is not None:
            return float(f"{pair.group(1)}.{pair.group(2)}")  # "three hundred and thirty-two sixty"
        if self.pack.code == "en" and (pair := _CENTS_PAIR.fullmatch(said)) is not None:
            return float(f"{pair.group(1)}.{pair.group(2)}")
        return float(digits) if low <= int(digits) <= high else None

    def _elided_thousands(
        self,
        text: str,
        start: int,
        end: int,
        before: list[Token],
        after: list[Token],
        thousands: bool,
        turn_priced: bool,
    ) -> int | None:
        """Russian prices often drop «тысяч» once the magnitude is clear: "two and a half" after
        «за» is 2500, «я за него тридцать четыре платил» after a price in thousands is 34000."""
        if self.pack.code != "ru" or not re.fullmatch(r"[1-9]\d?", text[start:end]):
            return None
        n = int(text[start:end])
        words = [t.text for t in after]
        half = words[:2] == ["с", "половиной"]
        rest = after[2:] if half else after
        if rest and (self._any_at(self._amount_units, rest[:3]) or self._counts_after(text, rest[0].start)):
            return None
        if self._after_model(text, before, start) or (before and before[-1].text in ("с", "от", "до", "в")):
            return None
        cued = self._any_at(self._price_cues, before[-6:]) or self._any_at(self._price_cues, after[:3])
        near = bool(before) and before[-1].text == "за"
        if half and (cued or near or thousands or turn_priced):
            return n * 1000 + 500
        # «я за него тридцать четыре платил»: the price word right after, or the clause ends there
        closes = not rest or self._any_at(self._price_cues, rest[:1])
        if thousands and (cued or near) and closes and n >= 2:
            return n * 1000
        return None

    def _pronoun_one(self, text: str, start: int, end: int) -> int:
        """ "the 12 99 1, but" (the twelve ninety-nine one): the last "1" is the pronoun."""
        if self.pack.code != "en" or not text[start:end].endswith(" 1"):
            return end
        if not re.search(r"\b(?:the|that|this)\s+$", text[max(0, start - 6) : start], re.IGNORECASE):
            return end
        return end - 2 if _PRICE_IDIOM_EN.fullmatch(text[start : end - 2]) else end

    def _counts_after(self, text: str, end: int) -> bool:
        """Whether the word right after the number is what it counts («4000 баллов», "12000 BTU")."""
        m = re.match(r"\s*([^\W\d_]+)", text[end:])
        if m is None or text[end:].lstrip()[:1] in _CLAUSE_MARKS:
            return False
        word = m.group(1)
        return re.fullmatch(r"[A-Za-z]+", word) is not None or self.pack.counted_noun(word.lower())

    def _street_after(self, after: list[Token]) -> bool:
        return any(t.text in _STREET_WORDS for t in after[:3])

    def _time_or_year(
        self, text: str, value: float, end: int, before: list[Token], after: list[Token]
    ) -> bool:
        """ "between 10 and 1", «от 9 до 11», "at 10"; "in 2019", «в 2020 году»."""
        if value <= 24 and value.is_integer():
            if before and before[-1].text in _TIME_BEFORE:
                return True
            following = re.match(
                rf"\s*(?:to|and|till|until|-|–|до|и)\s*(\d+|{_HOUR_WORDS})\b", text[end:], re.I
            )
            if following and (not following.group(1).isdigit() or int(following.group(1)) <= 24):
                return True
        if 1950 <= value <= 2050 and value.is_integer():
            approximate = len(before) >= 2 and before[-1].text in ("about", "around", "примерно", "около")
            return (
                bool(before and before[-1].text in _YEAR_BEFORE)
                or bool(
                    approximate and before[-2].text in _YEAR_BEFORE  # "from about 2014"
                )
                or bool(after and after[0].text.startswith(("год", "year")))
            )
        return False

    def _priced_thing(self, text: str, before: list[Token], start: int) -> bool:
        """ "installation is 89", "the setup is 1 49", «монтаж — 12000»: a paid service, then the
        number after a copula or a dash."""
        if not before:
            return False
        gap = text[before[-1].end : start]
        if "—" in gap or "–" in gap or ":" in gap or " - " in f"{gap} " or gap.strip() == ",":
            subject = before[-3:]  # also «вывоз старого холодильника, девятьсот девяносто»
        elif before[-1].text in _COPULAS:
            subject = before[-5:-1]
        else:
            return False
        return self._any_at(self._priced_things, subject)

    def _unit_after(self, text: str, end: int, after: list[Token]) -> bool:
        """Degrees, inches, months, pieces... right after the number (past "and a half")."""
        words = [t.text for t in after[:3]]
        if words[:2] == ["or", "more"]:
            return True  # "for twelve or more"
        if words in (["and", "a", "half"], ["and", "a", "quarter"]):
            after = after[3:]  # "twenty-two and a half inches"
        elif words == ["and", "three", "quarters"]:
            after = after[3:]  # "thirty-five and three-quarters wide"
        elif words[:2] == ["с", "половиной"]:
            after = after[2:]
        return text[end:].lstrip()[:1] in ("%", "°") or bool(
            after and self._any_at(self._amount_units, after[:1])
        )

    def _after_model(self, text: str, before: list[Token], start: int) -> bool:
        """Whether the number names a model: "Core 600", "XPS 13", "series 7", "RF 70 to 200"."""
        gap_end = start
        for token in reversed(before):
            gap = text[token.end : gap_end]
            if gap.strip():
                return False  # a comma or dash between: "Xiaomi G10, 19990"
            if token.text.isdigit() or token.text in _RANGE_WORDS:
                gap_end = token.start
                continue
            word = text[token.start : token.end]
            sentence_start = not text[: token.start].strip() or text[: token.start].rstrip()[-1] in ".!?"
            cyrillic_code = re.fullmatch(r"[А-ЯЁ]{2,4}", word) is not None  # «МФК 2000»
            latin_name = re.fullmatch(r"[A-Za-z]+", word) is not None and (
                (word[0].isupper() and not sentence_start) or (len(word) > 1 and word.isupper())
            )
            has_digit = any(c.isdigit() for c in word)
            return latin_name or cyrillic_code or has_digit or self._any_at(self._model_words, [token])
        return False

    def _any_at(self, patterns: list[Pattern], tokens: Sequence[Token]) -> bool:
        """Whether any of ``patterns`` occurs anywhere in ``tokens`` (indexed once per pattern list)."""
        indexed = self._pattern_sets.get(id(patterns))
        if indexed is None:
            indexed = self._pattern_sets[id(patterns)] = PatternSet(patterns)
        return indexed.occurs_in(tokens)

    def _after_order_cue(self, tokens: Sequence[Token]) -> bool:
        return self._any_at(self._cue_prefixes, tokens)

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
