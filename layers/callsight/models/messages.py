"""Messages between pipeline stages (SQS bodies). Versioned so a consumer can refuse what it cannot read."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class TranscribeRequest(BaseModel):
    """Ingest → transcribe: one RECEIVED call ready for speech recognition."""

    schema_version: Literal[1] = 1
    call_id: str
    bucket: str
    key: str
    version_id: str | None = None
    agent_channel: str | None = None
    language_hint: str | None = None


class AnalyzeRequest(BaseModel):
    """Transcribe → analyze: a TRANSCRIBED call whose transcript is in S3."""

    schema_version: Literal[1] = 1
    call_id: str
    transcript_bucket: str
    transcript_key: str
    transcript_version_id: str | None = None
    language: str
