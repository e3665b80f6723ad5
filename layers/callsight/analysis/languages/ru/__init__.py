"""Russian: Snowball stems, a lemma-based sentiment lexicon written for call-center speech,
words2num2 for spoken numbers, natasha (NER model inside its wheel) for names, places, dates, money.

Sentiment: each word's lemma (pymorphy3) is looked up in ``sentiment_lexicon.tsv`` (-4..4); a
negation within three words before flips and damps it, an intensifier scales it; the sum is
squashed into -1..1 as VADER does, so English and Russian scores mean the same.
"""

from __future__ import annotations

import re
from functools import cached_property, lru_cache
from typing import Any

import words2num2
from nltk.stem.snowball import SnowballStemmer

from callsight.analysis.languages.base import FoundEntity, LanguagePack, normalize_compound

#: «12 тысяч» written half in digits (ASR mixes): multiplied out before the words are converted.
#: Self-introductions whatever the case ASR wrote them in: «меня зовут алина».
_INTRODUCTION = re.compile(
    r"\b(?:меня зовут|зовут меня|меня звать|мое имя|моё имя|моя фамилия)\s+(?P<name>[^\W\d_]+)", re.IGNORECASE
)
_THOUSANDS = re.compile(r"\b(\d+)\s+тысяч[аи]?\b")
_NEGATION_DAMPING = -0.74  # VADER's factor for a negated word
_OBSCENE_VALENCE = -2.5
#: Ritual politeness is not satisfaction: «спасибо за звонок», «пожалуйста», «извините».
_COURTESY = frozenset(
    {"спасибо", "пожалуйста", "здравствуйте", "извинить", "извиняться", "простить", "благодарить"}
)
_ORDINALS = {
    "первый": 1, "второй": 2, "третий": 3, "четвертый": 4, "пятый": 5, "шестой": 6, "седьмой": 7,
    "восьмой": 8, "девятый": 9, "десятый": 10, "одиннадцатый": 11, "двенадцатый": 12, "тринадцатый": 13,
    "четырнадцатый": 14, "пятнадцатый": 15, "шестнадцатый": 16, "семнадцатый": 17, "восемнадцатый": 18,
    "девятнадцатый": 19, "двадцатый": 20, "тридцатый": 30,
}  # fmt: skip
_TENS = {"двадцать": 20, "тридцать": 30}
_ORDINAL_DATE = re.compile(
    r"\b(?:(?P<tens>двадцать|тридцать)\s+)?(?P<ordinal>[а-яё]+(?:ого|ое|ье|ьего|его))\s+(?P<month>"
    r"января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=65536)
def _cached_stem(stemmer: Any, word: str) -> str:
    return str(stemmer.stem(word))


@lru_cache(maxsize=65536)
def _cached_pos(morph: Any, word: str) -> str:
    return str(morph.parse(word)[0].tag.POS)


@lru_cache(maxsize=65536)
def _cached_lemma(morph: Any, word: str) -> str:
    return str(morph.parse(word)[0].normal_form).replace("ё", "е")


class Russian(LanguagePack):
    code = "ru"
    currency = "RUB"
    phone_region = "RU"
    negations = frozenset({"не", "нет", "ни", "никак", "никогда", "ничего", "нисколько", "без"})
    number_words = frozenset(
        [
            "ноль",
            "нуль",
            "один",
            "одна",
            "два",
            "две",
            "три",
            "четыре",
            "пять",
            "шесть",
            "семь",
            "восемь",
            "девять",
            "десять",
            "одиннадцать",
            "двенадцать",
            "тринадцать",
            "четырнадцать",
            "пятнадцать",
            "шестнадцать",
            "семнадцать",
            "восемнадцать",
            "девятнадцать",
            "двадцать",
            "тридцать",
            "сорок",
            "пятьдесят",
            "шестьдесят",
            "семьдесят",
            "восемьдесят",
            "девяносто",
            "сто",
            "двести",
            "триста",
            "четыреста",
            "пятьсот",
            "шестьсот",
            "семьсот",
            "восемьсот",
            "девятьсот",
        ]
    )
    intensifiers = {  # noqa: RUF012
        "очень": 1.4, "слишком": 1.4, "совсем": 1.3, "крайне": 1.5, "абсолютно": 1.4, "совершенно": 1.4,
        "так": 1.2, "такой": 1.2, "настолько": 1.3, "вообще": 1.2, "просто": 1.1, "весьма": 1.2,
    }  # fmt: skip

    @cached_property
    def _stemmer(self) -> SnowballStemmer:
        return SnowballStemmer("russian")

    @cached_property
    def _morph(self) -> Any:
        import pymorphy3

        return pymorphy3.MorphAnalyzer(lang="ru")

    @cached_property
    def lexicon(self) -> dict[str, float]:
        entries: dict[str, float] = {}
        for line in (self.module_dir / "sentiment_lexicon.tsv").read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                lemma, valence = line.split("\t")[:2]
                entries[lemma.strip()] = float(valence)
        return entries

    @cached_property
    def _natasha(self) -> dict[str, Any]:
        from natasha import (
            DatesExtractor,
            Doc,
            MoneyExtractor,
            MorphVocab,
            NewsEmbedding,
            NewsMorphTagger,
            NewsNERTagger,
            Segmenter,
        )  # fmt: skip

        vocab = MorphVocab()
        embedding = NewsEmbedding()
        return {
            "segmenter": Segmenter(), "ner": NewsNERTagger(embedding), "morph": NewsMorphTagger(embedding),
            "vocab": vocab, "doc": Doc, "dates": DatesExtractor(vocab), "money": MoneyExtractor(vocab),
        }  # fmt: skip

    def fold(self, text: str) -> str:
        return text.lower().replace("ё", "е")

    def stem(self, word: str) -> str:
        return _cached_stem(self._stemmer, word)

    def lemma(self, word: str) -> str:
        return _cached_lemma(self._morph, word)

    @cached_property
    def _obscene_prefixes(self) -> tuple[str, ...]:
        """Swearing counts as strongly negative (the lexicon leaves mat out; the phrase set has it)."""
        return tuple(p.rstrip("*") for p in self.phrase_sets.get("profanity", []) if " " not in p)

    def sentiment(self, text: str) -> float:
        total = 0.0
        words = [t.text for t in self.tokens(text)]
        for index, word in enumerate(words):
            lemma = self.lemma(word)
            if lemma in _COURTESY:
                continue
            valence = self.lexicon.get(lemma)
            if valence is None and word.startswith(self._obscene_prefixes):
                valence = _OBSCENE_VALENCE
            if valence is None:
                continue
            window = words[max(0, index - 3) : index]
            for previous in reversed(window):
                if previous in self.intensifiers:
                    valence *= self.intensifiers[previous]
                    break
            if any(previous in self.negations for previous in window):
                valence *= _NEGATION_DAMPING
            total += valence
        if "!" in text and total:
            total += 0.3 if total > 0 else -0.3
        return round(normalize_compound(total), 4)

    def normalize_numbers(self, text: str) -> str:
        text = _ORDINAL_DATE.sub(self._ordinal_date, text)
        text = _colloquial_thousands(text)
        text = _THOUSANDS.sub(
            lambda m: str(int(m.group(1)) * 1000), text
        )  # before words2num2 reads «тысяч» as 1000
        converted = str(words2num2.words2num_sentence(text, lang="ru"))  # type: ignore[no-untyped-call]
        converted = _THOUSANDS.sub(lambda m: str(int(m.group(1)) * 1000), converted)
        return _amount_forms(converted)

    def _ordinal_date(self, match: re.Match[str]) -> str:
        """«двадцать пятого ноября» → «25 ноября» (words2num2 leaves ordinals alone)."""
        day = _ORDINALS.get(self.lemma(match.group("ordinal").lower()))
        if day is None:
            return match.group(0)
        day += _TENS.get((match.group("tens") or "").lower(), 0)
        return f"{day} {match.group('month')}" if 1 <= day <= 31 else match.group(0)

    def entities(self, text: str) -> list[FoundEntity]:
        """Names, places, money, dates (natasha). The analyzer, the keyword index and masking all ask
        about the same turns: the model runs once per text (a bounded cache)."""
        return list(_cached_entities(self, text))

    def _entities(self, text: str) -> list[FoundEntity]:
        tools = self._natasha
        found: list[FoundEntity] = []
        doc = tools["doc"](text)
        doc.segment(tools["segmenter"])
        doc.tag_morph(tools["morph"])
        doc.tag_ner(tools["ner"])
        for span in doc.spans:
            if span.type in ("PER", "LOC"):
                span.normalize(tools["vocab"])  # nominative case: «Ирине Петровой» → «Ирина Петрова»
                value = span.normal or span.text
                found.append(
                    FoundEntity("person" if span.type == "PER" else "place", value, span.start, span.stop)
                )
        if not any(char.isdigit() for char in text):
            return found  # money and dates are written with digits once numbers are normalised
        for match in tools["money"](text):
            fact = match.fact
            amount = fact.amount
            value = str(int(amount)) if float(amount).is_integer() else str(amount)
            found.append(FoundEntity("money", f"{value} {fact.currency}", match.start, match.stop))
        for match in tools["dates"](text):
            fact = match.fact
            if fact.month and fact.day:
                value = f"{fact.month:02d}-{fact.day:02d}"
                found.append(
                    FoundEntity(
                        "date", f"{fact.year}-{value}" if fact.year else value, match.start, match.stop
                    )
                )
        return found

    def counted_noun(self, word: str) -> bool:
        """A noun (not a currency word) by pymorphy's best parse: «баллов», «шагов», «километров»."""
        if word.startswith(("руб", "доллар", "евро", "тысяч", "копе")):
            return False
        return _cached_pos(self._morph, word) == "NOUN"

    def names_to_mask(self, text: str) -> list[FoundEntity]:
        found = [e for e in self.entities(text) if e.type == "person"]
        for m in _INTRODUCTION.finditer(text):
            found.append(FoundEntity("person", m.group("name"), m.start("name"), m.end("name")))
        return found


#: Number words that may stand alone before «тысяч» (inverted «тысяч семь» = about 7000, «тысячи полторы»).
_SMALL = (
    r"(?:одна|одну|две|два|три|четыре|пять|шесть|семь|восемь|девять|десять|полторы|полтора"
    r"|двух|трех|трёх|четырех|четырёх|пяти|шести|семи|восьми|девяти|десяти)"
)
_NUMBER_WORD = (
    r"(?:ноль|нуль|один|одна|одну|два|две|три|четыре|пять|шесть|семь|восемь|девять|десять|[а-яё]+надцать"
    r"|двадцать|тридцать|сорок|пятьдесят|шестьдесят|семьдесят|восемьдесят|девяносто|сто|двести|триста"
    r"|четыреста|[а-яё]+сот|\d+)"
)
#: Slang and shorthand for a thousand: «тыща», «тыщу», «тыс.», «косарь», «косаря».
_SLANG_THOUSAND = (
    (re.compile(r"\bтыщ(?=[аиу]?\b)", re.IGNORECASE), "тысяч"),
    (re.compile(r"\bтыс\.?(?=\s|$)", re.IGNORECASE), "тысяч"),
    (re.compile(r"\bкосар(?:ь|ик)\b", re.IGNORECASE), "тысяча"),
    (re.compile(r"\bкосар(?:я|ика)\b", re.IGNORECASE), "тысячи"),
    (re.compile(r"\bкосар(?:ей|иков)\b", re.IGNORECASE), "тысяч"),
)
#: «тысяч семь», «тысячи полторы» (the number after the word: an estimate), not «две тысячи семь».
_INVERTED = re.compile(
    rf"\b(тысячи?)\s+({_SMALL}(?:\s*[-–]\s*{_SMALL})?)\b(?!\s+{_NUMBER_WORD}\b)",
    re.IGNORECASE,
)
#: Number words in an oblique case after a preposition: «до двадцати пяти», «в пределах сорока».
_OBLIQUE_WORD = (
    r"(?:[а-яё]+надцати|двадцати|тридцати|сорока|пятидесяти|шестидесяти|семидесяти|восьмидесяти"
    r"|девяноста|ста|двухсот|трехсот|трёхсот|четырехсот|четырёхсот|[а-яё]+сот)"
)
#: «тысяч на пятнадцать», «тысяч в сорок», «тысяч до двадцати пяти» (an estimate, the preposition
#: between): read as «на пятнадцать тысяч».
_INVERTED_PREPOSITION = re.compile(
    rf"\b(тысяч)\s+(на|в|до|за|под|около|от)\s+((?:{_NUMBER_WORD}|{_OBLIQUE_WORD}|{_SMALL})"
    rf"(?:\s+(?:{_NUMBER_WORD}|{_OBLIQUE_WORD}|{_SMALL}))?)\b(?!\s+(?:тысяч|{_NUMBER_WORD}\b))",
    re.IGNORECASE,
)
#: «миллион двести» (1 200 000), read by words2num2 as 1000200.
_MILLION_HUNDREDS = re.compile(
    r"\b(миллион[аов]*)\s+(сто|двести|триста|четыреста|[а-яё]+сот)\b(?!\s+[а-яё]*(?:тысяч|десят|дцать|сорок|девяносто|один|одна|два|две|три|четыре|пять|шесть|семь|восемь|девять))",
    re.IGNORECASE,
)
#: «семь-восемь тысяч»: a range of two number words joined by a dash.
_WORD_RANGE = re.compile(rf"\b({_SMALL}|{_NUMBER_WORD})-({_SMALL}|{_NUMBER_WORD})\b", re.IGNORECASE)
_HALF_THOUSAND = re.compile(r"\b(?:(\d{1,3}) с половиной|(полтор[аы]))\s+1000\b", re.IGNORECASE)
#: «от 5 до 7000», «7 - 8000»: the first number of a range of thousands is thousands too.
_THOUSANDS_RANGE = re.compile(r"\b(\d{1,3})(\s*[-–]\s*|\s+(?:до|или)\s+)(\d{1,3})000\b")
#: «восемьсот ноль семь» (807) read as «800 07».
_HUNDRED_ZERO = re.compile(r"\b([1-9])00 0([1-9])\b")


def _colloquial_thousands(text: str) -> str:
    """Before the words are read: slang thousands as «тысяч», «тысяч семь» as «семь тысяч», and a dash
    between two number words spaced out («семь-восемь» → «семь - восемь»)."""
    for pattern, word in _SLANG_THOUSAND:
        text = pattern.sub(word, text)

    def inverted(m: re.Match[str]) -> str:
        before = text[: m.start()].split()
        if before and re.fullmatch(_NUMBER_WORD, before[-1].lower()):
            return m.group(0)  # «две тысячи семь»: 2007
        return f"{m.group(2)} {m.group(1)}"

    text = _INVERTED.sub(inverted, text)

    def inverted_preposition(m: re.Match[str]) -> str:
        before = text[: m.start()].split()
        if before and re.fullmatch(rf"{_NUMBER_WORD}|{_OBLIQUE_WORD}|{_SMALL}", before[-1].lower()):
            return m.group(0)  # «пять тысяч за три дня»
        return f"{m.group(2)} {m.group(3)} {m.group(1)}"

    text = _INVERTED_PREPOSITION.sub(inverted_preposition, text)
    text = _MILLION_HUNDREDS.sub(lambda m: f"{m.group(1)} {m.group(2)} тысяч", text)
    return _WORD_RANGE.sub(lambda m: f"{m.group(1)} - {m.group(2)}", text)


def _amount_forms(text: str) -> str:
    """After: "5 and a half 1000" → 5500, «полторы 1000» → 1500, «7 - 8000» → 7000 and 8000 joined
    by an en dash (two numbers: that dash does not join digit groups), «800 07» → 807."""
    text = _HALF_THOUSAND.sub(lambda m: str(int(m.group(1)) * 1000 + 500 if m.group(1) else 1500), text)

    def thousands_range(m: re.Match[str]) -> str:
        low, high = int(m.group(1)), int(m.group(3))
        if low >= high:
            return m.group(0)
        sep = "–" if "-" in m.group(2) or "–" in m.group(2) else m.group(2)
        return f"{low}000{sep}{high}000"

    text = _THOUSANDS_RANGE.sub(thousands_range, text)
    return _HUNDRED_ZERO.sub(lambda m: f"{m.group(1)}0{m.group(2)}", text)


@lru_cache(maxsize=4096)
def _cached_entities(pack: Russian, text: str) -> tuple[FoundEntity, ...]:
    return tuple(pack._entities(text))
