"""The recording-notice checkpoint (the agent or the IVR told the caller the call is recorded) and
its alert: phrases and paraphrases, negations, speakers, the time window, mono calls, and the
per-deployment switch that turns the alert off."""

from __future__ import annotations

from typing import Any

import pytest
from callsight.analysis.alerts import enabled_alerts, tripped_alerts
from callsight.analysis.analyzer import Analyzer
from callsight.analysis.rules import RuleFileError, load_rules, parse_rules
from callsight.models.transcript import LanguageInfo, LanguageSource

from tests.analysis_fixtures import build_transcript


def call(first: str, language: str, channels: int = 2, speaker: str = "agent", at: float = 0.0) -> Any:
    """A short call whose first turn (``speaker``, from ``at`` seconds) is ``first``."""
    other = "customer" if speaker == "agent" else "agent"
    reply = {"en": "Hi, I have a question about my order.", "ru": "Здравствуйте, у меня вопрос по заказу."}
    return build_transcript(
        [
            {"speaker": speaker, "start": at, "end": at + 5.0, "text": first},
            {"speaker": other, "start": at + 5.5, "end": at + 9.0, "text": reply[language]},
        ],
        language,
        channels,
    )


NOTICES = [
    ("en", "This call may be recorded for quality and training purposes. My name is Ann."),
    ("en", "Thank you for calling. Your call will be recorded."),
    ("en", "Please note that all calls are monitored and recorded. How can I help?"),  # paraphrase
    ("en", "You are on a recorded line. How can I help?"),  # paraphrase
    ("en", "Just so you know, this conversation is being recorded."),  # paraphrase
    ("ru", "В целях контроля качества звонок может быть записан. Здравствуйте!"),
    ("ru", "Здравствуйте, разговор записывается. Чем могу помочь?"),
    ("ru", "Обращаем ваше внимание: все разговоры записываются."),  # paraphrase
    ("ru", "Ведётся запись разговора. Добрый день."),  # paraphrase
    ("ru", "Ваш звонок будет записан для улучшения качества обслуживания."),  # paraphrase
]
NOT_NOTICES = [
    ("en", "Hello, this call is not recorded. How can I help?"),  # negation
    ("en", "Good morning. We do not record calls here."),  # negation
    ("en", "Hello, my name is Ann. How can I help?"),
    ("en", "I have recorded your address. Anything else?"),  # 'record' about something else
    ("ru", "Здравствуйте, разговор не записывается."),  # negation
    ("ru", "Здравствуйте, мы не записываем разговоры."),  # negation
    ("ru", "Здравствуйте, запись разговора не ведётся."),  # negation after the phrase
    ("ru", "Могу записать вас в лист ожидания."),  # «записать» about a waiting list
    ("ru", "Здравствуйте, чем могу помочь?"),
]


@pytest.mark.parametrize(("language", "text"), NOTICES)
def test_a_recording_notice_is_found(analyzer: Analyzer, language: str, text: str) -> None:
    assert analyzer.analyze(call(text, language)).checkpoints["recording_notice"] is True


@pytest.mark.parametrize(("language", "text"), NOT_NOTICES)
def test_no_notice_and_negated_notices_do_not_count(analyzer: Analyzer, language: str, text: str) -> None:
    assert analyzer.analyze(call(text, language)).checkpoints["recording_notice"] is False


@pytest.mark.parametrize(
    ("language", "notice", "denial"),
    [
        ("en", "This call may be recorded.", "Actually, this call is not being recorded."),
        ("ru", "Разговор может быть записан.", "Вообще-то разговор не записывается."),
    ],
)
def test_the_agent_saying_it_is_not_recorded_clears_the_checkpoint(
    analyzer: Analyzer, language: str, notice: str, denial: str
) -> None:
    transcript = call(f"{notice} {denial}", language)
    assert analyzer.analyze(transcript).checkpoints["recording_notice"] is False


@pytest.mark.parametrize(
    ("language", "text"),
    [("en", "Is this call being recorded?"), ("en", "Are you recording this call?"),
     ("ru", "Скажите, разговор записывается? Мне важно.")],
)  # fmt: skip
def test_a_customer_asking_is_not_a_notice_in_stereo(analyzer: Analyzer, language: str, text: str) -> None:
    transcript = call(text, language, speaker="customer")
    assert analyzer.analyze(transcript).checkpoints["recording_notice"] is False


@pytest.mark.parametrize(("language", "text"), [NOTICES[0], NOTICES[5]])
def test_mono_calls_count_the_notice_from_any_speech(analyzer: Analyzer, language: str, text: str) -> None:
    """A mono recording has speaker ``unknown``: the IVR's or agent's notice counts wherever it is."""
    analysis = analyzer.analyze(call(text, language, channels=1))
    assert analysis.checkpoints["recording_notice"] is True
    assert any("speakers are not separated" in w for w in analysis.warnings)


def test_the_notice_must_come_in_the_first_minute(analyzer: Analyzer) -> None:
    late = call("This call may be recorded for quality and training purposes.", "en", at=75.0)
    assert analyzer.analyze(late).checkpoints["recording_notice"] is False


# --- the alert -------------------------------------------------------------------------------------


def test_a_missing_notice_trips_the_alert_and_a_given_one_does_not(analyzer: Analyzer) -> None:
    missing = analyzer.analyze(call("Hello, my name is Ann. How can I help?", "en"))
    given = analyzer.analyze(call(NOTICES[0][1], "en"))
    assert [t.rule.id for t in tripped_alerts(analyzer.rules, missing)] == ["recording_notice_missing"]
    assert [t.reason for t in tripped_alerts(analyzer.rules, missing)] == [
        "checkpoint recording_notice not met"
    ]
    assert tripped_alerts(analyzer.rules, given) == []


def test_a_call_whose_checkpoints_were_not_checked_does_not_alert(analyzer: Analyzer) -> None:
    german = analyzer.analyze(
        call("Guten Tag, wie kann ich helfen?", "en").model_copy(
            update={"language": LanguageInfo(code="de", probability=0.9, source=LanguageSource.DETECTED)}
        )
    )
    assert german.checkpoints == {} and not german.language_supported
    assert tripped_alerts(analyzer.rules, german) == []


def test_the_alert_can_be_turned_off_per_deployment(analyzer: Analyzer) -> None:
    missing = analyzer.analyze(call("Hello, my name is Ann. How can I help?", "en"))
    rules = enabled_alerts(analyzer.rules, frozenset({"recording_notice_missing"}))
    assert tripped_alerts(rules, missing) == []
    assert "recording_notice" in missing.checkpoints  # the checkpoint is still reported
    assert {a.id for a in rules.alerts} == {a.id for a in analyzer.rules.alerts} - {
        "recording_notice_missing"
    }


def test_turning_off_an_unknown_alert_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="recording_notice_mising"):
        enabled_alerts(load_rules(), frozenset({"recording_notice_mising"}))


def test_an_alert_on_an_unknown_checkpoint_is_refused_with_its_line() -> None:
    text = (
        "version: t\nrules:\n  - id: hello\n    kind: checkpoint\n    any: [{phrases: [hello]}]\n"
        "alerts:\n  - id: x\n    when: {checkpoint_missing: helo}\n"
    )
    with pytest.raises(RuleFileError, match=r"<rules>:8: alert 'x' watches unknown checkpoint 'helo'"):
        parse_rules(text)
