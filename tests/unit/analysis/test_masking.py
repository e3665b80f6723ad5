"""Masked transcripts of the labelled calls contain none of their PII (phones, cards, emails, names)."""

from __future__ import annotations

import re

import pytest
from callsight.analysis.entities import digit_runs
from callsight.analysis.languages import language_pack
from callsight.compliance.masking import mask_transcript
from callsight.compliance.policies import MaskingPolicy

from tests.analysis_fixtures import LabelledCall, load_calls, transcript_for

PII_TYPES = ("phone", "card", "email", "person")
WITH_PII = [c for c in load_calls() if any(e["type"] in PII_TYPES for e in c.expected.get("entities") or [])]


@pytest.mark.parametrize("call", WITH_PII, ids=lambda c: c.id)
def test_masked_transcript_holds_no_pii_of_the_call(call: LabelledCall) -> None:
    pack = language_pack(call.language)
    masked, spans = mask_transcript(transcript_for(call), pack, MaskingPolicy())
    text = masked.text
    assert pack is not None
    numbers = {digits for digits, _, _ in digit_runs(pack.normalize_numbers(text))}
    for entity in call.expected["entities"]:
        value = str(entity["value"])
        if entity["type"] in ("phone", "card"):
            digits = re.sub(r"\D", "", value)
            assert not any(len(n) >= 7 and (n in digits or digits[-7:] in n) for n in numbers), (value, text)
        elif entity["type"] == "email":
            for piece in re.findall(
                r"[a-zа-я]{3,}", value.split("@")[0]
            ):  # the local part's words, however spelled
                assert piece not in text.lower(), (value, text)
        elif entity["type"] == "person":
            for part in value.split():
                assert not re.search(rf"\b{re.escape(part[:-1] if len(part) > 4 else part)}", text), (
                    value,
                    text,
                )
    assert spans and all(s.end >= s.start for s in spans)
    assert len(masked.words) == len(transcript_for(call).words)  # same timing, words replaced in place


def test_amounts_and_order_numbers_stay_unless_asked() -> None:
    call = next(c for c in load_calls() if c.id.startswith("ru_01"))
    pack = language_pack("ru")
    masked, _ = mask_transcript(transcript_for(call), pack, MaskingPolicy())
    assert "[PHONE]" not in masked.text or "тысяч" in masked.text
