"""Statistics cells (``callsight.stats.cells``) without the emulator: how one call is counted, that
cells merge to the same figures however the calls are grouped, and that a cell survives its JSON
round trip (the daily rollup stores cells as JSON)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from callsight.auth.access import Owner
from callsight.models.analysis import AnalysisSummary, TalkMetrics
from callsight.models.call import AudioFacts, CallRecord, CallStatus, SourceObject
from callsight.models.transcript import LanguageSource, Speaker, SpeakerAttribution, TranscriptionFacts
from callsight.stats.cells import SHORT_CALL_S, Cell, Sums, call_day, cells_of, merge, period_days, ratio

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def transcription(words: int) -> TranscriptionFacts:
    return TranscriptionFacts(
        transcript_bucket="t", transcript_key="k", language="en", language_source=LanguageSource.DETECTED,
        model_id="tiny", device="cpu", compute_type="int8", real_time_factor=0.1, processing_s=1.0,
        word_count=words, speaker_attribution=SpeakerAttribution.CHANNEL, transcribed_at=NOW,
    )  # fmt: skip


def summary(
    outcome: str | None = "success",
    overall: float | None = 0.2,
    customer: float | None = None,
    checkpoints: dict[str, bool] | None = None,
) -> AnalysisSummary:
    metrics = TalkMetrics(
        duration_s=60, speech_s=50, silence_s=10, longest_silence_s=2, words_per_minute=120, short_call=False,
        longest_monologue_s=10, longest_monologue_speaker=Speaker.AGENT,
    )  # fmt: skip
    return AnalysisSummary(
        analysis_bucket="a", analysis_key="k", rules_version="v", language_supported=True, outcome=outcome,
        sentiment_overall=overall, sentiment_customer=customer, checkpoints=checkpoints or {}, metrics=metrics,
        entities=[], warnings=[], analyzed_at=NOW,
    )  # fmt: skip


def call(
    call_id: str = "c1",
    *,
    agent: str | None = "204",
    team: str | None = "sales",
    queue: str | None = "q1",
    started: datetime | None = NOW,
    duration: float | None = 120.0,
    words: int | None = 100,
    analysis: AnalysisSummary | None = None,
    tags: list[str] | None = None,
    status: CallStatus = CallStatus.ANALYZED,
) -> CallRecord:
    return CallRecord(
        call_id=call_id, status=status, source=SourceObject(bucket="r", key=f"{call_id}.wav"),
        audio=None if duration is None else AudioFacts(container="wav", codec="pcm", sample_rate=8000, channels=2,
                                                        duration_s=duration),
        transcription=None if words is None else transcription(words), analysis=analysis, tags=tags or [],
        agent_id=agent, team=team, queue=queue, started_at=started, created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def one_cell(record: CallRecord) -> Cell:
    (cell,) = cells_of([record])
    return cell


def test_an_analysed_call_counts_its_duration_tags_outcome_and_customer_sentiment() -> None:
    cell = one_cell(
        call(
            tags=["billing", "delivery"],
            analysis=summary("success", 0.1, -0.4, {"greeting": True, "closing": False}),
        )
    )
    assert (cell.calls, cell.with_duration, cell.duration_sum, cell.short, cell.missed) == (1, 1, 120.0, 0, 0)
    assert (cell.analysed, cell.success) == (1, 1)
    assert cell.tags == {"billing": 1, "delivery": 1} and cell.outcomes == {"success": 1}
    # The headline sentiment is the customer's where known ...
    assert cell.sentiment_sum == pytest.approx(-0.4)
    assert cell.customer_sentiment_sum == pytest.approx(-0.4) and cell.customer_sentiment_n == 1
    # ... and the checkpoint score is the share met in this call.
    assert cell.checkpoints_sum == pytest.approx(0.5) and cell.checkpoints_n == 1


def test_without_a_customer_sentiment_the_overall_one_is_counted_but_not_as_the_customers() -> None:
    cell = one_cell(call(analysis=summary("none", 0.3, None)))
    assert cell.sentiment_sum == pytest.approx(0.3)
    assert (cell.customer_sentiment_sum, cell.customer_sentiment_n, cell.success) == (0.0, 0, 0)
    assert cell.checkpoints_n == 0  # no checkpoints evaluated: not a zero score


def test_short_calls_and_calls_without_audio_facts() -> None:
    assert one_cell(call(duration=SHORT_CALL_S - 0.5)).short == 1
    assert one_cell(call(duration=SHORT_CALL_S)).short == 0
    cell = one_cell(call(duration=None))
    assert (cell.calls, cell.with_duration, cell.duration_sum, cell.short) == (1, 0, 0.0, 0)


def test_a_call_not_analysed_yet_counts_as_a_call_only() -> None:
    cell = one_cell(call(words=None, status=CallStatus.TRANSCRIBING, tags=["billing"]))
    assert (cell.calls, cell.analysed, cell.missed, cell.tags, cell.outcomes) == (1, 0, 0, {}, {})


def test_a_call_with_no_words_is_missed_not_analysed() -> None:
    cell = one_cell(call(words=0, analysis=summary(outcome=None, overall=None)))
    assert (cell.missed, cell.analysed) == (1, 0)
    # A quarantined recording never had words to count: it is not a missed call.
    assert one_cell(call(words=0, status=CallStatus.QUARANTINED)).missed == 0


def test_the_day_is_the_utc_day_of_the_start_else_of_the_record() -> None:
    late_evening_in_new_york = datetime(2026, 12, 1, 22, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert call_day(call(started=late_evening_in_new_york)) == "2026-12-02"
    assert call_day(call(started=None)) == NOW.date().isoformat()


def test_calls_fold_into_one_cell_per_day_and_owner_sorted() -> None:
    records = [
        call("a", agent="2", started=NOW + timedelta(days=1)),
        call("b", agent="1"),
        call("c", agent="2"),
        call("d", agent="2"),
        call("e", agent=None, team=None, queue=None),
    ]
    cells = cells_of(records)
    assert [(c.day, c.owner.agent_id, c.calls) for c in cells] == [
        ("2026-12-01", None, 1),
        ("2026-12-01", "1", 1),
        ("2026-12-01", "2", 2),
        ("2026-12-02", "2", 1),
    ]
    assert cells[2].owner == Owner("2", "sales", "q1")


def random_calls(seed: int, n: int = 60) -> list[CallRecord]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        analysed = rng.random() < 0.8
        records.append(
            call(
                f"c{i}",
                agent=rng.choice(["1", "2", "3", None]),
                team=rng.choice(["sales", "support"]),
                started=NOW + timedelta(hours=rng.randrange(0, 96)),
                duration=rng.choice([None, 20.0, 75.5, 300.25]),
                tags=rng.sample(["billing", "delivery", "fraud", "warranty"], rng.randrange(0, 3)),
                analysis=summary(
                    rng.choice(["success", "refusal", "none"]),
                    round(rng.uniform(-1, 1), 3),
                    rng.choice([None, round(rng.uniform(-1, 1), 3)]),
                    {"greeting": rng.random() < 0.5, "closing": rng.random() < 0.5},
                )
                if analysed
                else None,
                words=rng.choice([0, 50]) if analysed else None,
            )
        )
    return records


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_merging_cells_gives_the_same_totals_however_the_calls_are_split(seed: int) -> None:
    records = random_calls(seed)
    whole, whole_agents = merge(cells_of(records))
    # Fold the calls in two arbitrary batches (as live reads and the rollup do), then merge all cells.
    half = len(records) // 3
    parts = cells_of(records[:half]) + cells_of(records[half:])
    split, split_agents = merge(parts)
    assert (split.calls, split.analysed, split.tags, split.outcomes) == (
        whole.calls,
        whole.analysed,
        whole.tags,
        whole.outcomes,
    )
    assert split.sentiment_sum == pytest.approx(whole.sentiment_sum)
    assert split.calls_per_day == whole.calls_per_day
    assert split_agents.keys() == whole_agents.keys()
    assert whole.calls == len(records)
    assert sum(whole.calls_per_day.values()) == len(records)
    assert sum(n for _, n in whole.sentiment_per_day.values()) == whole.analysed


def test_agent_totals_hold_only_agents_with_analysed_calls() -> None:
    records = [
        call("a", agent="1", analysis=summary()),
        call("b", agent="2", words=None),
        call("c", agent=None),
    ]
    _, agents = merge(cells_of(records))
    assert list(agents) == ["1"]


@pytest.mark.parametrize("seed", [4, 5])
def test_a_cell_survives_its_json_round_trip(seed: int) -> None:
    for cell in cells_of(random_calls(seed, 20)):
        again = Cell.from_json(cell.to_json())
        assert again == cell and again.owner == cell.owner


def test_absorb_adds_counted_keys_and_numbers() -> None:
    mine = Sums(calls=1, tags={"a": 1}, duration_sum=1.5)
    mine.absorb(Sums(calls=2, tags={"a": 2, "b": 1}, duration_sum=2.0))
    assert (mine.calls, mine.tags, mine.duration_sum) == (3, {"a": 3, "b": 1}, 3.5)


def test_ratio_and_period_days() -> None:
    assert ratio(1, 3) == 0.333 and ratio(1, 3, 1) == 0.3
    assert ratio(5, 0) is None
    assert period_days(date(2026, 11, 30), date(2026, 12, 2)) == [
        date(2026, 11, 30),
        date(2026, 12, 1),
        date(2026, 12, 2),
    ]
    assert period_days(date(2026, 12, 2), date(2026, 12, 1)) == []


# --- per-checkpoint shares (the recording notice) ------------------------------------------------------


def test_each_checkpoint_is_counted_and_the_notice_stays_out_of_the_script_average() -> None:
    cell = one_cell(
        call(analysis=summary(checkpoints={"greeting": True, "closing": True, "recording_notice": False}))
    )
    assert cell.checkpoints_sum == pytest.approx(1.0) and cell.checkpoints_n == 1  # script: both met
    assert cell.checkpoint_calls == {"greeting": 1, "closing": 1, "recording_notice": 1}
    assert cell.checkpoint_met == {"greeting": 1, "closing": 1, "recording_notice": 0}


def test_notice_shares_per_period_agent_and_team() -> None:
    from callsight.stats.summary import build_stats

    notice = {"greeting": True, "recording_notice": True}
    silent = {"greeting": True, "recording_notice": False}
    calls = [
        call("a1", agent="204", team="sales", analysis=summary(checkpoints=notice)),
        call("a2", agent="204", team="sales", analysis=summary(checkpoints=silent)),
        call("b1", agent="301", team="support", analysis=summary(checkpoints=notice)),
        call("b2", agent="301", team="support", analysis=summary(checkpoints=notice)),
        call(
            "c1", agent="302", team="support", analysis=summary(checkpoints={"greeting": False})
        ),  # old rules
        call("d1", agent="303", team=None, words=0, analysis=None),  # not analysed: no share
    ]
    stats = build_stats(calls, NOW.date(), NOW.date())
    assert stats.checkpoint_shares == {"greeting": 0.8, "recording_notice": 0.75}
    agents = {a.agent_id: a for a in stats.agents}
    assert agents["204"].checkpoint_shares["recording_notice"] == 0.5
    assert agents["301"].checkpoint_shares["recording_notice"] == 1.0
    assert "recording_notice" not in agents["302"].checkpoint_shares  # analysed before the checkpoint existed
    assert agents["204"].checkpoints_met == 1.0  # the notice is not the agent's script
    teams = {t.team: t for t in stats.teams}
    assert set(teams) == {"sales", "support"}
    assert teams["sales"].checkpoint_shares["recording_notice"] == 0.5
    assert teams["support"].checkpoint_shares == {"greeting": 0.667, "recording_notice": 1.0}
    assert teams["support"].calls == 3


def test_cells_stored_before_the_checkpoint_counts_existed_still_load() -> None:
    stored = one_cell(call(analysis=summary(checkpoints={"greeting": True})))
    old = (
        stored.to_json()
        .replace(',"checkpoint_calls":{"greeting":1}', "")
        .replace(',"checkpoint_met":{"greeting":1}', "")
    )
    assert "checkpoint_calls" not in old
    loaded = Cell.from_json(old)
    assert loaded.checkpoint_calls == {} and loaded.checkpoints_n == 1
