"""Where PII is in a transcript: one answer (``callsight.analysis.pii``) for the entity extractor, the
masked transcript, the audio bleeps and the keyword index — whatever separators Whisper wrote.

Transcripts are built from known words (never from a Whisper run): a piece written ``|.0`` is a word
Whisper glued to the one before (``space_before`` false), as it writes a dictated «9.0.3.1…».
"""

from __future__ import annotations

import re

import pytest
from callsight.analysis.analyzer import Analyzer
from callsight.analysis.languages import language_pack
from callsight.analysis.pii import pii_spans
from callsight.compliance.masking import mask_transcript
from callsight.compliance.policies import MaskingPolicy

from tests.analysis_fixtures import build_transcript, whisper_transcript, word_indices

RU_PHONE = "+79031234567"
#: (pieces of the customer's turn, the number's pieces): every way ASR writes «903 123 45 67».
RU_FORMS = [
    ("Перезвоните на номер 9 |.0 |.3 |.1 |.2 |.3 |.4 |.5 |.6 |.7.", "9 |.0 |.3 |.1 |.2 |.3 |.4 |.5 |.6 |.7."),
    ("Перезвоните на номер 9.0.3.1.2.3.4.5.6.7. Спасибо.", "9.0.3.1.2.3.4.5.6.7."),
    ("Мой номер 903-123-45-67, записали?", "903-123-45-67,"),
    ("Мой номер 903 |-123 |-45 |-67 записали?", "903 |-123 |-45 |-67"),
    ("Мой номер 9 0 3 1 2 3 4 5 6 7 спасибо", "9 0 3 1 2 3 4 5 6 7"),
    ("Мой номер 903, 123, 45, 67 спасибо", "903, 123, 45, 67"),
    ("Телефон девять ноль три, один два три, четыре пять, шесть семь.", "девять ноль три, один два три, четыре пять, шесть семь."),
    ("Телефон девятьсот три сто двадцать три сорок пять шестьдесят семь", "девятьсот три сто двадцать три сорок пять шестьдесят семь"),
    ("Телефон девять ноль три 1 2 3 сорок пять 67 спасибо", "девять ноль три 1 2 3 сорок пять 67"),
    ("Мой номер +7 (903) 123-45-67 спасибо", "+7 (903) 123-45-67"),
    ("Мой номер 8 903 123 45 67 спасибо", "8 903 123 45 67"),
    ("Мой номер плюс семь девятьсот три один два три сорок пять шестьдесят семь", "семь девятьсот три один два три сорок пять шестьдесят семь"),
]  # fmt: skip
EN_FORMS = [
    ("call me at four one five, five five five, zero one two three please", "four one five, five five five, zero one two three"),
    ("call me at four one five, five five five, oh one two three please", "four one five, five five five, oh one two three"),
    ("it's four one five double five five oh one two three", "four one five double five five oh one two three"),
    ("my number is 415-555-0123. Thanks", "415-555-0123."),
    ("my number is 415.555.0123 thanks", "415.555.0123"),
    ("my number is 4 |.1 |.5 |.5 |.5 |.5 |.0 |.1 |.2 |.3. Thanks", "4 |.1 |.5 |.5 |.5 |.5 |.0 |.1 |.2 |.3."),
    ("my number is (415) 555-0123 thanks", "(415) 555-0123"),
]  # fmt: skip
EN_PHONE = "+14155550123"


def check_phone(analyzer: Analyzer, text: str, said: str, language: str, expected: str) -> None:
    transcript = whisper_transcript([("agent", "Назовите номер." if language == "ru" else "Your number?"),
                                     ("customer", text)], language)  # fmt: skip
    pack = language_pack(language)
    assert pack is not None
    phone_words = word_indices(transcript, said)

    # the extractor finds it, and the one span function puts it on exactly these words
    analysis = analyzer.analyze(transcript)
    assert [e.value for e in analysis.entities if e.type == "phone"] == [expected], (text, analysis.entities)
    spans = [s for s in pii_spans(transcript, pack, "RU") if s.type == "phone"]
    assert [(s.first, s.last) for s in spans] == [(phone_words[0], phone_words[-1])], text

    # the masked transcript keeps no digit and no number word of it; the bleep covers every word
    masked, masked_spans = mask_transcript(transcript, pack, MaskingPolicy())
    for index in phone_words:
        assert masked.words[index].text == "[PHONE]", (text, masked.text)
    assert not re.search(r"\d", masked.text), masked.text
    [bleep] = [s for s in masked_spans if s.type == "phone"]
    said_words = [transcript.words[i] for i in phone_words]
    assert bleep.start <= said_words[0].start and bleep.end >= max(w.end for w in said_words)
    assert bleep.words == len(phone_words) and bleep.channel == said_words[0].channel
    assert "*" in bleep.display and expected[-2:] == bleep.display[-2:]


