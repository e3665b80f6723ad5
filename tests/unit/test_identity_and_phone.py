"""Deterministic call ids and customer phone protection."""

from __future__ import annotations

import pytest
from callsight.phone import lookup_forms, mask_phone, normalize_phone, phone_forms, phone_lookup_hash
from callsight.stages.ingest.call_id import derive_call_id


def test_call_id_is_stable_for_the_same_object_version() -> None:
    first = derive_call_id("b", "recordings/a.wav", "v1", "etag")
    assert first == derive_call_id("b", "recordings/a.wav", "v1", "other-etag")
    assert first != derive_call_id("b", "recordings/a.wav", "v2", "etag")
    assert first != derive_call_id("b2", "recordings/a.wav", "v1", "etag")


def test_unversioned_objects_are_told_apart_by_etag() -> None:
    assert derive_call_id("b", "k", None, '"e1"') == derive_call_id("b", "k", "null", "e1")
    assert derive_call_id("b", "k", None, "e1") != derive_call_id("b", "k", None, "e2")


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("89161234567", "RU", "+79161234567"),
        ("+7 (916) 123-45-67", "US", "+79161234567"),
        ("0079161234567", "US", "+79161234567"),
        ("(415) 555-0123", "US", "+14155550123"),
        ("201", "RU", "201"),
        ("14155550147", "RU", "+14155550147"),  # a PBX's international number without its +
    ],
)
def test_normalize(raw: str, region: str, expected: str) -> None:
    assert normalize_phone(raw, region) == expected


def test_every_plausible_reading_is_kept_and_looked_up() -> None:
    # Given 11 digits that are Moscow with the trunk 8 and a Vietnamese number alike
    assert phone_forms("84955551234", "RU") == ["+74955551234", "+84955551234"]
    assert phone_forms("+84955551234", "RU") == ["+84955551234"]
    assert phone_forms("call me", "RU") == []
    # the bare digits are how earlier versions stored a number they could not parse
    assert lookup_forms("+1 415 555 0147", "RU") == ["+14155550147", "14155550147"]


@pytest.mark.parametrize(
    ("normalized", "masked"),
    [
        ("+79161234567", "+7916*****67"),
        ("+14155550123", "+1415*****23"),
        ("+442071234567", "+44207*****67"),
        ("201", "*01"),
        ("12345", "1**45"),
    ],
)
def test_mask_hides_the_middle(normalized: str, masked: str) -> None:
    assert mask_phone(normalized) == masked


def test_lookup_hash_is_keyed() -> None:
    number = "+79161234567"
    assert phone_lookup_hash(number, b"k1") == phone_lookup_hash(number, b"k1")
    assert phone_lookup_hash(number, b"k1") != phone_lookup_hash(number, b"k2")
    assert number not in phone_lookup_hash(number, b"k1")
