"""The consent registry's pure rules: which numbers may key an entry (and the error naming the
problem, never the number), what ingest does with a listed subject, and the API's body models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from callsight.api.consent import ConsentBody, ConsentQuery, ConsentRemoveBody
from callsight.models.consent import (
    ConsentEntry,
    ConsentState,
    IngestVerdict,
    InvalidSubjectPhone,
    OptOutPolicy,
    ingest_verdict,
    registry_subject,
)
from callsight.phone import lookup_forms, phone_lookup_hash
from pydantic import ValidationError

KEY = b"unit-test-key"


@pytest.mark.parametrize(
    "spelling",
    ["+79031234567", "+7 (903) 123-45-67", "89031234567", "8 903 123 45 67", "9031234567", "0079031234567"],
)
def test_every_spelling_of_a_number_keys_the_same_entry_as_ingest_hashes_it(spelling: str) -> None:
    subject = registry_subject(spelling, "RU", KEY)
    assert subject.phone_hash == phone_lookup_hash("+79031234567", KEY)  # what ingest stores and looks up
    assert subject.masked == "+7903*****67"
    # the other stored forms (bare digits of earlier versions) are kept to lift their tombstones
    assert phone_lookup_hash("79031234567", KEY) in subject.other_hashes
    assert subject.phone_hash not in subject.other_hashes


def test_an_international_number_without_plus_reads_as_ingest_reads_it() -> None:
    assert registry_subject("14155550147", "RU", KEY).phone_hash == phone_lookup_hash("+14155550147", KEY)
    assert set(registry_subject("+1 415 555 0147", "RU", KEY).other_hashes) == {
        phone_lookup_hash(f, KEY) for f in lookup_forms("+1 415 555 0147", "RU")
    } - {phone_lookup_hash("+14155550147", KEY)}


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "no digits"),
        ("banana", "no digits"),
        ("12", "too short"),
        ("201", "too short"),  # an extension is not a customer
        ("+7 903", "too short"),
        ("+7903123456789", "wrong number of digits"),
        ("+7903123456789012", "too long"),
        ("+999 123 456 789", "unknown country code"),
        ("84955551234", "ambiguous"),
    ],
)
def test_numbers_that_cannot_name_one_subject_are_refused_naming_the_problem(raw: str, problem: str) -> None:
    with pytest.raises(InvalidSubjectPhone) as refused:
        registry_subject(raw, "RU", KEY)
    assert problem in str(refused.value)
    if len(raw) > 4:
        assert raw not in str(refused.value)


def _entry(state: ConsentState) -> ConsentEntry:
    return ConsentEntry(
        phone_hash="h",
        state=state,
        source="crm",
        set_at=datetime.now(UTC),
        set_by="dpo",
        phone_masked="+7903*****67",
    )


@pytest.mark.parametrize(
    ("state", "policy", "held", "verdict"),
    [
        (None, OptOutPolicy.DELETE, False, IngestVerdict.PASS),
        (ConsentState.OPTED_OUT, OptOutPolicy.DELETE, False, IngestVerdict.DELETE),
        (ConsentState.OPTED_OUT, OptOutPolicy.KEEP, False, IngestVerdict.KEEP),
        (ConsentState.OPTED_OUT, OptOutPolicy.DELETE, True, IngestVerdict.KEEP),  # a hold never deletes
        (ConsentState.CONSENT_REVOKED, OptOutPolicy.DELETE, False, IngestVerdict.FENCE),
        (ConsentState.CONSENT_REVOKED, OptOutPolicy.KEEP, False, IngestVerdict.FENCE),
        (ConsentState.CONSENT_REVOKED, OptOutPolicy.DELETE, True, IngestVerdict.PASS),  # as the erasure fence
    ],
)
def test_what_ingest_does_with_a_listed_subject(
    state: ConsentState | None, policy: OptOutPolicy, held: bool, verdict: IngestVerdict
) -> None:
    assert ingest_verdict(_entry(state) if state else None, policy, on_hold=held) is verdict


def test_an_entry_expires_at_its_time() -> None:
    entry = _entry(ConsentState.OPTED_OUT)
    assert not entry.expired()
    soon = entry.model_copy(update={"expires_at": datetime.now(UTC) + timedelta(hours=1)})
    assert not soon.expired() and soon.expired(now=(datetime.now(UTC) + timedelta(hours=2)).timestamp())
    assert "other_hashes" not in entry.model_dump()  # never shown


def test_body_models_name_what_is_wrong() -> None:
    with pytest.raises(ValidationError, match="'opted_out' or 'consent_revoked'"):
        ConsentBody.model_validate({"phone": "+79031234567", "state": "gone"})
    with pytest.raises(ValidationError, match="must be in the future"):
        ConsentBody.model_validate(
            {"phone": "+79031234567", "state": "opted_out", "expires_at": "2001-01-01"}
        )
    with pytest.raises(ValidationError, match="Extra inputs"):
        ConsentBody.model_validate({"phone": "+79031234567", "state": "opted_out", "raw": "x"})
    naive = ConsentBody.model_validate(
        {"phone": "1", "state": "opted_out", "expires_at": "2099-01-01T00:00:00"}
    )
    assert naive.expires_at is not None and naive.expires_at.tzinfo is not None  # read as UTC
    with pytest.raises(ValidationError, match="exactly one"):
        ConsentRemoveBody.model_validate({})
    with pytest.raises(ValidationError, match="exactly one"):
        ConsentRemoveBody.model_validate({"phone": "1", "phone_hash": "a" * 64})
    with pytest.raises(ValidationError):
        ConsentQuery.model_validate({"cursor": "../../etc"})
    assert ConsentQuery.model_validate({"limit": "7"}).limit == 7