@pytest.mark.parametrize(("text", "said"), RU_FORMS, ids=[f[1][:24] for f in RU_FORMS])
def test_a_russian_phone_is_one_span_whatever_the_separators(
    analyzer: Analyzer, text: str, said: str
) -> None:
    check_phone(analyzer, text, said, "ru", RU_PHONE)


def test_a_number_said_in_english_is_read_in_the_configured_region_too(analyzer: Analyzer) -> None:
    said = "nine oh three, one two three, four five, six seven"
    check_phone(analyzer, f"my number is {said} thanks", said, "en", RU_PHONE)


@pytest.mark.parametrize(("text", "said"), EN_FORMS, ids=[f[1][:24] for f in EN_FORMS])
def test_an_english_phone_is_one_span_whatever_the_separators(
    analyzer: Analyzer, text: str, said: str
) -> None:
    check_phone(analyzer, text, said, "en", EN_PHONE)


def test_cards_emails_and_names_are_spans_on_the_words_that_said_them(analyzer: Analyzer) -> None:
    transcript = whisper_transcript(
        [
            ("agent", "Hello, my name is Laura Smith, how can I help?"),
            ("customer", "Card 4111 |-1111 |-1111 |-1111 and my email is john.doe@example.com, "
                         "or j dot doe at gmail dot com."),
        ],
        "en",
    )  # fmt: skip
    pack = language_pack("en")
    assert pack is not None
    spans = {(s.type, s.first, s.last) for s in pii_spans(transcript, pack, "RU")}
    texts = [w.text for w in transcript.words]
    laura, card, email = texts.index("Laura"), texts.index("4111"), texts.index("john.doe@example.com,")
    assert ("person", laura, laura + 1) in spans
    assert ("card", card, card + 3) in spans
    assert ("email", email, email) in spans
    spoken = texts.index("j")
    assert ("email", spoken, spoken + 6) in spans
    analysis = analyzer.analyze(transcript)
    assert {e.type for e in analysis.entities} >= {"person", "card", "email"}
    masked, _ = mask_transcript(transcript, pack, MaskingPolicy())
    for secret in ("Laura", "Smith", "4111", "1111", "john", "doe", "gmail"):
        assert secret not in masked.text, masked.text


def test_a_name_is_masked_wherever_it_is_said_again(analyzer: Analyzer) -> None:
    transcript = whisper_transcript(
        [("agent", "Здравствуйте, меня зовут Антон."), ("customer", "Антон, перезвоните мне завтра.")], "ru"
    )
    pack = language_pack("ru")
    assert pack is not None
    masked, spans = mask_transcript(transcript, pack, MaskingPolicy())
    assert "Антон" not in masked.text and [s.type for s in spans] == ["person", "person"]


def test_masking_a_masked_transcript_finds_the_same_spans() -> None:
    """A sweep resumed from the masked version (the unmasked one already deleted) must still bleep."""
    transcript = whisper_transcript(
        [("customer", "Меня зовут Антон, номер 9 |.0 |.3 |.1 |.2 |.3 |.4 |.5 |.6 |.7.")], "ru"
    )
    pack = language_pack("ru")
    masked, spans = mask_transcript(transcript, pack, MaskingPolicy())
    again, spans_again = mask_transcript(masked, pack, MaskingPolicy())
    assert again.text == masked.text
    assert [(s.type, s.start, s.end, s.words) for s in spans_again] == [
        (s.type, s.start, s.end, s.words) for s in spans
    ]


def test_amounts_dates_and_order_numbers_are_not_phones(analyzer: Analyzer) -> None:
    transcript = whisper_transcript(
        [
            (
                "customer",
                "Номер заказа 7 |.2 |.0 |.5 |.1. Телевизор за сорок девять тысяч, доставка 25.11.2026.",
            )
        ],
        "ru",
    )
    pack = language_pack("ru")
    assert pack is not None
    assert [s.type for s in pii_spans(transcript, pack, "RU")] == []
    masked, _ = mask_transcript(transcript, pack, MaskingPolicy())
    assert masked.text == transcript.text
    masked, spans = mask_transcript(transcript, pack, MaskingPolicy(mask_order_numbers=True))
    assert [s.type for s in spans] == ["order_number"] and "7" not in masked.text.split("Телевизор")[0]


