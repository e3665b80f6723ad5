"""Issue 15 (1, 5) on the emulator, real handlers: a phone number dictated the way Whisper writes it
and a name leave no trace where a masked role can look — the API transcript for agent and QA, the
stored masked transcript, the redacted audio (the bleep covers every word) and the keyword index
(search by the name or the digits finds nothing, for any role, before and after the masking sweep,
also where an older analysis had indexed them)."""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import av
import numpy as np
import pytest
from callsight.analysis.analyzer import Analyzer
from callsight.analysis.index_terms import index_terms
from callsight.analysis.languages import language_pack
from callsight.analysis.rules import load_rules
from callsight.analysis.text import turn_views
from callsight.auth.access import Owner
from callsight.auth.tokens import Role
from callsight.compliance.masking import MaskedSpan
from callsight.models.messages import AnalyzeRequest
from callsight.models.transcript import Transcript
from callsight.stages.analyze.service import AnalyzeService
from callsight.storage.search_index import SearchIndex
from callsight.storage.tables import SearchEntryItem
from callsight.storage.transcripts import TranscriptStore
from callsight.sweeps import masking_sweep
from callsight.sweeps.masking_sweep import MaskingSweep
from chalice.test import Client

from tests.analysis_fixtures import whisper_transcript, word_indices
from tests.audio_factory import pcm_wav
from tests.integration.conftest import Stack
from tests.integration.test_api import api_module, bearer, get

CASES = {
    "ru-dictated-dots": (
        "ru",
        [
            ("agent", "Здравствуйте, меня зовут Антон, как вас зовут?"),
            ("customer", "Людмила. Перезвоните на номер 9 |.0 |.3 |.1 |.2 |.3 |.4 |.5 |.6 |.7."),
            ("agent", "Хорошо, Людмила, я перезвоню."),
        ],
        "9 |.0 |.3 |.1 |.2 |.3 |.4 |.5 |.6 |.7.",
        ["Антон", "Людмила"],
    ),
    "ru-spoken-words": (
        "ru",
        [
            ("agent", "Здравствуйте, меня зовут Антон, как вас зовут?"),
            ("customer", "Людмила. Перезвоните на номер девять ноль три, один два три, четыре пять, шесть семь."),
            ("agent", "Хорошо, Людмила, я перезвоню."),
        ],
        "девять ноль три, один два три, четыре пять, шесть семь.",
        ["Антон", "Людмила"],
    ),
    "en-dictated-dots": (
        "en",
        [
            ("agent", "Hello, my name is Laura Smith, how can I help?"),
            ("customer", "Please call me back at 4 |.1 |.5 |.5 |.5 |.5 |.0 |.1 |.2 |.3. Thanks Laura."),
            ("agent", "Sure, I will call you back today."),
        ],
        "4 |.1 |.5 |.5 |.5 |.5 |.0 |.1 |.2 |.3.",
        ["Laura", "Smith"],
    ),
}  # fmt: skip
#: Words kept in the index (said outside PII): masking must not empty the search.
KEPT = {"ru": "перезвоните", "en": "call"}
RATE = 8000


@pytest.fixture
def client(env: Stack) -> Iterator[Client]:
    with Client(api_module().app) as test_client:
        yield test_client


def texts_of(transcript: dict[str, Any]) -> str:
    """Every text a transcript document carries (turns, words, segments), not its numbers."""
    parts = [t["text"] for t in transcript["turns"]] + [w["text"] for w in transcript["words"]]
    return "\n".join(parts + [s["text"] for s in transcript["segments"]])


def assert_no_trace(text: str, names: list[str], number_words: list[str]) -> None:
    assert not re.search(r"\d", text), text
    for secret in names + number_words:
        assert not re.search(rf"(?i)\b{re.escape(secret)}", text), (secret, text)


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / RATE)[int(np.argmax(spectrum))])


