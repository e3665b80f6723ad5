"""Which engine the configuration picks, and the image that ships it (no model loaded here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from callsight.asr import engine
from callsight.asr.engine import EngineConfig
from callsight.config import Settings

from tests.conftest import REPO


def test_auto_on_this_machine_is_cpu_int8_sequential() -> None:
    assert engine.cuda_available() is False  # no GPU on the CI machines
    config = EngineConfig.from_settings(Settings())
    assert (config.device, config.compute_type, config.batched) == ("cpu", "int8", False)
    assert config.cpu_threads == engine.available_cores() >= 1
    assert (config.beam_size, config.vad_threshold, config.vad_filter) == (5, 0.3, True)


def test_auto_with_a_gpu_is_cuda_float16_batched(monkeypatch: pytest.MonkeyPatch) -> None:
    # A GPU cannot exist here: its presence is the one thing faked.
    monkeypatch.setattr(engine, "cuda_available", lambda: True)
    config = EngineConfig.from_settings(Settings())
    assert (config.device, config.compute_type, config.batched, config.batch_size) == (
        "cuda",
        "float16",
        True,
        8,
    )


def test_every_choice_can_be_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "cuda_available", lambda: True)
    settings = Settings(
        asr_device="cpu", asr_compute_type="float32", asr_batched=True, asr_beam_size=1, asr_cpu_threads=3
    )
    config = EngineConfig.from_settings(settings)
    assert (config.device, config.compute_type, config.batched, config.beam_size, config.cpu_threads) == (
        "cpu", "float32", True, 1, 3,
    )  # fmt: skip


def test_one_dockerfile_builds_both_variants_with_the_handler() -> None:
    dockerfile = (REPO / "functions" / "transcribe" / "Dockerfile").read_text()
    stages = {
        name: image for image, name in re.findall(r"^FROM (\S+) AS (\w+)$", dockerfile, flags=re.MULTILINE)
    }
    assert stages["cpu"].startswith("public.ecr.aws/lambda/python:3.12")
    assert re.fullmatch(r"nvidia/cuda:12\.\d+\.\d+-cudnn-runtime-ubuntu\d+\.\d+", stages["gpu"])
    assert "awslambdaric" in dockerfile and 'ENTRYPOINT ["python3", "-m", "awslambdaric"]' in dockerfile
    assert dockerfile.count('CMD ["app.lambda_handler"]') == 2
    for source in re.findall(r"^COPY (?!\$\{)(\S+)", dockerfile, flags=re.MULTILINE):
        assert (REPO / source).exists(), f"Dockerfile copies {source}, which is not in the repository"
    # The model is baked at build time (never fetched) by the same command in both stages.
    [prepare] = set(re.findall(r'python3 -c "([^"]+)" "/opt/models/\$\{MODEL_NAME\}"', dockerfile))
    assert dockerfile.count(prepare) == 2
    assert dockerfile.count("CALLSIGHT_ASR_MODEL=/opt/models/${MODEL_NAME}") == 2


def test_the_images_model_preparation_command_assembles_the_bundled_model(tmp_path: Path) -> None:
    """Runs the Dockerfile's own command (no CLI extras in the image) into a temporary directory."""
    dockerfile = (REPO / "functions" / "transcribe" / "Dockerfile").read_text()
    [prepare] = set(re.findall(r'python3 -c "([^"]+)" "/opt/models/\$\{MODEL_NAME\}"', dockerfile))
    target = tmp_path / "models" / "whisper-base"
    subprocess.run([sys.executable, "-c", prepare, str(target)], check=True, timeout=300)
    assert {"model.bin", "config.json", "tokenizer.json"} <= {p.name for p in target.iterdir()}
