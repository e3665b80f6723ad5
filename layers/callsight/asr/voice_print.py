"""Per-agent voice prints in the transcriber: making one from a stereo call's agent channel, and
using one to say which of a mono call's two voices is the agent.

:func:`enrollment_print` embeds the agent channel's speech windows (the channel is known truth) with
the same encoder and windows as the mono separation and averages them into one L2-normalised
256-d print. :func:`match_print` compares the print with the two voice groups' centres (cosine);
:func:`choose_agent` is the rule that combines it with the rule pack's agent phrases:

- the print names the agent when one group is both close to it (cosine similarity at least
  ``CALLSIGHT_VOICE_PRINT_MIN_SIMILARITY``: the same voice, not merely the likelier of two strangers)
  and clearly closer than the other (margin at least ``CALLSIGHT_VOICE_PRINT_MIN_MARGIN``), whatever
  the phrases say (a disagreement is recorded);
- otherwise the phrases name the agent (as without a print);
- neither clear: nobody is named, the call keeps ``unknown``.

The matching rules are pure (NumPy only); only :func:`enrollment_print` needs the encoder (the
``diarization`` extra). Nothing here logs a vector.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import metadata
from typing import Literal

import numpy as np
import numpy.typing as npt

from callsight.asr import diarization
from callsight.asr.audio import Samples

#: Default of ``CALLSIGHT_VOICE_PRINT_MIN_MARGIN``: how much closer (cosine) to the print the agent's
#: group must be than the other group. Measured on the bundled samples (README "Mono recordings"): a
#: print from another call of the same voice, margins 0.149-0.333.
DEFAULT_MIN_MARGIN = 0.05
#: Default of ``CALLSIGHT_VOICE_PRINT_MIN_SIMILARITY``: the agent's group must be at least this similar
#: to the print. Same voice, another call: 0.916-0.977; the closest other voice (espeak en-us print vs
#: en-gb): 0.897. A narrow gap on synthetic voices, stated as such.
DEFAULT_MIN_SIMILARITY = 0.905
#: A print averages at least this many 1.6 s windows of the agent's speech (about 5 s).
MIN_ENROLL_WINDOWS = 10

ChosenBy = Literal["voice_print", "phrases"]


@cache
def encoder_name() -> str:
    """The encoder a print is made with (stored with it: a print is only comparable to its own kind)."""
    try:
        return f"resemblyzer-{metadata.version('resemblyzer')}"
    except metadata.PackageNotFoundError:
        return "resemblyzer"


@dataclass(frozen=True)
class Enrollment:
    embedding: npt.NDArray[np.float32]
    windows: int
    speech_s: float


def enrollment_print(agent_channel: Samples, vad_threshold: float) -> Enrollment | None:
    """The agent's print from their own channel, or None with too little speech for one."""
    from callsight.asr.speaker_embedding import embed_windows, speech_spans  # needs the extra

    speech = speech_spans(agent_channel, vad_threshold)
    windows, _ = diarization.analysis_windows(speech)
    if len(windows) < MIN_ENROLL_WINDOWS:
        return None
    embeddings = embed_windows(agent_channel, windows, speech)
    return Enrollment(
        embedding=centre(embeddings),
        windows=len(windows),
        speech_s=round(sum(end - start for start, end in speech), 2),
    )


def centre(embeddings: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """The L2-normalised mean of L2-normalised rows."""
    x = np.asarray(embeddings, dtype=np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)
    mean = np.asarray(x.mean(axis=0), dtype=np.float64)
    return np.asarray(mean / max(float(np.linalg.norm(mean)), 1e-12), dtype=np.float32)


def group_centres(embeddings: npt.ArrayLike, labels: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """The centre of group 0 and of group 1 (a 2 x d array)."""
    x = np.asarray(embeddings)
    groups = np.asarray(labels)
    return np.stack([centre(x[groups == k]) for k in (0, 1)])


@dataclass(frozen=True)
class PrintMatch:
    #: Cosine similarity of the print to group 0's and group 1's centre.
    similarities: tuple[float, float]
    min_margin: float
    min_similarity: float = DEFAULT_MIN_SIMILARITY

    @property
    def margin(self) -> float:
        return abs(self.similarities[0] - self.similarities[1])

    @property
    def group(self) -> int | None:
        """The group the print names, or None when the margin is below ``min_margin`` or the closer
        group is below ``min_similarity`` (the print's owner may not be in this call)."""
        closer = 0 if self.similarities[0] > self.similarities[1] else 1
        if self.margin < self.min_margin or self.similarities[closer] < self.min_similarity:
            return None
        return closer


def match_print(
    centres: npt.ArrayLike,
    voice_print: npt.ArrayLike,
    min_margin: float = DEFAULT_MIN_MARGIN,
    min_similarity: float = DEFAULT_MIN_SIMILARITY,
) -> PrintMatch:
    c = np.asarray(centres, dtype=np.float64)
    c = c / np.maximum(np.linalg.norm(c, axis=-1, keepdims=True), 1e-12)
    p = np.asarray(voice_print, dtype=np.float64)
    p = p / max(float(np.linalg.norm(p)), 1e-12)
    s = c @ p
    return PrintMatch(
        similarities=(round(float(s[0]), 4), round(float(s[1]), 4)),
        min_margin=min_margin,
        min_similarity=min_similarity,
    )


@dataclass(frozen=True)
class AgentChoice:
    group: int | None  # None: nobody named
    chosen_by: ChosenBy | None
    #: Whether the print and the phrases named the same group (None: one of them named nobody).
    agree: bool | None


def choose_agent(print_match: PrintMatch | None, phrase_group: int | None) -> AgentChoice:
    """The agent's group: the print when its margin is clear, else the phrases, else nobody."""
    print_group = print_match.group if print_match is not None else None
    agree = None if print_group is None or phrase_group is None else print_group == phrase_group
    if print_group is not None:
        return AgentChoice(group=print_group, chosen_by="voice_print", agree=agree)
    if phrase_group is not None:
        return AgentChoice(group=phrase_group, chosen_by="phrases", agree=agree)
    return AgentChoice(group=None, chosen_by=None, agree=agree)
