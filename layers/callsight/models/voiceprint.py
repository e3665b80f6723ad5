"""Per-agent enrolled voice prints: the vocabulary and the vector's compact storage form (pure).

A voice print is an agent's speaker embedding (resemblyzer's 256-d, L2-normalised), kept only for
agents an admin opted in (their consent recorded) and erased on request. It is biometric personal
data: :class:`VoicePrintView` (what the API, the CLI and the audit log see) never carries the
vector, and nothing here logs it. The vector is stored as little-endian float16 bytes (512 bytes);
:func:`pack_embedding` / :func:`unpack_embedding` convert, renormalising on the way back.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

#: Length of the speaker encoder's embedding (resemblyzer VoiceEncoder).
EMBEDDING_DIM = 256
#: Stored dtype: half precision keeps cosine similarities within about 1e-3 of float32.
STORED_DTYPE = np.dtype("<f2")
#: Agent ids as ingest accepts them in metadata (a DynamoDB key and a URL path segment).
AGENT_ID_PATTERN = r"^[\w.@+-]{1,128}$"


class VoicePrintState(StrEnum):
    OPTED_IN = "opted_in"  # consent recorded; the next stereo call of the agent enrolls a print
    ENROLLED = "enrolled"  # a print is stored and used on the agent's mono calls


class VoicePrintView(BaseModel):
    """An agent's voice-print entry as anyone outside the store sees it: never the vector."""

    model_config = ConfigDict(frozen=True)

    agent_id: str
    state: VoicePrintState
    consented_by: str = Field(description="The admin who recorded the agent's consent.")
    consented_at: datetime
    note: str | None = Field(
        default=None, description="Free text from the opt-in (e.g. the consent form's reference)."
    )
    enrolled_at: datetime | None = None
    source_call_id: str | None = Field(default=None, description="The stereo call the print was made from.")
    encoder: str | None = Field(
        default=None, description="The speaker encoder (name and version) that made it."
    )
    speech_s: float | None = Field(
        default=None, description="Seconds of the agent's speech the print averages."
    )


class VoicePrint(BaseModel):
    """An enrolled print with its vector: only the transcriber handles this (never serialised out)."""

    model_config = ConfigDict(frozen=True)

    agent_id: str
    encoder: str
    embedding: tuple[float, ...] = Field(repr=False)


def normalised(vector: npt.ArrayLike) -> npt.NDArray[np.float32]:
    array = np.asarray(vector, dtype=np.float64).reshape(-1)
    norm = float(np.linalg.norm(array))
    if array.shape != (EMBEDDING_DIM,) or not np.isfinite(norm) or norm < 1e-9:
        raise ValueError(f"a voice print is a finite, non-zero {EMBEDDING_DIM}-d vector")
    return (array / norm).astype(np.float32)


def pack_embedding(vector: npt.ArrayLike) -> bytes:
    """The L2-normalised vector as float16 bytes (raises ValueError for a wrong shape or a zero vector)."""
    return normalised(vector).astype(STORED_DTYPE).tobytes()


def unpack_embedding(data: bytes) -> npt.NDArray[np.float32]:
    """Inverse of :func:`pack_embedding` (renormalised after the half-precision round trip)."""
    if len(data) != EMBEDDING_DIM * STORED_DTYPE.itemsize:
        raise ValueError(
            f"a stored voice print is {EMBEDDING_DIM * STORED_DTYPE.itemsize} bytes, not {len(data)}"
        )
    return normalised(np.frombuffer(data, dtype=STORED_DTYPE))
