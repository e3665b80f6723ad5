"""The analyzer on small hand-written calls: negation, metrics, entities, checkpoints, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from callsight.analysis.analyzer import Analyzer, TranscriptRejected
from callsight.models.transcript import Speaker

from tests.analysis_fixtures import build_transcript


def turns(*spec: tuple[str, float, float, str]) -> list[dict[str, Any]]:
    return [{"speaker": s, "start": a, "end": b, "text": t} for s, a, b, t in spec]


RU_PRICE = turns(
    ("agent", 0.0, 3.4, "Магазин Электроника, здравствуйте, меня зовут Антон. Чем могу помочь?"),
    ("customer", 3.9, 8.8, "Добрый день. Телевизор за сорок девять тысяч рублей, это слишком дорого."),
    ("agent", 9.3, 11.0, "Понимаю. Назовите номер заказа."),
    ("customer", 11.4, 14.0, "Номер заказа семь два ноль пять один."),
    ("agent", 25.0, 29.0, "До двадцать пятого ноября есть скидка. Я уточню цену и перезвоню."),
    ("customer", 29.4, 34.0, "Перезвоните на номер девять ноль три, один два три, четыре пять, шесть семь."),
    ("agent", 34.5, 36.0, "Хорошо. Спасибо за звонок!"),
)


def test_a_russian_price_complaint_with_a_callback(analyzer: Analyzer) -> None:
    result = analyzer.analyze(build_transcript(RU_PRICE, "ru", 2))
    assert set(result.tags) == {"price_complaint", "callback_request"}
    assert result.outcome == "callback" and result.refusal_reason is None
    assert result.checkpoints == {
        "greeting": True,
        "need_discovery": True,
        "presentation": True,
        "closing": True,
        "recording_notice": False,  # nobody said the call is recorded
    }
    values = {(e.type, e.value) for e in result.entities}
    assert {("money", "49000 RUB"), ("order_number", "72051"), ("phone", "+79031234567"), ("date", "11-25"),
            ("person", "Антон")} <= values  # fmt: skip
    phone = next(e for e in result.entities if e.type == "phone")
    assert phone.display == "+7903*****67" and phone.lookup_hash == "hash-of-4567" and phone.pii
    hit = next(h for h in result.keyword_hits if h.category == "price_complaint")
    assert (hit.speaker, hit.stage, hit.negated) == (Speaker.CUSTOMER, "middle", False)
    assert 3.9 <= hit.start <= 8.8
    assert result.sentiment.customer is not None and result.sentiment.customer < 0


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ru", "Нет, это совсем не дорого, цена нормальная."),
        ("ru", "Доставка не задержалась, всё пришло вовремя."),
        ("en", "It's not expensive at all, the price is fine."),
        ("en", "No need to call me back, thanks."),
        ("en", "I don't want to cancel anything."),
    ],
)
def test_negated_mentions_do_not_tag_the_call(analyzer: Analyzer, language: str, text: str) -> None:
    call = turns(
        ("agent", 0, 2, "Hello." if language == "en" else "Здравствуйте."), ("customer", 2.5, 7, text)
    )
    result = analyzer.analyze(build_transcript(call, language, 2))
    assert result.tags == [], [h.model_dump() for h in result.keyword_hits]
    assert all(h.negated for h in result.keyword_hits)


def test_a_negation_in_an_earlier_sentence_does_not_leak(analyzer: Analyzer) -> None:
    call = turns(("customer", 0, 5, "Not good enough. Have a manager call me back."))
    assert analyzer.analyze(build_transcript(call, "en", 2)).tags == ["callback_request"]


def test_speaker_restriction_holds_in_stereo_and_is_relaxed_in_mono(analyzer: Analyzer) -> None:
    agent_says_expensive = turns(
        ("agent", 0, 4, "Some people think it is too expensive."), ("customer", 4.5, 6, "Okay.")
    )
    assert "price_complaint" not in analyzer.analyze(build_transcript(agent_says_expensive, "en", 2)).tags
    mono = analyzer.analyze(build_transcript(agent_says_expensive, "en", 1))
    assert "price_complaint" in mono.tags
    assert any("not separated" in w for w in mono.warnings)


def test_talk_metrics_stereo(analyzer: Analyzer) -> None:
    call = turns(
        ("agent", 1.0, 5.0, "Hello thank you for calling how can I help you today"),
        ("customer", 4.0, 9.0, "My order is late and I am upset about it really"),
        ("agent", 21.0, 24.0, "Sorry for the wait I checked it"),
    )
    m = analyzer.analyze(build_transcript(call, "en", 2)).metrics
    assert m.time_to_first_agent_word_s == 1.0
    assert m.interruptions == 1 and m.agent_interruptions == 0
    assert m.overtalk_s is not None and 0.5 < m.overtalk_s <= 1.0
    assert m.longest_silence_s == pytest.approx(12.0, abs=0.1)
    assert m.short_call and m.unavailable == {}
    assert m.talk_listen_ratio is not None and 1.0 < m.talk_listen_ratio < 1.6
    assert m.words_per_minute > 100


def test_mono_metrics_say_what_is_missing(analyzer: Analyzer) -> None:
    call = turns(("agent", 0, 3, "Hello how can I help"), ("customer", 3.5, 6, "Cancel my order please"))
    m = analyzer.analyze(build_transcript(call, "en", 1)).metrics
    assert m.agent_talk_s is None and m.interruptions is None
    assert set(m.unavailable) == {
        "agent_talk_s", "customer_talk_s", "talk_listen_ratio", "overtalk_s", "interruptions",
        "agent_interruptions", "time_to_first_agent_word_s",
    }  # fmt: skip
    assert all("not separated" in reason for reason in m.unavailable.values())
    assert m.speech_s > 0 and m.words_per_minute > 0


def test_english_entities(analyzer: Analyzer) -> None:
    call = turns(
        ("agent", 0, 4, "Thanks for calling, this is Sarah. What's your order number?"),
        (
            "customer",
            4.5,
            12,
            "Order number four five seven one two. I paid eighty nine dollars on November twenty eighth.",
        ),
        (
            "customer",
            12.5,
            20,
            "My card is 4111 1111 1111 1111 and my email is john dot smith at gmail dot com.",
        ),
        ("customer", 20.5, 26, "Call me at four one five, five five five, zero one four seven."),
    )
    result = analyzer.analyze(build_transcript(call, "en", 2))
    values = {(e.type, e.value) for e in result.entities}
    assert {("order_number", "45712"), ("money", "89 USD"), ("date", "11-28"), ("card", "4111111111111111"),
            ("email", "john.smith@gmail.com"), ("phone", "+14155550147"), ("person", "Sarah")} <= values  # fmt: skip
    displays = {e.type: e.display for e in result.entities}
    assert displays["card"] == "**** **** **** 1111"
    assert displays["email"] == "j***@gmail.com"
    assert displays["person"] == "S***"


def test_a_card_number_failing_luhn_is_not_a_card(analyzer: Analyzer) -> None:
    call = turns(("customer", 0, 5, "The number is 4111 1111 1111 1112."))
    assert not [e for e in analyzer.analyze(build_transcript(call, "en", 2)).entities if e.type == "card"]


def test_empty_and_one_word_calls(analyzer: Analyzer) -> None:
    empty = analyzer.analyze(build_transcript([], "ru", 2))
    assert empty.no_speech and empty.language is None and empty.sentiment is None and empty.risk is None
    assert empty.tags == [] and empty.purpose is None and empty.outcome is None
    assert "no speech was recognised" in empty.warnings[0]
    assert empty.metrics.speech_s == 0 and empty.metrics.short_call
    one = analyzer.analyze(build_transcript(turns(("customer", 0.2, 0.8, "Алло?")), "ru", 2))
    assert one.tags == [] and one.outcome == "none" and one.metrics.short_call
    assert one.purpose == "consultation"


def test_an_unsupported_language_gets_metrics_and_says_what_was_skipped(analyzer: Analyzer) -> None:
    result = analyzer.analyze(build_transcript(turns(("customer", 0, 3, "Guten Tag, zu teuer!")), "de", 2))
    assert not result.language_supported and result.tags == [] and result.entities == []
    assert "not supported (supported: en, ru)" in result.warnings[0]
    assert result.metrics.speech_s > 0


@pytest.mark.parametrize("duration", [0.0, -5.0, float("nan"), 200_000.0])
def test_absurd_durations_are_rejected_with_a_reason(analyzer: Analyzer, duration: float) -> None:
    transcript = build_transcript(turns(("customer", 0, 3, "Hello")), "en", 2).model_copy(
        update={"duration_s": duration}
    )
    with pytest.raises(TranscriptRejected, match="not plausible"):
        analyzer.analyze(transcript)


def test_words_outside_the_call_are_rejected(analyzer: Analyzer) -> None:
    transcript = build_transcript(turns(("customer", 0, 3, "Hello")), "en", 2)
    broken = transcript.model_copy(update={"duration_s": 1.0})
    with pytest.raises(TranscriptRejected, match="outside the call"):
        analyzer.analyze(broken)


def test_risk_has_evidence(analyzer: Analyzer) -> None:
    call = turns(
        ("agent", 0, 3, "Hello, how can I help?"),
        ("customer", 3.5, 9, "This is terrible, I want to speak to your manager, I will file a complaint."),
        ("customer", 25, 30, "This is the worst service, absolutely unacceptable, I am furious."),
    )
    risk = analyzer.analyze(build_transcript(call, "en", 2)).risk
    assert risk.level in ("medium", "high") and risk.score >= 0.5
    assert any("trigger words" in e and "manager" in e for e in risk.evidence)
    assert any("long pause" in e for e in risk.evidence)
    assert any("customer sentiment" in e for e in risk.evidence)


def test_thousands_written_half_in_digits(analyzer: Analyzer) -> None:
    # Whisper writes «49 тысяч рублей»; words2num2 alone would read «тысяч» as a separate 1000.
    call = turns(("customer", 0, 4, "Телевизор за 49 тысяч рублей, это дорого."))
    money = [e.value for e in analyzer.analyze(build_transcript(call, "ru", 2)).entities if e.type == "money"]
    assert money == ["49000 RUB"]
