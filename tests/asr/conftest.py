"""One real Whisper model (the bundled multilingual base, CPU int8) and every sample transcribed once.

Nothing is mocked: these tests decode the bundled recordings and run the real model on them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from callsight.asr.engine import AsrEngine, EngineConfig
from callsight.asr.transcriber import Transcriber, TranscriptionOptions
from callsight.config import Settings
from callsight.models.transcript import Transcript

from tests.conftest import SAMPLES


@dataclass(frozen=True)
class Sample:
    manifest: dict[str, Any]
    path: Path
    script: list[tuple[str, str]]  # (speaker, text) per turn

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def reference(self) -> str:
        return " ".join(text for _, text in self.script)


def load_samples() -> list[Sample]:
    samples = []
    for entry in json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8")):
        lines = (SAMPLES / entry["script"]).read_text(encoding="utf-8").splitlines()
        pairs = (line.split(":", 1) for line in lines if line.strip())
        script = [(speaker.strip(), text.strip()) for speaker, text in pairs]
        samples.append(Sample(manifest=entry, path=SAMPLES / entry["file"], script=script))
    return samples


SAMPLE_LIST = load_samples()


@pytest.fixture(scope="session")
def asr_settings() -> Settings:
    return Settings(asr_device="cpu", asr_cpu_threads=2)


@pytest.fixture(scope="session")
def transcriber(asr_settings: Settings) -> Transcriber:
    return Transcriber(AsrEngine(EngineConfig.from_settings(asr_settings)))


@pytest.fixture(scope="session")
def transcripts(transcriber: Transcriber, asr_settings: Settings) -> dict[str, Transcript]:
    """Each sample transcribed with the pipeline's defaults (language detected, agent on the left)."""
    options = TranscriptionOptions.from_settings(asr_settings)
    return {sample.name: transcriber.transcribe_file(sample.path, options) for sample in SAMPLE_LIST}
