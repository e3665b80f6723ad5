"""Merging channels into words and turns, and repairing VAD-stitched word times (pure logic)."""

from __future__ import annotations

import pytest
from callsight.asr.alignment import repair_word_times
from callsight.asr.recognized import RecognizedSegment, RecognizedWord
from callsight.asr.turns import build_turns, channel_speakers, join_words, merge_channels
from callsight.config import QueueProfile, Settings
from callsight.models.transcript import Speaker, SpeakerAttribution


def words(*spec: tuple[float, float, str]) -> tuple[RecognizedWord, ...]:
    return tuple(RecognizedWord(start=s, end=e, text=t, probability=0.9) for s, e, t in spec)


def segment(*spec: tuple[float, float, str]) -> RecognizedSegment:
    ws = words(*spec)
    return RecognizedSegment(
        start=ws[0].start, end=ws[-1].end, text=" ".join(w.text for w in ws),
        avg_logprob=-0.2, no_speech_prob=0.01, compression_ratio=1.2, words=ws,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("channels", "agent_channel", "speakers", "attribution"),
    [
        (2, "left", [Speaker.AGENT, Speaker.CUSTOMER], SpeakerAttribution.CHANNEL),
        (2, "right", [Speaker.CUSTOMER, Speaker.AGENT], SpeakerAttribution.CHANNEL),
        (2, "mixed", [Speaker.UNKNOWN, Speaker.UNKNOWN], SpeakerAttribution.NONE),
        (1, "left", [Speaker.UNKNOWN], SpeakerAttribution.NONE),
    ],
)
def test_channel_speakers(
    channels: int, agent_channel: str, speakers: list[Speaker], attribution: SpeakerAttribution
) -> None:
    got_speakers, got_attribution, note = channel_speakers(channels, agent_channel)
    assert (got_speakers, got_attribution) == (speakers, attribution)
    assert note


def test_stereo_words_merge_by_word_start_and_turns_follow_the_speaker() -> None:
    agent = [
        segment(
            (0.0, 0.4, "Hello,"), (0.4, 0.8, "how"), (0.8, 1.0, "can"), (1.0, 1.2, "I"), (1.2, 1.5, "help?")
        )
    ]
    customer = [segment((1.7, 2.0, "My"), (2.0, 2.5, "order"), (2.6, 3.0, "is"), (3.0, 3.5, "late."))]
    agent.append(segment((3.9, 4.2, "Sorry"), (4.2, 4.4, "to"), (4.4, 4.8, "hear.")))
    segments, merged = merge_channels([agent, customer], [Speaker.AGENT, Speaker.CUSTOMER])
    assert [s.channel for s in segments] == [0, 1, 0]
    assert [w.start for w in merged] == sorted(w.start for w in merged)
    assert merged[5].segment == 1 and merged[5].speaker is Speaker.CUSTOMER
    turns = build_turns(merged, pause_s=1.0, mono=False)
    assert [(t.speaker, t.text) for t in turns] == [
        (Speaker.AGENT, "Hello, how can I help?"),
        (Speaker.CUSTOMER, "My order is late."),
        (Speaker.AGENT, "Sorry to hear."),
    ]
    assert [t.channel for t in turns] == [0, 1, 0]
    assert sum(t.word_count for t in turns) == len(merged)


def test_overtalk_interleaves_by_word_start() -> None:
    agent = [segment((0.0, 0.5, "So"), (0.5, 1.0, "the"), (1.0, 1.5, "price"))]
    customer = [segment((0.6, 0.9, "wait"))]
    _, merged = merge_channels([agent, customer], [Speaker.AGENT, Speaker.CUSTOMER])
    assert [w.text for w in merged] == ["So", "the", "wait", "price"]
    assert len(build_turns(merged, pause_s=1.0, mono=False)) == 3


def test_mono_turns_split_on_pauses_with_no_speaker_invented() -> None:
    stream = [segment((0.0, 0.3, "Hello."), (0.9, 1.2, "Hi,"), (1.2, 1.5, "cancel"), (1.5, 1.9, "please."))]
    _, merged = merge_channels([stream], [Speaker.UNKNOWN])
    turns = build_turns(merged, pause_s=0.4, mono=True)
    assert [t.text for t in turns] == ["Hello.", "Hi, cancel please."]
    assert all(t.speaker is Speaker.UNKNOWN and t.channel is None for t in turns)


def test_a_long_pause_of_one_speaker_starts_a_new_turn() -> None:
    _, merged = merge_channels(
        [[segment((0.0, 0.5, "One."), (2.0, 2.5, "Two."))], []], [Speaker.AGENT, Speaker.CUSTOMER]
    )
    assert len(build_turns(merged, pause_s=1.0, mono=False)) == 2
    assert len(build_turns(merged, pause_s=2.0, mono=False)) == 1


def test_glued_words_are_joined_without_a_space() -> None:
    glued = RecognizedWord(start=0.5, end=0.7, text="-1", probability=0.9, space_before=False)
    seg = RecognizedSegment(
        start=0, end=0.7, text="5-1", avg_logprob=0, no_speech_prob=0, compression_ratio=1,
        words=(*words((0.0, 0.5, "Order"), (0.5, 0.5, "5")), glued),
    )  # fmt: skip
    _, merged = merge_channels([[seg]], [Speaker.UNKNOWN])
    assert join_words(merged) == "Order 5-1"


def test_a_word_stranded_across_a_silence_moves_to_where_its_segment_continues() -> None:
    # Measured on the RU refund sample: the customer's «Мой» came back at 15.18-16.12 s, across the
    # silence between speech chunks (12.46-15.76) and (19.95-25.01); the next word is at 20.31.
    chunks = [(12.46, 15.76), (19.95, 25.01)]
    before = [segment((12.9, 15.18, "5-8-3-1-9.")), segment((15.18, 16.12, "Мой"), (20.31, 20.61, "телефон"))]
    after = repair_word_times(before, chunks)
    assert after[0] == before[0]
    moved = after[1].words[0]
    assert (moved.start, moved.end) == (19.95, 20.31)
    assert after[1].start == 19.95


def test_a_word_overhanging_its_chunk_with_nothing_after_is_trimmed() -> None:
    after = repair_word_times([segment((1.0, 1.4, "bye"), (1.4, 3.0, "now."))], [(0.5, 2.0)])
    assert (after[0].words[1].start, after[0].words[1].end) == (1.4, 2.0)
    assert repair_word_times([segment((1.0, 1.4, "ok"))], []) == [segment((1.0, 1.4, "ok"))]


def test_queue_profiles_come_from_json_with_a_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "CALLSIGHT_ASR_QUEUE_PROFILES",
        '{"600": {"language": "ru", "hotwords": "Электроника"}, "*": {"initial_prompt": "Support call."}}',
    )
    settings = Settings()
    assert settings.queue_profile("600") == QueueProfile(language="ru", hotwords="Электроника")
    assert settings.queue_profile("700").initial_prompt == "Support call."
    assert settings.queue_profile(None).language is None
    monkeypatch.setenv("CALLSIGHT_ASR_QUEUE_PROFILES", '{"600": {"langauge": "ru"}}')
    with pytest.raises(ValueError, match="langauge"):
        Settings()