@pytest.mark.parametrize("case", list(CASES))
def test_a_dictated_number_and_a_name_leave_no_trace_for_masked_roles(
    env: Stack, client: Client, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    language, turns, said_number, names = CASES[case]
    pack = language_pack(language)
    assert pack is not None
    # Given: a call 40 days old (past the masking window) of agent 204, team sales-ru, analysed
    started = datetime.now(UTC) - timedelta(days=40)
    name = f"in-204-+79031234567-{started:%Y%m%d-%H%M%S}-{uuid.uuid4().int % 10**9}.1.wav"
    call = env.ingest(
        name, pcm_wav(seconds=13, rate=RATE, channels=2, tone_hz=440), Metadata={"team": "sales-ru"}
    )
    transcript = whisper_transcript(turns, language).model_copy(update={"call_id": call.call_id})
    key, version = env.transcribed(call.call_id, transcript)
    analyzer = Analyzer(load_rules(), env.settings.phone_region, lambda p: p[-4:])
    AnalyzeService(env.settings, analyzer).handle(
        AnalyzeRequest(call_id=call.call_id, transcript_bucket=f"{env.settings.prefix}-transcripts",
                       transcript_key=key, transcript_version_id=version, language=language)
    )  # fmt: skip
    number = word_indices(transcript, said_number)
    number_words = sorted({w.text.strip(".,") for i, w in enumerate(transcript.words) if i in number})
    number_words = [w for w in number_words if re.search(r"[^\W\d_]", w)]  # spoken digits («девять»)
    digits = "".join(re.findall(r"\d", " ".join(transcript.words[i].text for i in number)))
    secrets = names + number_words + ([digits] if digits else [])
    agent = bearer(env, Role.AGENT, agent_id="204")
    qa = bearer(env, Role.QA, teams=["sales-ru"])
    admin = bearer(env, Role.ADMIN)

    def search(term: str, who: dict[str, str]) -> list[str]:
        status, body = get(client, f"/search?q={term}", who)
        assert status == 200, body
        return [hit["call"]["call_id"] for hit in body["items"]]

    def nobody_finds_a_secret() -> None:
        assert not secret_keys & index_keys(), secret_keys & index_keys()
        assert [(term, search(term, who)) for term in secrets for who in (agent, qa, admin)] == [
            (term, []) for term in secrets for _ in range(3)
        ]
        assert search(KEPT[language], agent) == [call.call_id]

    def index_keys() -> set[str]:
        return {e.term_key for e in SearchEntryItem.by_call.query(call.call_id)}

    secret_keys = {f"{language}#{pack.stem(pack.fold(s))}" for s in secrets}

    # Then, before masking: the transcript served to agent and QA is masked on the fly, and the
    # index holds no name and no digit of the number: search finds nothing, whoever asks
    for who in (agent, qa):
        status, body = get(client, f"/calls/{call.call_id}/transcript", who)
        assert status == 200
        assert_no_trace(texts_of(body), names, number_words)
    nobody_finds_a_secret()

    # Given: an index written by an older analysis (names and spoken digits indexed)
    old_terms = index_terms(turn_views(transcript, pack), pack, analyzer.analyze(transcript))
    SearchIndex(env.settings).replace_call(call.call_id, call.started_at, old_terms, Owner.of(call))
    assert search(names[0], agent) == [call.call_id]  # the oracle this issue is about

    # When: the masking sweep runs (redaction spans recorded on the way)
    bleeped: list[MaskedSpan] = []
    real_redact = masking_sweep.redact_audio

    def recording_redact(source: Any, target: Any, spans: list[MaskedSpan]) -> Any:
        bleeped.extend(spans)
        return real_redact(source, target, spans)

    monkeypatch.setattr(masking_sweep, "redact_audio", recording_redact)
    [outcome] = [o for o in MaskingSweep(env.settings).run().outcomes if o.call_id == call.call_id]
    assert outcome.index_entries_deleted >= len(names)

    # Then: the old index entries of PII terms are gone, the others stay
    nobody_finds_a_secret()

    # the stored (masked) transcript and the API's transcript for agent and QA keep no trace
    stored = TranscriptStore(env.settings).get(key)
    assert_no_trace(texts_of(stored.model_dump()), names, number_words)
    for who in (agent, qa):
        status, body = get(client, f"/calls/{call.call_id}/transcript", who)
        assert status == 200
        assert_no_trace(texts_of(body), names, number_words)
        assert not digits or digits[-4:] not in json.dumps(body)

    # the redacted audio's spans cover every word of the number and of each name, and it is bleeped
    body = env.s3.get_object(Bucket=env.bucket, Key=outcome.redacted_key)["Body"].read()
    check_bleeps(transcript, number, names, bleeped, body, KEPT[language])


def check_bleeps(
    transcript: Transcript,
    number: list[int],
    names: list[str],
    bleeped: list[MaskedSpan],
    body: bytes,
    kept: str,
) -> None:
    words = transcript.words
    [phone] = [s for s in bleeped if s.type == "phone"]
    assert phone.start <= words[number[0]].start and phone.end >= max(words[i].end for i in number)
    assert phone.words == len(number)
    for word in words:
        if any(word.text.strip(".,!?").startswith(n) for n in names):
            assert any(s.type == "person" and s.start <= word.start and s.end >= word.end for s in bleeped), (
                word
            )
    with av.open(io.BytesIO(body)) as container:
        stream = container.streams.audio[0]
        interleaved = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)])
    audio = interleaved.reshape(-1, 2).T.astype(np.float32)  # PCM s16 is packed: L R L R …
    customer, other = audio[words[number[0]].channel], audio[1 - words[number[0]].channel]
    inside = slice(int(words[number[0]].start * RATE), int(words[number[-1]].end * RATE))
    assert abs(dominant_hz(customer[inside]) - 1000) < 10, "no bleep where the number was said"
    assert abs(dominant_hz(other[inside]) - 440) < 10, "the other party's channel stays audible"
    said = next(w for w in words if w.text.strip(".,").lower() == kept)
    clean = customer[int((said.start + 0.1) * RATE) : int(said.end * RATE)]
    assert abs(dominant_hz(clean) - 440) < 10, "audio outside PII spans must be untouched"
