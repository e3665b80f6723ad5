"""Sidecar JSON fuzzing: whatever a sidecar holds, its recording becomes exactly one call — RECEIVED
with the sidecar's fields (and warnings where another source had to fill in) or QUARANTINED with
``sidecar_invalid`` and the reason — and never an ingest failure that would retry into the DLQ.

The parser is fuzzed alone first (fast, many examples): it returns fields that the calls table can
store (text non-empty and bounded, since ``agent_id`` is a DynamoDB index key; a start time that
converts to UTC and leaves room for retention) or raises :class:`MetadataError`; then the real
ingest handler runs on the emulator with a fuzzed sidecar beside a valid recording.
"""

from __future__ import annotations

import uuid
from datetime import UTC

from callsight.models.call import CallStatus, QuarantineReason
from callsight.stages.ingest.metadata import MetadataError, MetadataFields, parse_sidecar
from hypothesis import HealthCheck, example, given, settings

from tests.audio_factory import pcm_wav
from tests.fuzz.strategies import sidecar_bytes
from tests.integration.conftest import Stack

TEXT_FIELDS = ("agent_id", "team", "queue", "customer_phone", "pbx_call_id", "language")
WAV = pcm_wav(seconds=0.6)


def check_fields(fields: MetadataFields) -> None:
    """What the calls table can store: no empty index keys, keys under 2,048 bytes, sane dates."""
    for name in TEXT_FIELDS:
        value = getattr(fields, name)
        assert value is None or (value != "" and len(value.encode("utf-8", "surrogatepass")) <= 2048), name
    if fields.started_at is not None:
        assert fields.started_at.tzinfo is not None
        assert 1970 <= fields.started_at.astimezone(UTC).year < 2200


@settings(max_examples=250, deadline=None)
@given(sidecar_bytes())
@example(b'{"agent_id": "   "}')
@example(b'{"agent_id": "' + b"7" * 3000 + b'"}')
@example(b'{"started_at": "0001-01-01T00:00:00+14:00"}')
@example(b'{"started_at": "9999-12-31T23:59:59-14:00"}')
@example(b'{"team": "\\udc80"}')
@example(b"\xef\xbb\xbf{}")
def test_the_parser_returns_storable_fields_or_says_what_is_wrong(raw: bytes) -> None:
    try:
        fields = parse_sidecar(raw, "recordings/x.wav.json")
    except MetadataError as error:
        assert "recordings/x.wav.json" in str(error)
        return
    check_fields(fields)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=sidecar_bytes())
@example(raw=b'{"agent_id": ""}')
@example(raw=b'{"agent_id": "' + b"7" * 3000 + b'"}')
@example(raw=b'{"started_at": "9999-12-31T23:59:59-14:00"}')
def test_a_recording_with_any_sidecar_is_one_call_with_a_verdict(env: Stack, raw: bytes) -> None:
    name = f"in-202-+14155550123-20261120-113000-{uuid.uuid4().int % 10**10}.1.wav"
    env.put(name + ".json", raw)
    call = env.ingest(name, WAV)  # asserts the handler reported no failure
    assert env.calls.get(call.call_id) == call, "the stored call reads back"
    try:
        fields = parse_sidecar(raw, name + ".json") if len(raw) <= 64 * 1024 else None
    except MetadataError:
        fields = None
    if fields is None:
        assert (call.status, call.status_reason) == (
            CallStatus.QUARANTINED,
            QuarantineReason.SIDECAR_INVALID.value,
        )
        assert call.status_detail and call.agent_id is None
        return
    assert call.status is CallStatus.RECEIVED
    for name_ in ("agent_id", "team", "queue", "pbx_call_id"):
        given_value = getattr(fields, name_)
        if given_value is not None:
            assert getattr(call, name_) == given_value and call.metadata_sources[name_] == "sidecar"
    assert call.agent_id == (fields.agent_id or "202"), "the file name fills what the sidecar left out"
    assert call.started_at is not None
    if fields.started_at is None:
        assert call.metadata_sources["started_at"] == "filename"
