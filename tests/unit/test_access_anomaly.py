"""Access-anomaly rules (``callsight.compliance.access_anomaly``) on hand-made audit entries: the
volume baseline and its floor, a principal with no history, reads out of hours across time zones and
DST, night shifts, denials, an empty log, what counts as a read, and what an alert may say."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from callsight.compliance.access_anomaly import (
    AccessRules,
    AccessRulesError,
    Baseline,
    Window,
    baselines,
    calls_touched,
    detect,
    parse_working_days,
    parse_working_hours,
    profile,
    window_before,
)
from callsight.compliance.audit import GENESIS, AuditEntry
from callsight.config import Settings

# Thursday 2026-12-03, 13:00-14:00 UTC; working hours 08:00-20:00 UTC Monday to Friday.
WINDOW = Window(datetime(2026, 12, 3, 13, tzinfo=UTC), datetime(2026, 12, 3, 14, tzinfo=UTC))
RULES = AccessRules(volume_floor=50, volume_factor=5, baseline_days=14, denials_threshold=3)


def entry(
    actor: str,
    at: datetime,
    action: str = "call.read",
    outcome: str = "ok",
    role: str = "qa",
    **details: Any,
) -> AuditEntry:
    return AuditEntry(
        chain_id=f"{at.date()}#0", seq=1, at=at, actor=actor, role=role, action=action, target="call:x",
        outcome=outcome, details=details, prev_hash=GENESIS,
    )  # fmt: skip


def reads(actor: str, n: int, start: datetime, role: str = "qa") -> list[AuditEntry]:
    return [entry(actor, start + timedelta(seconds=10 * i), role=role) for i in range(n)]


def history_of(entries: list[AuditEntry], rules: AccessRules = RULES) -> dict[str, Baseline]:
    return baselines([profile(entries, rules)], WINDOW, rules)


def rules_of(findings: list[Any]) -> list[tuple[str, str]]:
    return [(f.rule, f.principal) for f in findings]


# --- volume ----------------------------------------------------------------------------------------


def test_far_more_than_the_principals_own_baseline_is_flagged() -> None:
    # Given: anna read 20 calls an hour on each of the last 10 working days ...
    past = [e for d in range(1, 11) for e in reads("anna", 20, WINDOW.start - timedelta(days=d))]
    # ... and reads 120 now (6x her mean of 20, over the floor of 50)
    now = reads("anna", 120, WINDOW.start)
    [finding] = detect(WINDOW, now, history_of(past), RULES)
    assert (finding.rule, finding.principal, finding.count) == ("volume", "anna", 120)
    assert finding.baseline == 20 and finding.history_windows == 10 and finding.threshold == 100
    assert finding.window_start == WINDOW.start and finding.window_end == WINDOW.end
    assert finding.actions == {"call.read": 120}


def test_a_busy_principal_at_its_usual_volume_is_not_flagged() -> None:
    past = [e for d in range(1, 11) for e in reads("crm", 400, WINDOW.start - timedelta(days=d), role="crm")]
    assert detect(WINDOW, reads("crm", 450, WINDOW.start, role="crm"), history_of(past), RULES) == []


def test_the_floor_keeps_small_numbers_quiet_even_far_above_baseline() -> None:
    past = [e for d in range(1, 6) for e in reads("bob", 2, WINDOW.start - timedelta(days=d))]
    assert detect(WINDOW, reads("bob", 40, WINDOW.start), history_of(past), RULES) == []  # 20x, under 50


def test_a_principal_with_no_history_is_held_to_the_floor() -> None:
    assert detect(WINDOW, reads("new", 49, WINDOW.start), {}, RULES) == []
    [finding] = detect(WINDOW, reads("new", 50, WINDOW.start), {}, RULES)
    assert finding.baseline == 0 and finding.history_windows == 0 and finding.threshold == 50
    assert "no history in the last 14 days" in finding.detail


def test_the_baseline_is_the_days_before_the_window_only() -> None:
    too_old = reads("anna", 500, WINDOW.start - timedelta(days=15))  # outside the 14 days
    the_window = reads("anna", 60, WINDOW.start)  # the window is not its own baseline
    earlier_today = reads("anna", 10, WINDOW.start - timedelta(hours=2))
    history = history_of(too_old + the_window + earlier_today)
    assert history["anna"].windows == [10]
    [finding] = detect(WINDOW, the_window, history, RULES)
    assert finding.threshold == 50  # max(floor 50, 5 x 10)


def test_listings_searches_feeds_and_exports_count_the_calls_they_returned() -> None:
    assert calls_touched(entry("a", WINDOW.start, "calls.list", returned=25)) == 25
    assert calls_touched(entry("a", WINDOW.start, "search", returned=7)) == 7
    assert calls_touched(entry("a", WINDOW.start, "feed.read", returned=50)) == 50
    assert calls_touched(entry("a", WINDOW.start, "report.weekly.export", calls=300)) == 300
    assert calls_touched(entry("a", WINDOW.start, "transcript.read")) == 1
    assert calls_touched(entry("a", WINDOW.start, "audio.url")) == 1
    # not reads: a denied read, a not-found id, a stats read, an admin action, a malformed count
    assert calls_touched(entry("a", WINDOW.start, "call.read", outcome="denied")) == 0
    assert calls_touched(entry("a", WINDOW.start, "call.read", outcome="not_found")) == 0
    assert calls_touched(entry("a", WINDOW.start, "stats.read")) == 0
    assert calls_touched(entry("a", WINDOW.start, "legal_hold.set")) == 0
    assert calls_touched(entry("a", WINDOW.start, "calls.list", returned="many")) == 0
    exports = [entry("eve", WINDOW.start + timedelta(minutes=5), "feed.read", role="crm", returned=50)] * 2
    [finding] = detect(WINDOW, exports, {}, RULES)
    assert (finding.rule, finding.count, finding.actions) == ("volume", 100, {"feed.read": 2})


# --- out of hours ----------------------------------------------------------------------------------


def test_a_read_at_night_is_flagged_and_the_crm_client_and_system_are_not() -> None:
    night = Window(datetime(2026, 12, 3, 2, tzinfo=UTC), datetime(2026, 12, 3, 3, tzinfo=UTC))
    entries = [
        entry("anna", night.start + timedelta(minutes=3)),
        entry("crm-client", night.start + timedelta(minutes=4), "feed.read", role="crm", returned=5),
        entry("retention-sweep", night.start + timedelta(minutes=5), "retention.sweep", role="system"),
    ]
    findings = detect(night, entries, {}, RULES)
    assert rules_of(findings) == [("out_of_hours", "anna")]
    assert findings[0].count == 1 and "08:00-20:00" in findings[0].detail


def test_weekends_are_out_of_hours() -> None:
    saturday = Window(datetime(2026, 12, 5, 11, tzinfo=UTC), datetime(2026, 12, 5, 12, tzinfo=UTC))
    assert rules_of(detect(saturday, [entry("anna", saturday.start)], {}, RULES)) == [
        ("out_of_hours", "anna")
    ]


@pytest.mark.parametrize(
    ("timezone", "at", "working"),
    [
        ("Europe/Moscow", datetime(2026, 12, 3, 4, 30, tzinfo=UTC), False),  # 07:30 MSK
        ("Europe/Moscow", datetime(2026, 12, 3, 5, 30, tzinfo=UTC), True),  # 08:30 MSK
        ("Europe/Moscow", datetime(2026, 12, 3, 17, 30, tzinfo=UTC), False),  # 20:30 MSK
        ("Asia/Kolkata", datetime(2026, 12, 3, 2, 45, tzinfo=UTC), True),  # 08:15 IST (+05:30)
        ("America/Los_Angeles", datetime(2026, 12, 4, 3, 0, tzinfo=UTC), True),  # Thu 19:00 PST, UTC says Fri
        ("America/Los_Angeles", datetime(2026, 12, 5, 17, 0, tzinfo=UTC), False),  # Sat 09:00 PST
        # DST: New York springs forward on 2026-03-08. 12:30 UTC is 07:30 EST before, 08:30 EDT after.
        ("America/New_York", datetime(2026, 3, 6, 12, 30, tzinfo=UTC), False),
        ("America/New_York", datetime(2026, 3, 9, 12, 30, tzinfo=UTC), True),
        # ... and falls back on 2026-11-01: 00:30 UTC on Oct 30 is 20:30 EDT, on Nov 3 19:30 EST.
        ("America/New_York", datetime(2026, 10, 30, 0, 30, tzinfo=UTC), False),
        ("America/New_York", datetime(2026, 11, 3, 0, 30, tzinfo=UTC), True),
        # Europe/Berlin changes on 2026-03-29: 06:30 UTC is 07:30 CET on Friday the 27th, 08:30 CEST on Monday the 30th.
        ("Europe/Berlin", datetime(2026, 3, 27, 6, 30, tzinfo=UTC), False),
        ("Europe/Berlin", datetime(2026, 3, 30, 6, 30, tzinfo=UTC), True),
    ],
)
def test_working_time_is_read_in_the_tenants_time_zone(timezone: str, at: datetime, working: bool) -> None:
    rules = RULES.model_copy(update={"timezone": timezone})
    assert rules.is_working_time(at) is working
    window = window_before(at + timedelta(hours=1), rules, settle=timedelta(0))
    found = rules_of(detect(window, [entry("anna", at)], {}, rules))
    assert found == ([] if working else [("out_of_hours", "anna")])


def test_a_night_shift_over_midnight_belongs_to_the_day_it_started() -> None:
    start, end = parse_working_hours("22:00-06:00")
    rules = RULES.model_copy(update={"work_start": start, "work_end": end})  # Monday-Friday nights
    assert rules.is_working_time(datetime(2026, 12, 4, 23, tzinfo=UTC))  # Friday 23:00
    assert rules.is_working_time(datetime(2026, 12, 5, 3, tzinfo=UTC))  # Saturday 03:00: Friday's shift
    assert not rules.is_working_time(datetime(2026, 12, 5, 23, tzinfo=UTC))  # Saturday night: no shift
    assert not rules.is_working_time(datetime(2026, 12, 3, 12, tzinfo=UTC))  # Thursday noon


def test_out_of_hours_needs_the_configured_number_of_reads() -> None:
    night = Window(datetime(2026, 12, 3, 2, tzinfo=UTC), datetime(2026, 12, 3, 3, tzinfo=UTC))
    rules = RULES.model_copy(update={"out_of_hours_min_reads": 3})
    assert detect(night, reads("anna", 2, night.start), {}, rules) == []
    assert rules_of(detect(night, reads("anna", 3, night.start), {}, rules)) == [("out_of_hours", "anna")]


# --- denials ---------------------------------------------------------------------------------------


def test_repeated_denials_by_one_principal_are_flagged() -> None:
    denied = [
        entry("mallory", WINDOW.start + timedelta(minutes=i), "call.read", "denied", role="agent")
        for i in range(3)
    ]
    other = [entry("anna", WINDOW.start, "admin.policies", "denied")] * 2  # two: under the threshold
    [finding] = detect(WINDOW, denied + other, {}, RULES)
    assert (finding.rule, finding.principal, finding.role, finding.count) == (
        "denials",
        "mallory",
        "agent",
        3,
    )
    assert finding.actions == {"call.read": 3}


def test_entries_outside_the_window_and_an_empty_log_find_nothing() -> None:
    assert detect(WINDOW, [], {}, RULES) == []
    outside = [entry("m", WINDOW.end + timedelta(seconds=1), "call.read", "denied")] * 5
    assert detect(WINDOW, outside, {}, RULES) == []
    assert profile([], RULES) == {} and baselines([], WINDOW, RULES) == {}


def test_several_rules_and_principals_come_sorted_and_keyed_per_window() -> None:
    entries = reads("zed", 60, WINDOW.start) + [
        entry("amy", WINDOW.start, "call.read", "denied") for _ in range(3)
    ] + [entry("zed", WINDOW.start, "call.read", "denied") for _ in range(3)]  # fmt: skip
    findings = detect(WINDOW, entries, {}, RULES)
    assert rules_of(findings) == [("denials", "amy"), ("denials", "zed"), ("volume", "zed")]
    keys = {f.key() for f in findings}
    assert len(keys) == 3 and all(WINDOW.start.isoformat() in k for k in keys)


def test_an_alert_carries_counts_and_actions_but_no_target_or_details() -> None:
    secret = entry("anna", WINDOW.start, "search", returned=60, terms=["+79031234567", "Иванов"])
    [finding] = detect(WINDOW, [secret], {}, RULES)
    text = finding.model_dump_json()
    assert "79031234567" not in text and "Иванов" not in text and "call:x" not in text
    assert finding.count == 60


# --- windows and settings --------------------------------------------------------------------------


def test_the_checked_window_is_the_last_whole_one_before_the_schedule() -> None:
    assert window_before(datetime(2026, 12, 3, 14, 5, tzinfo=UTC), RULES) == WINDOW
    assert window_before(datetime(2026, 12, 3, 14, 1, tzinfo=UTC), RULES).end == datetime(
        2026, 12, 3, 13, tzinfo=UTC
    )
    quarter = RULES.model_copy(update={"window_minutes": 15})
    assert window_before(datetime(2026, 12, 3, 14, 20, tzinfo=UTC), quarter) == Window(
        datetime(2026, 12, 3, 14, 0, tzinfo=UTC), datetime(2026, 12, 3, 14, 15, tzinfo=UTC)
    )
    midnight = window_before(datetime(2026, 12, 4, 0, 5, tzinfo=UTC), RULES)
    assert (midnight.start, midnight.end) == (
        datetime(2026, 12, 3, 23, tzinfo=UTC),
        datetime(2026, 12, 4, tzinfo=UTC),
    )


def test_rules_come_from_the_settings() -> None:
    settings = Settings(
        access_timezone="Europe/Moscow", access_working_hours="09:30-18:00", access_working_days="sun-thu",
        access_out_of_hours_roles="admin, qa", access_volume_floor=10,
    )  # fmt: skip
    rules = AccessRules.from_settings(settings)
    assert (rules.work_start, rules.work_end) == (time(9, 30), time(18, 0))
    assert rules.work_days == {6, 0, 1, 2, 3} and rules.out_of_hours_roles == {"admin", "qa"}
    assert rules.timezone == "Europe/Moscow" and rules.volume_floor == 10
    defaults = AccessRules.from_settings(Settings())
    assert (defaults.volume_floor, defaults.volume_factor, defaults.baseline_days) == (200, 5.0, 14)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("access_working_hours", "8-20", "expected HH:MM-HH:MM"),
        ("access_working_hours", "09:00-09:00", "not a range"),
        ("access_working_days", "monday-friday", "expected days such as mon-fri"),
    ],
)
def test_bad_working_time_settings_are_refused_with_the_variable_named(
    field: str, value: str, message: str
) -> None:
    with pytest.raises(AccessRulesError, match=message) as error:
        AccessRules.from_settings(Settings.model_validate({field: value}))
    assert f"CALLSIGHT_{field.upper()}" in str(error.value)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("access_timezone", "Mars/Olympus", "not an IANA time zone"),
        ("access_window_minutes", 50, "does not divide"),
    ],
)
def test_bad_zone_or_window_stops_the_settings(field: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.model_validate({field: value})


def test_working_days_ranges_wrap_the_week() -> None:
    assert parse_working_days("fri-mon") == {4, 5, 6, 0}
    assert parse_working_days("mon,wed, fri") == {0, 2, 4}
