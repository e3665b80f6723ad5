"""Word error rate against the dialogue scripts, with numbers compared as digits.

The scripts spell numbers out ("seven two zero five one"); Whisper writes digits, often with
separators ("7-2-0-5-1", "72051"). Both sides are therefore normalised the same way before jiwer
counts errors: number words → digits (text2num for English, words2num2 for Russian), case and
punctuation dropped, and runs of digit groups joined into one token, so a phone number is one
word that is either right or wrong.
"""

from __future__ import annotations

import re

import jiwer
import words2num2
from text_to_num import alpha2digit

_PUNCTUATION = re.compile(r"[^\w\s]", re.UNICODE)
#: Digit groups of one spoken number: "9-0-3", "4 1 5, 5 5 5", "9.0.3" (Whisper writes all three;
#: a full stop followed by a space ends a number).
_DIGIT_RUN = re.compile(r"\d+(?:(?:[\s\-,]+|\.(?=\d))\d+)*")
#: "12 тысяч" / "49 thousand" written half in digits: multiply before the words are converted.
_THOUSANDS = re.compile(r"(\d+)\s+(?:тысяч[аи]?|thousand)\b", re.IGNORECASE)


def normalize(text: str, language: str) -> str:
    text = text.replace("ё", "е").replace("Ё", "Е")
    text = _THOUSANDS.sub(lambda m: str(int(m.group(1)) * 1000), text)
    text = words2num2.words2num_sentence(text, lang="ru") if language == "ru" else alpha2digit(text, "en")
    text = _DIGIT_RUN.sub(lambda m: re.sub(r"\D", "", m.group(0)), text)
    text = _PUNCTUATION.sub(" ", text.lower())
    return " ".join(text.split())


def word_error_rate(reference: str, hypothesis: str, language: str) -> float:
    return float(jiwer.wer(normalize(reference, language), normalize(hypothesis, language)))


def pooled_word_error_rate(pairs: list[tuple[str, str]], language: str) -> float:
    """One WER over several (reference, hypothesis) pairs: errors summed, divided by words summed.

    Pooling weighs each recording by its length, so one short misheard sentence moves the figure by
    its share of the words, not by a whole test's verdict.
    """
    references = [normalize(reference, language) for reference, _ in pairs]
    hypotheses = [normalize(hypothesis, language) for _, hypothesis in pairs]
    return float(jiwer.wer(references, hypotheses))
