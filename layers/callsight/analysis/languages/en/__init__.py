"""English: Snowball stems, VADER sentiment (the lexicon vaderSentiment ships), text2num numbers."""

from __future__ import annotations

import re
from functools import cached_property, lru_cache
from typing import Any

from nltk.stem.snowball import SnowballStemmer
from text_to_num import alpha2digit
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from callsight.analysis.languages.base import FoundEntity, LanguagePack

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        )
    )
}
_MONTH = "|".join(_MONTHS)
_DATE = re.compile(
    rf"\b(?:(?P<m1>{_MONTH})\s+(?:the\s+)?(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?|(?:the\s+)?(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+of\s+(?P<m2>{_MONTH}))"
    rf"(?:,?\s+(?P<y>20\d\d))?\b",
    re.IGNORECASE,
)
_CURRENCIES = {
    "dollar": "USD", "dollars": "USD", "buck": "USD", "bucks": "USD", "usd": "USD",
    "euro": "EUR", "euros": "EUR", "eur": "EUR",
    "ruble": "RUB", "rubles": "RUB", "rouble": "RUB", "roubles": "RUB",
    "pound": "GBP", "pounds": "GBP",
}  # fmt: skip
_AMOUNT = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_MONEY = re.compile(
    rf"(?P<sym>[$€£])\s?(?P<a1>{_AMOUNT})|\b(?P<a2>{_AMOUNT})\s*(?P<cur>"
    + "|".join(sorted(_CURRENCIES, key=len, reverse=True))
    + r")\b(?:\s+and\s+(?P<cents>\d{1,2})\s+cents?\b)?",
    re.IGNORECASE,
)
#: "nine oh four and twelve cents" (9 04 and 12 cents): dollars said as a price pair, then the cents.
_BARE_CENTS = re.compile(
    r"(?<![\d.,])\b(?P<d>[1-9]\d{0,2}(?: \d{2})?) and (?P<c>\d{1,2}) cents?\b", re.IGNORECASE
)
#: "a hundred pounds of appliances", "over two hundred pounds": a weight, not sterling.
_WEIGHT_BEFORE = re.compile(
    r"\b(?:over|under|weigh\w*|heav\w*|light\w*)\s+(?:a\s+|about\s+)?$", re.IGNORECASE
)
_WEIGHT_AFTER = re.compile(r"\s+of\b", re.IGNORECASE)
#: "two thousand four ninety-nine", read as "2004 99": 2499.
_THOUSAND_HUNDREDS = re.compile(r"\b([1-9])00([1-9]) ([2-9]\d)\b")
#: "two grand", "a grand", "5 grand": thousands of dollars.
_GRAND = re.compile(
    r"\b(?P<n>\d+|a|one|two|three|four|five|six|seven|eight|nine|ten)\s+grand\b", re.IGNORECASE
)
_SMALL_NUMBERS = {
    "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10,
}  # fmt: skip
#: "a ten-dollar coupon": the hyphen keeps text2num from reading the number.
_HYPHEN_CURRENCY = re.compile(r"\b([a-z]+)-(dollars?|bucks?)\b", re.IGNORECASE)
_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP"}
_NAME = r"(?P<name>[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)"
_PERSON_PATTERNS = (
    re.compile(
        rf"\b(?:[Mm]y name is|[Tt]his is|[Ii]t's|[Ii] am|[Ii]'m|[Ss]peaking with|[Aa]sk for|[Hh]i|[Hh]ello|[Tt]hanks?,?)\s+{_NAME}"
    ),
    re.compile(rf"\b{_NAME},?\s+speaking\b"),
)
_COURTESY = re.compile(
    r"\b(?:thank you(?: (?:so|very) much)?(?: for (?:calling|holding|waiting|your patience))?|thanks(?: anyway| a lot)?|"
    r"please|hello|hi|hey|good (?:morning|afternoon|evening)|have a (?:nice|good|great) (?:day|one|evening)|"
    r"(?:good)?bye|you're welcome|no problem|sorry to hear that|i'm sorry|i apologi[sz]e)\b",
    re.IGNORECASE,
)
_NOT_NAMES = frozenset(
    {"I", "The", "This", "It", "Yes", "No", "Sorry", "Okay", "Thank", "Hello", "Hi", "Please"}
)


@lru_cache(maxsize=65536)
def _cached_stem(stemmer: Any, word: str) -> str:
    return str(stemmer.stem(word))


