"""Customer phone numbers: normalise to E.164, mask for display, keyed hash for lookup.

The raw number is never stored: a call keeps ``mask_phone`` output for people and
``phone_lookup_hash`` for finding every call of a subject (erasure, history).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re

import phonenumbers

_NON_DIGITS = re.compile(r"\D")


def phone_forms(raw: str, default_region: str) -> list[str]:
    """Every plausible E.164 reading of ``raw`` as a PBX means it, the likeliest first.

    A number valid in ``default_region`` (``89031234567``, ``9031234567``) reads as that region's
    first; digits without a ``+`` that are 11+ long and valid as an international number
    (``14155550147`` → ``+14155550147``) read that way too — both when both are valid
    (``84955551234``: Moscow with the trunk 8, or Vietnam). A number valid nowhere keeps its
    region reading if that is possible, else its digits (an extension such as ``201``).
    Empty when ``raw`` has no digits.
    """
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    digits = _NON_DIGITS.sub("", text)
    if not digits:
        return []
    regional = _parse(text, default_region)
    forms = [_e164(regional)] if regional is not None and phonenumbers.is_valid_number(regional) else []
    if not text.startswith("+") and len(digits) >= 11:
        international = _parse("+" + digits, None)
        if international is not None and phonenumbers.is_valid_number(international):
            forms.append(_e164(international))
    if not forms:
        possible = regional is not None and phonenumbers.is_possible_number(regional)
        forms.append(_e164(regional) if possible and regional is not None else digits)
    return list(dict.fromkeys(forms))


def lookup_forms(raw: str, default_region: str) -> list[str]:
    """What a subject's number may have been stored as: :func:`phone_forms` plus each form's bare
    digits (how earlier versions stored an 11-digit international number they could not parse)."""
    forms = phone_forms(raw, default_region)
    return list(dict.fromkeys([*forms, *(_NON_DIGITS.sub("", f) for f in forms)]))


def normalize_phone(raw: str, default_region: str) -> str:
    """The likeliest E.164 form of ``raw`` (``+79161234567``); numbers that do not parse keep their
    digits only; empty when there are none. See :func:`phone_forms`."""
    forms = phone_forms(raw, default_region)
    return forms[0] if forms else ""


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(normalized: str) -> str:
    """Hide the middle digits: ``+79161234567`` → ``+7916*****67``; short numbers keep the last two.

    E.164 numbers keep the country code and three more digits; at least two digits are always hidden.
    """
    plus = "+" if normalized.startswith("+") else ""
    digits = _NON_DIGITS.sub("", normalized)
    if len(digits) <= 4:
        return plus + "*" * max(len(digits) - 2, 0) + digits[-2:]
    head = 3
    if plus:
        with contextlib.suppress(phonenumbers.NumberParseException):
            head = len(str(phonenumbers.parse(normalized).country_code)) + 3
    head = min(head, len(digits) - 4)
    return plus + digits[:head] + "*" * (len(digits) - head - 2) + digits[-2:]


def phone_lookup_hash(normalized: str, key: bytes) -> str:
    """HMAC-SHA256 of the normalised number: equal numbers meet, the number cannot be read back."""
    return hmac.new(key, normalized.encode("utf-8"), hashlib.sha256).hexdigest()
