"""The questions a customer asked in a call, kept only when they are safe to aggregate.

A question is a sentence of a customer turn (any turn on a mono call) that ends with "?". It is kept
for the weekly report's "top customer questions" only when it carries nothing personal: no digit or
number word (phones, orders, amounts are one customer's, not a recurring question), no PII entity
said inside it, no capitalised word after its first (a name the entity finder missed), and no name
the language module would mask. Each kept question has a ``key`` — the stems of its words longer than three letters —
so «когда привезут мой заказ?» and «когда привезут заказ?» count as one.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from callsight.analysis.languages.base import LanguagePack
from callsight.models.analysis import CustomerQuestion, Entity
from callsight.models.transcript import Speaker, Transcript, Word

#: At most this many questions are kept per call (the call item stores them).
MAX_QUESTIONS_PER_CALL = 5
#: Shorter questions ("what?", "sorry?") and rambling ones are not recurring questions.
MIN_TOKENS, MAX_TOKENS = 3, 16
#: Words this short (pronouns, articles, particles: "my", «мой», «не») do not tell questions apart.
KEY_MIN_LETTERS = 3
_SENTENCE_END = re.compile(r"[.!?…]$")


def customer_questions(
    transcript: Transcript, pack: LanguagePack, entities: list[Entity], pii_words: Collection[int] = ()
) -> list[CustomerQuestion]:
    """``pii_words``: indices of the words inside PII spans (``callsight.analysis.pii``)."""
    pii_times = [e.start for e in entities if e.pii]
    found: list[CustomerQuestion] = []
    for turn in transcript.turns:
        if turn.speaker is Speaker.AGENT:
            continue
        words = transcript.words[turn.first_word : turn.first_word + turn.word_count]
        offset = 0
        for sentence in _sentences(words):
            first, offset = turn.first_word + offset, offset + len(sentence)
            if any(first + i in pii_words for i in range(len(sentence))):
                continue  # a name or number said in it, wherever the finder saw it («Антон сможет…?»)
            question = _question(sentence, pack, pii_times)
            if question is not None:
                found.append(question)
                if len(found) == MAX_QUESTIONS_PER_CALL:
                    return found
    return found


def _sentences(words: list[Word]) -> list[list[Word]]:
    sentences: list[list[Word]] = [[]]
    for word in words:
        sentences[-1].append(word)
        if _SENTENCE_END.search(word.text):
            sentences.append([])
    return [s for s in sentences if s]


def _question(sentence: list[Word], pack: LanguagePack, pii_times: list[float]) -> CustomerQuestion | None:
    if not sentence[-1].text.endswith("?"):
        return None
    text = " ".join(w.text for w in sentence)
    tokens = pack.tokens(text)
    if not MIN_TOKENS <= len(tokens) <= MAX_TOKENS:
        return None
    start, end = sentence[0].start, sentence[-1].end
    personal = (
        any(ch.isdigit() for ch in text)
        or any(t.text in pack.number_words for t in tokens)
        or any(start <= at <= end for at in pii_times)
        or any(
            w.text[:1].isupper() for w in sentence[1:] if w.text.lower() not in {"i", "i'm", "i've", "i'd"}
        )
        or bool(pack.names_to_mask(text))
    )
    if personal:
        return None
    return CustomerQuestion(
        key=" ".join(t.stem for t in tokens if len(t.text) > KEY_MIN_LETTERS),
        text=" ".join(t.text for t in tokens) + "?",
        start=round(start, 2),
    )
