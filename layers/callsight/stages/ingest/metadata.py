"""PBX metadata of a recording, from three sources in order: sidecar JSON, S3 user metadata, file name.

Pure functions: bytes/dicts/strings in, :class:`~callsight.models.call.CallMetadata` out. A sidecar
that exists but is broken is an error (the PBX meant to tell us something and we cannot read it);
a file name that does not match the pattern is a warning that names the pattern, and the call date
is never silently replaced by "now" (see :func:`resolve_start_time`).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from callsight.models.call import CallMetadata, Direction, MetadataSource
from callsight.models.recording_keys import SIDECAR_SUFFIX, is_sidecar_key, sidecar_keys_for

__all__ = ["SIDECAR_SUFFIX", "is_sidecar_key", "sidecar_keys_for"]  # re-exported for ingest's callers

#: Metadata text is identifiers and names, never documents. The bound keeps ``agent_id``, a DynamoDB
#: index key (at most 2,048 bytes, never empty), storable: 512 characters are at most 2,048 bytes.
MAX_TEXT_CHARS = 512
#: A call start outside these years is a data error (and a later one leaves no room for its expiry).
EARLIEST_CALL_YEAR, LATEST_CALL_YEAR = 1970, 2199


class MetadataError(ValueError):
    """Metadata that exists but cannot be used; the message says what and where."""


class MetadataFields(BaseModel):
    """The fields any metadata source may provide (all optional)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    direction: Direction | None = None
    agent_id: str | None = None
    team: str | None = None
    queue: str | None = None
    customer_phone: str | None = None
    started_at: datetime | None = None
    pbx_call_id: str | None = None
    language: str | None = None
    agent_channel: Literal["left", "right"] | None = None

    @field_validator("agent_id", "team", "queue", "customer_phone", "pbx_call_id", "language", mode="before")
    @classmethod
    def _numbers_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

    @field_validator("agent_id", "team", "queue", "customer_phone", "pbx_call_id", "language")
    @classmethod
    def _blank_is_absent(cls, value: str | None) -> str | None:
        """Blank (after stripping) means not given; overlong text is an error, not truncated."""
        if not value:
            return None
        if len(value) > MAX_TEXT_CHARS:
            raise ValueError(f"is {len(value)} characters long; at most {MAX_TEXT_CHARS} are accepted")
        return value

    @field_validator("started_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("started_at needs a timezone offset, e.g. 2026-11-20T10:15:00+03:00")
        try:
            year = value.astimezone(UTC).year
        except OverflowError:  # e.g. year 1 at +14:00 is before year 1 in UTC
            year = 0
        if not EARLIEST_CALL_YEAR <= year <= LATEST_CALL_YEAR:
            raise ValueError(
                f"{value.isoformat()} is not a plausible call start "
                f"(years {EARLIEST_CALL_YEAR} to {LATEST_CALL_YEAR} in UTC)"
            )
        return value


# --- sidecar ---------------------------------------------------------------------------------------


def parse_sidecar(raw: bytes, key: str) -> MetadataFields:
    """Validate a sidecar document; any problem raises :class:`MetadataError` naming the field."""
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MetadataError(f"sidecar {key} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise MetadataError(f"sidecar {key} must be a JSON object, got {type(document).__name__}")
    try:
        return MetadataFields.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise MetadataError(f"sidecar {key} has invalid fields: {problems}") from exc


# --- S3 user metadata -------------------------------------------------------------------------------

#: ``x-amz-meta-<name>`` → field. boto3 returns the names lower-cased without the prefix.
USER_METADATA_FIELDS = {
    "direction": "direction",
    "agent-id": "agent_id",
    "team": "team",
    "queue": "queue",
    "customer-phone": "customer_phone",
    "started-at": "started_at",
    "pbx-call-id": "pbx_call_id",
    "language": "language",
    "agent-channel": "agent_channel",
}


def parse_user_metadata(metadata: dict[str, str]) -> tuple[MetadataFields, list[str]]:
    """Fields from S3 user metadata; an unusable value is skipped with a warning, not fatal."""
    values: dict[str, str] = {}
    for name, value in metadata.items():
        field = USER_METADATA_FIELDS.get(name.lower().replace("_", "-"))
        if field and value.strip():
            values[field] = value
    warnings: list[str] = []
    try:
        return MetadataFields.model_validate(values), warnings
    except ValidationError as exc:
        bad = {str(e["loc"][0]) for e in exc.errors()}
        warnings.extend(f"S3 user metadata {f} ignored: {values[f]!r} is not valid" for f in sorted(bad))
        return MetadataFields.model_validate({k: v for k, v in values.items() if k not in bad}), warnings


# --- file name ----------------------------------------------------------------------------------------

#: FreePBX call types → (direction, which part is the agent, which the customer, which the queue).
_FREEPBX_ROLES: dict[str, tuple[Direction, str | None, str | None, str | None]] = {
    "in": (Direction.INBOUND, "dst", "src", None),
    "out": (Direction.OUTBOUND, "src", "dst", None),
    "external": (Direction.INBOUND, "dst", "src", None),  # forwarded to a remote agent's number
    "q": (Direction.INBOUND, None, "src", "dst"),
    "rg": (Direction.INBOUND, None, "src", "dst"),
    "ivr": (Direction.INBOUND, None, "src", None),
    "exten": (Direction.INTERNAL, "src", None, None),
}


def recording_stem(key: str) -> str:
    """File name without its last extension (``…-1763633700.12.wav`` → ``…-1763633700.12``)."""
    name = PurePosixPath(key).name
    return name.rsplit(".", 1)[0] if "." in name else name


def parse_filename(key: str, pattern: str, timezone: str) -> MetadataFields:
    """Fields from the recording's file name.

    ``pattern`` is a regular expression with named groups. FreePBX style (``call_type``, ``dst``,
    ``src``) and direct groups (``agent``, ``customer``, ``queue``, ``team``, ``direction``) are both
    understood; the call time comes from ``date`` (YYYYMMDD) + ``time`` (HHMMSS) in ``timezone``.
    Raises :class:`MetadataError` when the name does not match, naming the pattern.
    """
    stem = recording_stem(key)
    match = re.match(pattern, stem)
    if match is None:
        raise MetadataError(
            f"file name {PurePosixPath(key).name!r} does not match the filename pattern "
            f"(CALLSIGHT_FILENAME_PATTERN={pattern!r})"
        )
    groups = {k: v for k, v in match.groupdict().items() if v}
    values: dict[str, object] = {
        "agent_id": groups.get("agent"),
        "customer_phone": groups.get("customer"),
        "queue": groups.get("queue"),
        "team": groups.get("team"),
        "direction": groups.get("direction"),
        "pbx_call_id": groups.get("uniqueid"),
    }
    call_type = groups.get("call_type")
    if call_type in _FREEPBX_ROLES:
        direction, agent_part, customer_part, queue_part = _FREEPBX_ROLES[call_type]
        values["direction"] = direction
        for field, part in (
            ("agent_id", agent_part),
            ("customer_phone", customer_part),
            ("queue", queue_part),
        ):
            if part:
                values[field] = groups.get(part)
    if "date" in groups and "time" in groups:
        try:
            naive = datetime.strptime(groups["date"] + groups["time"], "%Y%m%d%H%M%S")
        except ValueError as exc:
            raise MetadataError(
                f"file name {PurePosixPath(key).name!r} has an impossible date/time: {exc}"
            ) from exc
        values["started_at"] = naive.replace(tzinfo=ZoneInfo(timezone))
    try:
        return MetadataFields.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:  # e.g. a custom pattern's group captured an impossible value
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise MetadataError(
            f"file name {PurePosixPath(key).name!r} gives invalid fields: {problems}"
        ) from exc


# --- merge --------------------------------------------------------------------------------------------


def merge_metadata(sources: list[tuple[MetadataSource, MetadataFields]], warnings: list[str]) -> CallMetadata:
    """First source that has a field wins; records which source each field came from."""
    merged: dict[str, object] = {}
    origin: dict[str, MetadataSource] = {}
    for source, fields in sources:
        for name, value in fields.model_dump(exclude_none=True).items():
            if name not in merged:
                merged[name] = value
                origin[name] = source
    if "language" in merged:
        merged["language_hint"] = merged.pop("language")
        origin["language_hint"] = origin.pop("language")
    return CallMetadata.model_validate({**merged, "sources": origin, "warnings": warnings})


def resolve_start_time(metadata: CallMetadata, uploaded_at: datetime | None) -> CallMetadata:
    """Fill a missing call start with the object's upload time, flagged as such in sources and warnings.

    The upload time is an explicit, documented fallback (PBXs upload within minutes of hang-up); it is
    never the ingest time. Callers that need certainty set ``CALLSIGHT_REQUIRE_START_TIME``.
    """
    if metadata.started_at is not None or uploaded_at is None:
        return metadata
    return metadata.model_copy(
        update={
            "started_at": uploaded_at,
            "sources": {**metadata.sources, "started_at": MetadataSource.UPLOAD_TIME},
            "warnings": [
                *metadata.warnings,
                "call start time not given by sidecar, S3 metadata or file name; using the upload time",
            ],
        }
    )
