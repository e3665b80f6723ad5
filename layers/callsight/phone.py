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


def normalize_phone(raw: str, default_region: str) -> str:
    """E.164 form of ``raw`` (``+79161234567``); numbers that do not parse keep their digits only.

    Russian trunk prefix ``8`` and the international ``00``/``+`` forms are understood through
    ``default_region``; an extension such as ``201`` stays ``201``.
    """
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return _NON_DIGITS.sub("", text)
    if phonenumbers.is_possible_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return _NON_DIGITS.sub("", text)


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