class English(LanguagePack):
    code = "en"
    currency = "USD"
    negations = frozenset(
        {"not", "no", "never", "nothing", "don't", "doesn't", "didn't", "isn't", "wasn't", "aren't", "won't",
         "can't", "cannot", "haven't", "hasn't", "shouldn't", "wouldn't", "without", "nor", "neither"}
    )  # fmt: skip
    number_words = frozenset(
        [
            "zero",
            "oh",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
            "thirty",
            "forty",
            "fifty",
            "sixty",
            "seventy",
            "eighty",
            "ninety",
            "hundred",
            "double",
            "triple",
        ]
    )
    intensifiers = {"very": 1.3, "really": 1.3, "so": 1.2, "too": 1.2, "extremely": 1.5, "totally": 1.3}  # noqa: RUF012

    @cached_property
    def _stemmer(self) -> SnowballStemmer:
        return SnowballStemmer("english")

    @cached_property
    def _vader(self) -> SentimentIntensityAnalyzer:
        return SentimentIntensityAnalyzer()

    def fold(self, text: str) -> str:
        return text.lower().replace("’", "'")

    def stem(self, word: str) -> str:
        return _cached_stem(self._stemmer, word)

    def sentiment(self, text: str) -> float:
        """VADER's compound score, with call-center courtesy formulas removed first ("thanks",
        "have a nice day" are ritual, not satisfaction)."""
        return float(self._vader.polarity_scores(_COURTESY.sub(" ", text))["compound"])

    def normalize_numbers(self, text: str) -> str:
        text = _HYPHEN_CURRENCY.sub(r"\1 \2", text)
        converted = str(alpha2digit(_spelled_digits(text), "en"))
        return _THOUSAND_HUNDREDS.sub(r"\1\2\3", converted) if "00" in converted else converted

    def entities(self, text: str) -> list[FoundEntity]:
        found: list[FoundEntity] = _money(text)
        for m in _DATE.finditer(text):
            month = _MONTHS[(m.group("m1") or m.group("m2")).lower()]
            day = int(m.group("d1") or m.group("d2"))
            if 1 <= day <= 31:
                value = f"{month:02d}-{day:02d}"
                found.append(
                    FoundEntity(
                        "date", f"{m.group('y')}-{value}" if m.group("y") else value, m.start(), m.end()
                    )
                )
        for pattern in _PERSON_PATTERNS:
            for m in pattern.finditer(text):
                name = m.group("name")
                if name.split()[0] not in _NOT_NAMES and name.split()[0].lower() not in _MONTHS:
                    found.append(FoundEntity("person", name, m.start("name"), m.end("name")))
        return found

    def names_to_mask(self, text: str) -> list[FoundEntity]:
        """Pattern names plus any "First Last" pair of capitalised words (a brand may be masked too)."""
        found = [e for e in self.entities(text) if e.type == "person"]
        for m in _INTRODUCTION.finditer(text):
            group = "name" if m.group("name") else "name2"
            found.append(FoundEntity("person", m.group(group), m.start(group), m.end(group)))
        for m in _FULL_NAME.finditer(text):
            first = m.group(1)
            if first not in _NOT_NAMES and first.lower() not in _MONTHS:
                found.append(FoundEntity("person", m.group(0), m.start(), m.end()))
        return found


#: Self-introductions whatever the case ASR wrote them in: "this is chloe calling from …".
_INTRODUCTION = re.compile(
    r"\b(?:my name is|my name's|this is|it's|i am|i'm)\s+(?P<name>[^\W\d_]+)(?=\s+(?:calling|speaking|from|with|here)\b)"
    r"|\bmy name(?: is|'s)\s+(?P<name2>[^\W\d_]+)",
    re.IGNORECASE,
)
_FULL_NAME = re.compile(r"\b([A-Z][a-z]+)\s+([A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b")


_DIGIT_WORDS = ("zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_DIGIT = rf"(?:{'|'.join(_DIGIT_WORDS)}|\d)"
#: "double five" / "triple seven", as numbers are dictated.
_REPEATED = re.compile(rf"\b(double|triple)\s+({_DIGIT})\b", re.IGNORECASE)
#: "oh" for zero after a spelled digit ("nine oh three") or before two ("oh one two"; not "oh, one more").
_OH_BEFORE = re.compile(rf"\boh(?=\s+{_DIGIT}[\s,]+{_DIGIT}\b)", re.IGNORECASE)
_OH_AFTER = re.compile(rf"(\b{_DIGIT}[\s,]+)oh\b", re.IGNORECASE)


def _money(text: str) -> list[FoundEntity]:
    """Amounts with a currency word or sign, "N and M cents", "two grand"."""
    found: list[FoundEntity] = []
    for m in _MONEY.finditer(text):
        amount = _amount(m.group("a1") or m.group("a2"))
        currency = _SYMBOLS[m.group("sym")] if m.group("sym") else _CURRENCIES[m.group("cur").lower()]
        if (
            currency == "GBP"
            and not m.group("sym")
            and (_WEIGHT_BEFORE.search(text[: m.start()]) or _WEIGHT_AFTER.match(text, m.end()))
        ):
            continue  # "over a hundred pounds", "two hundred pounds of appliances"
        if m.group("cents") and "." not in amount:  # "249 dollars and 99 cents"
            amount = f"{amount}.{int(m.group('cents')):02d}"
        found.append(FoundEntity("money", f"{amount} {currency}", m.start(), m.end()))
    for m in _BARE_CENTS.finditer(text):
        if not any(f.start <= m.start() < f.end for f in found):
            value = f"{m.group('d').replace(' ', '')}.{int(m.group('c')):02d}"
            found.append(FoundEntity("money", f"{value} USD", m.start(), m.end()))
    for m in _GRAND.finditer(text):
        n = m.group("n").lower()
        thousands = int(n) if n.isdigit() else _SMALL_NUMBERS[n]
        found.append(FoundEntity("money", f"{thousands * 1000} USD", m.start(), m.end()))
    return found


def _spelled_digits(text: str) -> str:
    """Dictation habits text2num does not read: "double five" → "five five", "oh" → "zero"."""
    text = _REPEATED.sub(
        lambda m: " ".join([m.group(2)] * (2 if m.group(1).lower() == "double" else 3)), text
    )
    text = _OH_BEFORE.sub("zero", text)
    while (changed := _OH_AFTER.sub(r"\1zero", text)) != text:  # "five oh oh"
        text = changed
    return text


def _amount(raw: str) -> str:
    """ "1,299" → 1299, "1.299" (a thousands dot) → 1299, "249.5" → 249.50, "12.00" → 12."""
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", raw):
        raw = raw.replace(".", "")
    value = float(raw.replace(",", ""))
    return str(int(value)) if value.is_integer() else f"{value:.2f}"
