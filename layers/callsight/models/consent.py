"""The consent registry's vocabulary and its pure rules (no AWS, no I/O).

A registry entry says of one subject (by the keyed hash of their number) that they ``opted_out``
(their calls are not analysed or stored) or that their ``consent_revoked`` (their past calls are
erased, later uploads fenced). :func:`registry_subject` decides whether an admin's number is good
enough to key an entry by; :func:`ingest_verdict` what ingest does with a recording of a listed subject.
"""

from __future__ import annotations

import time
from datetime import datetime
from enum import StrEnum

import phonenumbers
from pydantic import BaseModel, Field

from callsight.phone import lookup_forms, mask_phone, phone_forms, phone_lookup_hash


class ConsentState(StrEnum):
    OPTED_OUT = "opted_out"  # not analysed or stored: ingest keeps or deletes per policy, receipt
    CONSENT_REVOKED = "consent_revoked"  # past calls erased, later uploads fenced


class OptOutPolicy(StrEnum):
    """What ingest does with the audio of an opted-out number (``CALLSIGHT_CONSENT_OPT_OUT_POLICY``)."""

    DELETE = "delete"  # every version of the recording and its sidecars deleted; a receipt kept
    KEEP = "keep"  # kept as a QUARANTINED call (reason opted_out), never transcribed; retention applies


class ConsentEntry(BaseModel):
    phone_hash: str = Field(description="Keyed hash (HMAC-SHA256) of the number's E.164 form.")
    state: ConsentState
    source: str = Field(description="Where it came from: crm, ivr, admin, …")
    set_at: datetime
    set_by: str
    phone_masked: str = Field(description="The number with its middle digits hidden.")
    other_hashes: list[str] = Field(
        default_factory=list, exclude=True, description="Hashes of other stored forms (not shown)."
    )
    expires_at: datetime | None = Field(default=None, description="When the entry stops applying.")

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at is not None and self.expires_at.timestamp() <= (now or time.time())


class InvalidSubjectPhone(ValueError):
    """The number cannot key a registry entry; the message names the problem (never the number)."""


_POSSIBLE_PROBLEMS = {
    phonenumbers.ValidationResult.TOO_SHORT: "too short",
    phonenumbers.ValidationResult.TOO_LONG: "too long",
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    phonenumbers.ValidationResult.INVALID_LENGTH: "wrong number of digits for its country",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "a local number: give it with its area code",
}


class RegistrySubject(BaseModel):
    """A validated number: the key of its entry, the other hashes it may be stored under, its mask."""

    phone_hash: str
    other_hashes: list[str]
    masked: str


def registry_subject(raw: str, region: str, key: bytes) -> RegistrySubject:
    """Normalise ``raw`` as ingest does and refuse what cannot name one subject: no digits, a number
    valid nowhere (too short, too long, unknown country code: named), or one with two valid readings."""
    digits = sum(ch.isdigit() for ch in raw)
    if digits == 0:
        raise InvalidSubjectPhone("phone: not a phone number (no digits)")
    forms = phone_forms(raw, region)
    valid = [f for f in forms if f.startswith("+") and phonenumbers.is_valid_number(phonenumbers.parse(f))]
    if not valid:
        raise InvalidSubjectPhone(f"phone: not a valid number for region {region} ({_problem(raw, region)})")
    if len(valid) > 1:
        raise InvalidSubjectPhone(
            f"phone: ambiguous ({' or '.join(mask_phone(f) for f in valid)}): give it with + and the country code"
        )
    primary = phone_lookup_hash(valid[0], key)
    others = [phone_lookup_hash(f, key) for f in lookup_forms(raw, region)]
    return RegistrySubject(
        phone_hash=primary,
        other_hashes=[h for h in dict.fromkeys(others) if h != primary],
        masked=mask_phone(valid[0]),
    )


def _problem(raw: str, region: str) -> str:
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            return "unknown country code"
        return "not a phone number"
    reason = phonenumbers.is_possible_number_with_reason(number)
    return _POSSIBLE_PROBLEMS.get(reason, "no such number range")


class IngestVerdict(StrEnum):
    PASS = "pass"  # noqa: S105 (not a password)  not listed (or no number): ingest as usual
    DELETE = "delete"  # opted out, policy delete
    KEEP = "keep"  # opted out, policy keep (or a legal hold forbids deleting)
    FENCE = "fence"  # consent revoked: the erasure fence


def ingest_verdict(entry: ConsentEntry | None, policy: OptOutPolicy, *, on_hold: bool) -> IngestVerdict:
    """What ingest does with a recording of the subject of ``entry``. A legal hold wins over every
    deletion: a held subject's opted-out recording is kept (never transcribed); a held subject whose
    consent was revoked is recorded as usual, as the erasure fence does."""
    if entry is None:
        return IngestVerdict.PASS
    if entry.state is ConsentState.CONSENT_REVOKED:
        return IngestVerdict.PASS if on_hold else IngestVerdict.FENCE
    if on_hold or policy is OptOutPolicy.KEEP:
        return IngestVerdict.KEEP
    return IngestVerdict.DELETE