@pytest.mark.parametrize(
    ("language", "turns", "secrets", "kept"),
    [
        (
            "ru",
            [("agent", "Здравствуйте, меня зовут Антон, как вас зовут?"),
             ("customer", "Людмила. Перезвоните на номер девять ноль три, один два три, четыре пять, шесть семь."),
             ("agent", "Хорошо, Людмила, перезвоню.")],
            ["Антон", "Людмила", "девять", "ноль", "три", "один", "два", "четыре", "пять", "шесть", "семь"],
            ["перезвоните", "номер", "здравствуйте"],
        ),
        (
            "en",
            [("agent", "Hello, my name is Laura Smith, how can I help?"),
             ("customer", "Call me back at four one five, five five five, oh one two three, or email "
                          "john dot doe at gmail dot com. Thanks Laura.")],
            ["Laura", "Smith", "four", "one", "five", "two", "three", "john", "doe", "gmail"],
            ["call", "back", "help", "email"],
        ),
    ],
)  # fmt: skip
def test_no_pii_term_is_indexed_for_search(
    analyzer: Analyzer, language: str, turns: list[tuple[str, str]], secrets: list[str], kept: list[str]
) -> None:
    transcript = whisper_transcript(turns, language)
    pack = language_pack(language)
    assert pack is not None
    terms = analyzer.search_terms(transcript, analyzer.analyze(transcript))
    for word in secrets:
        assert f"{language}#{pack.stem(pack.fold(word))}" not in terms, word
    for word in kept:
        assert f"{language}#{pack.stem(pack.fold(word))}" in terms, word


@pytest.mark.parametrize("channels", [1, 2])
def test_a_number_a_pause_split_into_two_turns_is_one_span(analyzer: Analyzer, channels: int) -> None:
    """Dictating in groups: a pause (0.4 s mono, 1 s stereo) ends a turn mid-number; neither part alone
    has the digits of a phone."""
    turns = [
        {"speaker": "agent", "start": 0.0, "end": 1.5, "text": "Назовите номер."},
        {"speaker": "customer", "start": 2.0, "end": 4.0, "text": "Девять ноль три, один два три,"},
        {"speaker": "customer", "start": 5.2, "end": 7.0, "text": "сорок пять, шестьдесят семь."},
        {"speaker": "customer", "start": 9.0, "end": 10.0, "text": "Двадцать пять лет."},
    ]
    transcript = build_transcript(turns, "ru", channels)
    assert len(transcript.turns) >= 3
    pack = language_pack("ru")
    assert pack is not None
    number = word_indices(transcript, "Девять ноль три, один два три, сорок пять, шестьдесят семь.")
    spans = [s for s in pii_spans(transcript, pack, "RU") if s.type == "phone"]
    assert [(s.first, s.last) for s in spans] == [(number[0], number[-1])]
    masked, _ = mask_transcript(transcript, pack, MaskingPolicy())
    assert [masked.words[i].text for i in number] == ["[PHONE]"] * len(number)
    assert "Двадцать пять лет" in masked.text  # the next sentence, 2 s later, is not part of it
    terms = analyzer.search_terms(transcript, analyzer.analyze(transcript))
    assert not {"ru#девя", "ru#сорок", "ru#шестьдесят"} & set(terms)


@pytest.mark.parametrize(
    ("language", "agent", "named", "unnamed"),
    [
        ("ru", "Здравствуйте, меня зовут Антон.", "А антон сможет перезвонить мне завтра?",
         "А менеджер сможет перезвонить мне завтра?"),
        ("en", "Hello, my name is Laura Smith.", "Can laura call me back tomorrow please?",
         "Can the manager call me back tomorrow please?"),
    ],
)  # fmt: skip
def test_a_question_that_names_someone_is_not_reported(
    analyzer: Analyzer, language: str, agent: str, named: str, unnamed: str
) -> None:
    """The weekly report's customer questions (QA reads them) carry no name, even one the name finder
    only knows from elsewhere in the call."""
    transcript = whisper_transcript([("agent", agent), ("customer", named)], language)
    assert analyzer.analyze(transcript).customer_questions == []
    transcript = whisper_transcript([("agent", agent), ("customer", unnamed)], language)
    assert [q.text for q in analyzer.analyze(transcript).customer_questions] == [unnamed.lower()]
