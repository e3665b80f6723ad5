"""Who said what, when: per-channel recognition results merged into one word stream and into turns.

Pure functions. Stereo channels are merged by **word** start time (merging whole segments puts
long segments out of order and doubled the Russian error rate in our measurements); a turn is a
run of one speaker's words, cut where the speaker changes or pauses. Mono has one stream: turns
are cut on pauses only and the speaker is ``unknown`` — never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence

from callsight.asr.recognized import RecognizedSegment
from callsight.models.transcript import ChannelInfo, Segment, Speaker, SpeakerAttribution, Turn, Word

MONO_SPEAKER_NOTE = (
    "mono recording: both parties share one channel, so words are not attributed to agent or "
    "customer (speaker 'unknown'); turns are split on pauses"
)
UNMAPPED_STEREO_NOTE = (
    "stereo recording without a known agent channel: channels are kept apart but not named "
    "(speaker 'unknown'); set the PBX's agent channel to attribute them"
)


def channel_speakers(
    channel_count: int, agent_channel: str | None
) -> tuple[list[Speaker], SpeakerAttribution, str]:
    """Speaker per channel, how they were attributed, and a sentence saying so."""
    if channel_count == 1:
        return [Speaker.UNKNOWN], SpeakerAttribution.NONE, MONO_SPEAKER_NOTE
    if agent_channel == "left":
        return (
            [Speaker.AGENT, Speaker.CUSTOMER],
            SpeakerAttribution.CHANNEL,
            "stereo recording: agent on the left channel, customer on the right",
        )
    if agent_channel == "right":
        return (
            [Speaker.CUSTOMER, Speaker.AGENT],
            SpeakerAttribution.CHANNEL,
            "stereo recording: agent on the right channel, customer on the left",
        )
    return [Speaker.UNKNOWN] * channel_count, SpeakerAttribution.NONE, UNMAPPED_STEREO_NOTE


def merge_channels(
    per_channel: Sequence[Sequence[RecognizedSegment]], speakers: Sequence[Speaker]
) -> tuple[list[Segment], list[Word]]:
    """All segments and words of all channels in time order, each tagged with channel and speaker.

    Segment ``first_word``/``word_count`` refer to the returned word list only for mono; in stereo
    a segment's words interleave with the other channel's, so each word names its segment instead.
    """
    tagged = sorted(
        (
            (segment.start, channel, segment)
            for channel, segments in enumerate(per_channel)
            for segment in segments
        ),
        key=lambda item: (item[0], item[1]),
    )
    segments: list[Segment] = []
    words: list[tuple[float, int, int, Word]] = []
    for index, (_, channel, segment) in enumerate(tagged):
        speaker = speakers[channel]
        for order, word in enumerate(segment.words):
            words.append(
                (
                    word.start,
                    channel,
                    index * 100_000 + order,
                    Word(
                        start=round(word.start, 3),
                        end=round(max(word.end, word.start), 3),
                        text=word.text,
                        probability=round(word.probability, 4),
                        channel=channel,
                        speaker=speaker,
                        segment=index,
                        space_before=word.space_before,
                    ),
                )
            )
        segments.append(
            Segment(
                channel=channel,
                speaker=speaker,
                start=round(segment.start, 3),
                end=round(segment.end, 3),
                text=segment.text,
                avg_logprob=round(segment.avg_logprob, 4),
                no_speech_prob=round(segment.no_speech_prob, 4),
                compression_ratio=round(segment.compression_ratio, 3),
                word_count=len(segment.words),
            )
        )
    words.sort(key=lambda item: (item[0], item[1], item[2]))
    return segments, [word for *_, word in words]


def build_turns(words: Sequence[Word], pause_s: float, *, mono: bool) -> list[Turn]:
    """Runs of one speaker's words, cut on a speaker change or a pause of ``pause_s`` or more."""
    turns: list[Turn] = []
    start_index = 0
    for index in range(1, len(words) + 1):
        if index < len(words):
            previous, current = words[index - 1], words[index]
            same_speaker = current.channel == previous.channel and current.speaker == previous.speaker
            if same_speaker and current.start - previous.end < pause_s:
                continue
        run = words[start_index:index]
        if run:
            turns.append(
                Turn(
                    speaker=run[0].speaker,
                    channel=None if mono else run[0].channel,
                    start=run[0].start,
                    end=max(word.end for word in run),
                    text=join_words(run),
                    first_word=start_index,
                    word_count=len(run),
                )
            )
        start_index = index
    return turns


def join_words(words: Sequence[Word]) -> str:
    """Words as Whisper wrote them: spaced, except where a word was glued to the one before."""
    parts: list[str] = []
    for index, word in enumerate(words):
        if index and word.space_before:
            parts.append(" ")
        parts.append(word.text)
    return "".join(parts)


def channel_summaries(words: Sequence[Word], speakers: Sequence[Speaker]) -> list[ChannelInfo]:
    return [
        ChannelInfo(
            channel=channel,
            speaker=speaker,
            speech_s=round(sum(w.end - w.start for w in words if w.channel == channel), 3),
        )
        for channel, speaker in enumerate(speakers)
    ]
