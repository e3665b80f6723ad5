"""Settings: a misspelt ``CALLSIGHT_*`` variable stops start-up (it would otherwise be silently
ignored), and the README's Configuration table is exactly what the code defines."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from callsight.config import (
    TOOLING_VARIABLES,
    Settings,
    UnknownSetting,
    check_environment,
    get_settings,
    reset_settings,
    setting_variables,
    settings_markdown,
)

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    reset_settings()
    yield
    reset_settings()


def test_every_setting_and_its_alias_is_a_known_variable() -> None:
    known = setting_variables()
    assert known["CALLSIGHT_ASR_MODEL"] == "asr_model"
    assert known["CALLSIGHT_DYNAMODB_ENDPOINT"] == "dynamodb_endpoint"
    assert len(known) == len(Settings.model_fields)  # AWS_ENDPOINT_URL_DYNAMODB is AWS's, not ours
    check_environment({"CALLSIGHT_ASR_MODEL": "base", "AWS_ENDPOINT_URL_DYNAMODB": "x", "PATH": "/bin"})


def test_a_misspelt_variable_is_refused_with_the_closest_setting() -> None:
    with pytest.raises(UnknownSetting) as refused:
        check_environment({"CALLSIGHT_ASR_MODLE": "small", "CALLSIGHT_REGION": "eu-west-1"})
    assert "CALLSIGHT_ASR_MODLE (did you mean CALLSIGHT_ASR_MODEL?)" in str(refused.value)
    assert "README" in str(refused.value)


def test_every_unknown_variable_is_named_and_a_name_far_from_any_setting_gets_no_guess() -> None:
    with pytest.raises(UnknownSetting) as refused:
        check_environment({"CALLSIGHT_PBX_TIMEZON": "UTC", "CALLSIGHT_SOMETHING_ELSE": "1"})
    message = str(refused.value)
    assert "CALLSIGHT_PBX_TIMEZON (did you mean CALLSIGHT_PBX_TIMEZONE?)" in message
    assert re.search(r"CALLSIGHT_SOMETHING_ELSE(?! \(did)", message)


def test_lower_case_names_are_matched_as_pydantic_reads_them() -> None:
    check_environment({"callsight_region": "eu-west-1"})
    with pytest.raises(UnknownSetting):
        check_environment({"callsight_regoin": "eu-west-1"})


def test_the_test_suites_own_variables_are_allowed() -> None:
    check_environment(dict.fromkeys(TOOLING_VARIABLES, "x"))


def test_start_up_fails_on_a_misspelt_variable(monkeypatch: pytest.MonkeyPatch, fresh_settings: None) -> None:
    monkeypatch.setenv("CALLSIGHT_IDEMPOTENCY_TTL", "60")
    with pytest.raises(UnknownSetting, match="did you mean CALLSIGHT_IDEMPOTENCY_TTL_S"):
        get_settings()
    monkeypatch.delenv("CALLSIGHT_IDEMPOTENCY_TTL")
    monkeypatch.setenv("CALLSIGHT_IDEMPOTENCY_TTL_S", "60")
    assert get_settings().idempotency_ttl_s == 60


def test_every_setting_says_what_it_does() -> None:
    undocumented = [name for name, field in Settings.model_fields.items() if not field.description]
    assert undocumented == []


def test_the_readme_table_is_the_settings() -> None:
    text = README.read_text(encoding="utf-8")
    table = text.split("<!-- settings:start -->\n", 1)[1].split("<!-- settings:end -->", 1)[0]
    assert table == settings_markdown(), (
        "README's Configuration table is stale: paste `python -m callsight.config`"
    )
