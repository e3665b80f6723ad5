"""Metadata from file names, sidecars and S3 user metadata, and how they merge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from callsight.config import FREEPBX_FILENAME_PATTERN
from callsight.models.call import CallMetadata, Direction, MetadataSource
from callsight.stages.ingest.metadata import (
    MetadataError,
    MetadataFields,
    merge_metadata,
    parse_filename,
    parse_sidecar,
    parse_user_metadata,
    recording_stem,
    resolve_start_time,
    sidecar_keys_for,
)


@pytest.mark.parametrize(
    ("key", "direction", "agent", "customer", "queue"),
    [
        ("recordings/out-89161234567-201-20261120-101500-1763633700.12.wav", "outbound", "201", "89161234567", None),
        ("recordings/in-202-+14155550123-20261120-113000-1795174200.15.wav", "inbound", "202", "+14155550123", None),
        ("q-600-+79031234567-20261121-094500-1795254300.3.wav", "inbound", None, "+79031234567", "600"),
        ("external-15035550188-+12125550199-20261125-163000-1795624200.41.wav", "inbound", "15035550188",
         "+12125550199", None),
        ("a/b/exten-201-202-20261121-094500-1795254300.3.flac", "internal", "202", None, None),
    ],
)  # fmt: skip
def test_freepbx_names_give_direction_roles_and_time(
    key: str, direction: str, agent: str | None, customer: str | None, queue: str | None
) -> None:
    fields = parse_filename(key, FREEPBX_FILENAME_PATTERN, "UTC")
    assert fields.direction == Direction(direction)
    assert fields.agent_id == agent
    assert fields.customer_phone == customer
    assert fields.queue == queue
    assert fields.started_at is not None and fields.started_at.tzinfo is not None
    assert fields.pbx_call_id == recording_stem(key).rsplit("-", 1)[1]


def test_filename_time_is_read_in_the_pbx_timezone() -> None:
    fields = parse_filename("out-1-201-20261120-101500-1.1.wav", FREEPBX_FILENAME_PATTERN, "Europe/Moscow")
    assert fields.started_at == datetime(2026, 11, 20, 7, 15, tzinfo=UTC)


def test_unmatched_name_is_an_explicit_error_naming_the_pattern() -> None:
    with pytest.raises(
        MetadataError, match=r"does not match the filename pattern \(CALLSIGHT_FILENAME_PATTERN="
    ):
        parse_filename("recordings/meeting notes.wav", FREEPBX_FILENAME_PATTERN, "UTC")


def test_impossible_date_in_name_is_an_error_not_a_guess() -> None:
    with pytest.raises(MetadataError, match="impossible date"):
        parse_filename("out-1-201-20261341-101500-1.1.wav", FREEPBX_FILENAME_PATTERN, "UTC")


def test_custom_pattern_with_direct_groups() -> None:
    pattern = r"^(?P<team>[a-z]+)_(?P<agent>\d+)_(?P<customer>\+?\d+)_(?P<date>\d{8})(?P<time>\d{6})$"
    fields = parse_filename("sales_17_+74951234567_20261101093000.mp3", pattern, "UTC")
    assert (fields.team, fields.agent_id, fields.customer_phone) == ("sales", "17", "+74951234567")
    assert fields.started_at == datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


def test_stem_keeps_the_dot_of_the_uniqueid() -> None:
    assert (
        recording_stem("x/out-1-2-20261120-101500-1763633700.12.wav")
        == "out-1-2-20261120-101500-1763633700.12"
    )


def test_sidecar_locations() -> None:
    assert sidecar_keys_for("recordings/a.wav") == ("recordings/a.wav.json", "recordings/a.json")


def test_valid_sidecar() -> None:
    fields = parse_sidecar(
        b'{"agent_id": 204, "team": "sales-ru", "direction": "inbound", '
        b'"started_at": "2026-11-21T12:45:00+03:00", "language": "ru", "unknown_field": 1}',
        "k.json",
    )
    assert fields.agent_id == "204"
    assert fields.started_at == datetime(2026, 11, 21, 9, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "is not valid JSON"),
        (b"\xff\xfe\x00garbage", "is not valid JSON"),
        (b'["a", "list"]', "must be a JSON object"),
        (b'{"direction": "sideways"}', "direction"),
        (b'{"started_at": "2026-11-21T12:45:00"}', "needs a timezone offset"),
        (b'{"started_at": "yesterday"}', "started_at"),
        (b'{"agent_channel": "middle"}', "agent_channel"),
    ],
)
def test_malformed_sidecar_names_the_problem(raw: bytes, message: str) -> None:
    with pytest.raises(MetadataError, match=message):
        parse_sidecar(raw, "recordings/x.wav.json")


def test_user_metadata_skips_bad_values_with_a_warning() -> None:
    fields, warnings = parse_user_metadata({"agent-id": "301", "started-at": "not a date", "Team": "support"})
    assert fields.agent_id == "301"
    assert fields.team == "support"
    assert fields.started_at is None
    assert warnings == ["S3 user metadata started_at ignored: 'not a date' is not valid"]


def test_merge_first_source_wins_and_records_origin() -> None:
    merged = merge_metadata(
        [
            (MetadataSource.SIDECAR, MetadataFields(agent_id="204", language="ru")),
            (MetadataSource.USER_METADATA, MetadataFields(agent_id="999", team="support")),
            (MetadataSource.FILENAME, MetadataFields(agent_id="1", queue="600", direction=Direction.INBOUND)),
        ],
        warnings=["w"],
    )
    assert (merged.agent_id, merged.team, merged.queue, merged.language_hint) == (
        "204",
        "support",
        "600",
        "ru",
    )
    assert merged.sources == {
        "agent_id": MetadataSource.SIDECAR,
        "language_hint": MetadataSource.SIDECAR,
        "team": MetadataSource.USER_METADATA,
        "queue": MetadataSource.FILENAME,
        "direction": MetadataSource.FILENAME,
    }
    assert merged.warnings == ["w"]


def test_missing_start_time_falls_back_to_upload_time_and_says_so() -> None:
    uploaded = datetime(2026, 11, 20, 10, 0, tzinfo=timezone(timedelta(hours=3)))
    resolved = resolve_start_time(CallMetadata(), uploaded)
    assert resolved.started_at == uploaded
    assert resolved.sources["started_at"] is MetadataSource.UPLOAD_TIME
    assert "using the upload time" in resolved.warnings[-1]


def test_known_start_time_is_kept() -> None:
    known = datetime(2026, 1, 1, tzinfo=UTC)
    assert resolve_start_time(CallMetadata(started_at=known), datetime.now(UTC)).started_at == known
