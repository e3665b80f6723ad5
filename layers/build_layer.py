"""Build the Lambda layers of the zip functions: reproducible zips of manylinux x86_64 wheels.

    python layers/build_layer.py                  # -> build/layer/{core,audio,analysis}.zip + layers.json
    python layers/build_layer.py --out /tmp/l --unlocked

Everything the zip functions import at run time is in a layer, installed from wheels only
(``pip install --platform manylinux… --only-binary=:all: --python-version 3.12 --implementation
cp``): nothing is compiled for this machine and nothing is downloaded when a function starts.
The transcriber and the masking sweep are container images and take none of this.

One layer cannot hold it all: Lambda allows 250 MiB *unzipped* for a function plus all its layers,
and PyAV (its own FFmpeg), NumPy and the Russian language models together are well over that. So
the dependencies are split into three layers that functions combine (see ``LAYER_OF`` and the
``Layers`` of each function in ``infrastructure/template.yaml``; the tests check every combination
against the limit and import every function under CPython 3.12 from exactly its layers):

* ``core``     — the ``callsight`` package, ``[project].dependencies`` except PyAV, the ``api``
                 extra, PyYAML. Every zip function.
* ``audio``    — PyAV (probing and decoding with its bundled FFmpeg). ``ingest``.
* ``analysis`` — the ``analysis`` extra (nltk, VADER, pymorphy3, natasha with its models, spoken
                 numbers) and NumPy. ``analyze`` and ``api``.

Reproducible: one resolution for all layers (shared dependencies get one version), versions
pinned to ``layers/requirements.lock`` by default (the venv the tests run in is installed from it), no ``.pyc``, sorted
zip entries with fixed timestamps and permissions; two builds give byte-identical zips. The
manifest ``layers.json`` records each zip's SHA-256, sizes and distributions, and
``<layer>.requirements.txt`` the pins, which ``--constraint`` replays later.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
PACKAGE_DIR = REPO / "layers" / "callsight"
DEFAULT_OUT = REPO / "build" / "layer"

#: The Lambda runtime is ``python<PYTHON_VERSION>`` (the template's ``Runtime``; a test ties them).
PYTHON_VERSION = "3.12"
#: Lambda's python3.12 runs on Amazon Linux 2023 (glibc 2.34): manylinux2014 (glibc 2.17) wheels
#: and the newer manylinux_2_28/2_34 ones that recent NumPy and PyAV releases ship only.
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64", "manylinux_2_34_x86_64")
#: Function code plus all its layers, unzipped (250 MiB).
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
#: Lambda allows at most five layers per function.
LAMBDA_MAX_LAYERS = 5

LAYERS = ("core", "audio", "analysis")
LAYER_DESCRIPTIONS = {
    "core": "callsight package + core, API and PyYAML dependencies",
    "audio": "PyAV with its bundled FFmpeg (decode/probe call audio)",
    "analysis": "Call analysis: nltk, VADER, pymorphy3, natasha (RU models), spoken numbers, NumPy",
}
#: Where a requirement of pyproject.toml goes when it is not the default of its group
#: (``[project].dependencies`` and the ``api`` extra go to ``core``, the ``analysis`` extra to ``analysis``).
LAYER_OF = {"av": "audio", "pyyaml": "core"}
#: The extras the zip functions need (``asr`` and the model belong to the transcriber's image).
EXTRAS = {"api": "core", "analysis": "analysis"}
#: Run-time needs no requirement states: natasha's ``MorphVocab`` is a pymorphy2 analyzer, which
#: finds its dictionaries through ``pkg_resources`` (setuptools). python3.12 runtimes ship no
#: setuptools; before 66.1 ``pkg_resources`` fails to import on 3.12 (``pkgutil.ImpImporter``), from 81
#: on it is gone.
EXTRA_ROOTS = {"analysis": ("setuptools>=70,<81",)}
#: Installed without their dependencies: Chalice's run-time part is one stdlib-only module; its own
#: dependencies (pip, setuptools, click, inquirer…) are for the CLI that packages apps.
NO_DEPS = frozenset({"chalice"})
#: Pure-Python distributions published as source only (no wheel on PyPI): built here into a
#: ``py3-none-any`` wheel (checked) before the binary-only install. docopt comes with natasha → pymorphy2.
PURE_SDISTS = ("docopt",)

#: Directory names dropped anywhere below a package (test suites, bytecode caches).
PRUNE_DIR_NAMES = frozenset({"__pycache__", "tests", "test"})
#: Files or directories dropped, with the reason. phonenumbers' geocoder, carrier and time-zone data
#: (20 MB) serve modules callsight never imports (it parses, formats and matches numbers only); the
#: modules go too, so an import would fail loudly instead of finding no data.
PRUNE_PATHS = {
    "phonenumbers/geodata": "geocoder data: unused",
    "phonenumbers/geocoder.py": "unused",
    "phonenumbers/geocoder.pyi": "unused",
    "phonenumbers/carrierdata": "carrier data: unused",
    "phonenumbers/carrier.py": "unused",
    "phonenumbers/carrier.pyi": "unused",
    "phonenumbers/tzdata": "time-zone data: unused",
    "phonenumbers/timezone.py": "unused",
    "phonenumbers/timezone.pyi": "unused",
    # Callsight's own tools that run on a workstation, never in a function (their dependencies, typer,
    # rich, moto and scikit-learn, are not in any layer): tests/infrastructure/test_layer.py checks that
    # no function's imports reach them.
    "callsight/cli": "developer CLI (its command groups, consent, voice prints, training)",
    "callsight/local": "embedded emulator and local runner",
    "callsight/reconcile": "reconciler (run from the CLI)",
    "callsight/analysis/learned/trainer.py": "label-model training (scikit-learn)",
    "callsight/analysis/learned/training.py": "label-model training (scikit-learn)",
    "callsight/analysis/learned/evaluation.py": "label-model evaluation",
    "callsight/analysis/learned/examples.py": "labelled-corpus loading",
}
#: The package's modules left out of the layer as tools (a subset of ``PRUNE_PATHS``).
DEV_TOOL_PATHS = tuple(p for p in PRUNE_PATHS if p.startswith("callsight/"))
#: Distributions that install the same module, knowingly: pymorphy2 (natasha's) needs DAWG-Python,
#: pymorphy3 needs its drop-in fork DAWG2-Python; both are ``dawg_python``. The files on disk are the
#: ones pip wrote last, exactly as in the development environment where the tests pass.
SHARED_MODULES = (frozenset({"dawg-python", "dawg2-python"}),)
#: Per-install files that differ between machines or builds.
VOLATILE_FILES = frozenset({"direct_url.json"})

#: 1980-01-01, the earliest time a zip entry can hold.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
#: Fast deflate: level 6 makes the zips 7 % smaller (139 vs 149 MB) for three times the CPU; Lambda's
#: limits count unzipped bytes, and the tests build twice.
ZIP_COMPRESSLEVEL = 1


class BuildError(RuntimeError):
    """The layers cannot be built as asked (pip failed, a dependency has no home, a file is claimed twice)."""


@dataclass
class Dist:
    """One installed distribution in the staging directory."""

    name: str
    version: str
    requires: list[Requirement]
    files: list[str]
    dist_info: str


@dataclass
class LayerBuild:
    name: str
    zip_path: Path
    sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    files: int
    distributions: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "zip": self.zip_path.name,
            "sha256": self.sha256,
            "zipped_bytes": self.zipped_bytes,
            "unzipped_bytes": self.unzipped_bytes,
            "files": self.files,
            "distributions": self.distributions,
        }


# --- what goes where -----------------------------------------------------------------------------


def pyproject_requirements(pyproject: Path = REPO / "pyproject.toml") -> dict[str, list[Requirement]]:
    """The layers' root requirements from ``pyproject.toml``: ``{layer: [requirement, ...]}``."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    extras: dict[str, list[str]] = project.get("optional-dependencies", {})
    roots: dict[str, list[Requirement]] = {layer: [] for layer in LAYERS}
    groups: list[tuple[str, list[str]]] = [("core", project.get("dependencies", []))]
    for extra, default_layer in EXTRAS.items():
        if extra not in extras:
            raise BuildError(f"pyproject.toml has no [project.optional-dependencies] {extra!r}")
        groups.append((default_layer, extras[extra]))
    groups += [(layer, list(texts)) for layer, texts in EXTRA_ROOTS.items()]
    for default_layer, requirements in groups:
        for text in requirements:
            requirement = Requirement(text)
            roots[LAYER_OF.get(canonicalize_name(requirement.name), default_layer)].append(requirement)
    return roots


def target_environment() -> dict[str, str]:
    """PEP 508 marker values of the Lambda runtime (CPython 3.12 on x86_64 Linux)."""
    env = {key: str(value) for key, value in default_environment().items()}
    env.update(
        implementation_name="cpython",
        platform_python_implementation="CPython",
        python_version=PYTHON_VERSION,
        python_full_version=f"{PYTHON_VERSION}.0",
        implementation_version=f"{PYTHON_VERSION}.0",
        sys_platform="linux",
        platform_system="Linux",
        platform_machine="x86_64",
        os_name="posix",
    )
    return env


#: Every dependency version (``make lock``): the venv the tests run in is installed from it too, so
#: the layers carry exactly the tested versions.
LOCK_FILE = REPO / "layers" / "requirements.lock"


def locked_pins(lock: Path = LOCK_FILE) -> list[str]:
    """``name==version`` of every distribution in the lock (comments and ``# via`` lines dropped)."""
    pins = []
    for line in lock.read_text(encoding="utf-8").splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement and not line.startswith((" ", "-")):
            pins.append(requirement)
    if not pins:
        raise BuildError(f"{lock} pins nothing: run `make lock`")
    return pins


# --- pip --------------------------------------------------------------------------------------------


def _pip(args: list[str], quiet: bool) -> None:
    command = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--no-input"]
    if quiet:
        command.append("--quiet")
    result = subprocess.run(command, capture_output=quiet, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        detail = (result.stderr or "")[-4000:] if quiet else ""
        raise BuildError(f"pip failed ({result.returncode}): {' '.join(command)}\n{detail}")


def _binary_install_args(target: Path) -> list[str]:
    args = ["install", "--no-compile", "--no-warn-conflicts", "--only-binary=:all:", "--target", str(target)]
    for platform in PLATFORMS:
        args += ["--platform", platform]
    return [*args, "--python-version", PYTHON_VERSION, "--implementation", "cp"]


def build_pure_wheels(wheelhouse: Path, constraints: Path, quiet: bool) -> None:
    """Wheels for the source-only pure-Python distributions (refuses anything platform-specific)."""
    wheelhouse.mkdir(parents=True, exist_ok=True)
    _pip(
        ["wheel", "--no-deps", "--no-binary", ",".join(PURE_SDISTS), "-c", str(constraints),
         "-w", str(wheelhouse), *PURE_SDISTS],
        quiet,
    )  # fmt: skip
    for wheel in wheelhouse.glob("*.whl"):
        if not wheel.name.endswith("-none-any.whl"):
            raise BuildError(f"{wheel.name} is not a pure-Python wheel; it cannot go into a manylinux layer")


def install(staging: Path, roots: dict[str, list[Requirement]], constraints: Path, quiet: bool) -> None:
    """One resolution for every layer into ``staging``; ``NO_DEPS`` distributions on their own."""
    wheelhouse = staging.parent / "wheelhouse"
    build_pure_wheels(wheelhouse, constraints, quiet)
    every = [r for layer in LAYERS for r in roots[layer]]
    with_deps = [str(r) for r in every if canonicalize_name(r.name) not in NO_DEPS]
    without_deps = [str(r) for r in every if canonicalize_name(r.name) in NO_DEPS]
    common = ["-c", str(constraints), "--find-links", str(wheelhouse)]
    _pip([*_binary_install_args(staging), *common, *with_deps], quiet)
    if without_deps:
        solo = staging.parent / "no-deps"
        _pip([*_binary_install_args(solo), *common, "--no-deps", *without_deps], quiet)
        for entry in sorted(solo.iterdir()):
            if entry.name == "bin":
                continue  # console scripts: no use in Lambda
            if (staging / entry.name).exists():
                raise BuildError(f"{entry.name} installed twice (with and without dependencies)")
            shutil.move(str(entry), staging / entry.name)


# --- reading the staging directory ------------------------------------------------------------------


def read_distributions(staging: Path) -> dict[str, Dist]:
    dists: dict[str, Dist] = {}
    for info in sorted(staging.glob("*.dist-info")):
        meta = metadata.PathDistribution(info)
        name = canonicalize_name(meta.metadata["Name"])
        record = info / "RECORD"
        files = [row[0] for row in csv.reader(record.read_text(encoding="utf-8").splitlines()) if row]
        dists[name] = Dist(
            name=name,
            version=meta.version,
            requires=[Requirement(r) for r in meta.requires or []],
            files=files,
            dist_info=info.name,
        )
    return dists


def closure(roots: Iterable[Requirement], dists: dict[str, Dist], env: dict[str, str]) -> set[str]:
    """Names of ``roots`` and everything they need on the target (extras and markers honoured)."""
    seen: set[str] = set()
    todo: list[tuple[str, frozenset[str]]] = [
        (canonicalize_name(r.name), frozenset(r.extras))
        for r in roots
        if r.marker is None or r.marker.evaluate(env)
    ]
    expanded: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in expanded:
            continue
        expanded.add((name, extras))
        if name not in dists:
            raise BuildError(f"{name} is required but pip did not install it")
        seen.add(name)
        if name in NO_DEPS:
            continue
        for requirement in dists[name].requires:
            wanted = [{**env, "extra": extra} for extra in extras] or [{**env, "extra": ""}]
            if requirement.marker is None or any(requirement.marker.evaluate(e) for e in wanted):
                todo.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return seen


def assign_layers(
    roots: dict[str, list[Requirement]], dists: dict[str, Dist], env: dict[str, str]
) -> dict[str, set[str]]:
    """Distributions per layer: ``core`` first; what core has is never repeated in another layer."""
    assigned: dict[str, set[str]] = {}
    core = closure(roots["core"], dists, env)
    assigned["core"] = core
    for layer in LAYERS:
        if layer != "core":
            assigned[layer] = closure(roots[layer], dists, env) - core
    unused = set(dists) - set().union(*assigned.values())
    if unused:
        raise BuildError(f"installed but needed by no layer: {sorted(unused)}")
    return assigned


def _is_pruned(relative: PurePosixPath) -> bool:
    if any(part in PRUNE_DIR_NAMES for part in relative.parts[1:-1]) or relative.suffix == ".pyc":
        return True
    text = relative.as_posix()
    return any(text == p or text.startswith(p + "/") for p in PRUNE_PATHS) or relative.name in VOLATILE_FILES


def layer_files(staging: Path, dists: dict[str, Dist], members: set[str]) -> list[tuple[str, Path]]:
    """``(path inside python/, source file)`` of the given distributions, pruned, sorted."""
    files: dict[str, Path] = {}
    for name in sorted(members):
        for entry in dists[name].files:
            relative = PurePosixPath(entry)
            if relative.parts[0] == ".." or _is_pruned(relative):
                continue  # console scripts land outside the target (bin/): no use in Lambda
            source = staging / relative
            if source.is_file():
                files[relative.as_posix()] = source
    return sorted(files.items())


def check_ownership(staging: Path, dists: dict[str, Dist]) -> None:
    """Every installed file belongs to exactly one distribution (else a layer would miss or repeat it)."""
    owner: dict[str, str] = {}
    for dist in dists.values():
        for entry in dist.files:
            if entry.startswith("../"):
                continue  # console scripts (bin/), never packed
            if entry in owner and owner[entry] != dist.name:
                if frozenset({owner[entry], dist.name}) in SHARED_MODULES:
                    continue
                raise BuildError(f"{entry} is installed by both {owner[entry]} and {dist.name}")
            owner[entry] = dist.name
    for path in sorted(staging.rglob("*")):
        relative = path.relative_to(staging).as_posix()
        if path.is_file() and relative not in owner and not relative.startswith("bin/"):
            raise BuildError(f"{relative} belongs to no installed distribution")


def callsight_files() -> list[tuple[str, Path]]:
    """The package's own files (sources and data), without caches."""
    files: list[tuple[str, Path]] = []
    for path in sorted(PACKAGE_DIR.rglob("*")):
        relative = PurePosixPath("callsight", path.relative_to(PACKAGE_DIR).as_posix())
        if path.is_file() and not _is_pruned(relative):
            files.append((relative.as_posix(), path))
    return files


# --- zips -------------------------------------------------------------------------------------------


def write_zip(target: Path, files: list[tuple[str, Path]]) -> None:
    """A deterministic zip: sorted ``python/…`` entries, fixed time, 0644/0755 modes, fixed compression."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_COMPRESSLEVEL) as archive:
        for relative, source in sorted(files):
            info = zipfile.ZipInfo(f"python/{relative}", date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the mode bits below are honoured
            executable = source.stat().st_mode & stat.S_IXUSR
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            with source.open("rb") as handle:
                archive.writestr(info, handle.read(), compresslevel=ZIP_COMPRESSLEVEL)
    partial.replace(target)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def unzipped_size(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


# --- the build --------------------------------------------------------------------------------------


def _package_layer(
    layer: str, members: set[str], staging: Path, dists: dict[str, Dist], out: Path
) -> LayerBuild:
    files = layer_files(staging, dists, members)
    if layer == "core":
        files = sorted(files + callsight_files())
    zip_path = out / f"{layer}.zip"
    write_zip(zip_path, files)
    pinned = {dists[n].name: dists[n].version for n in sorted(members)}
    (out / f"{layer}.requirements.txt").write_text(
        "".join(f"{name}=={version}\n" for name, version in pinned.items()), encoding="utf-8"
    )
    return LayerBuild(
        name=layer,
        zip_path=zip_path,
        sha256=sha256_of(zip_path),
        zipped_bytes=zip_path.stat().st_size,
        unzipped_bytes=sum(source.stat().st_size for _, source in files),
        files=len(files),
        distributions=pinned,
    )


@dataclass
class BuildResult:
    out: Path
    layers: dict[str, LayerBuild]
    seconds: float

    def manifest(self) -> dict[str, object]:
        return {
            "python_version": PYTHON_VERSION,
            "platforms": list(PLATFORMS),
            "unzipped_limit_bytes": LAMBDA_UNZIPPED_LIMIT,
            "layers": {name: layer.as_json() for name, layer in self.layers.items()},
        }


def build(
    out: Path = DEFAULT_OUT,
    *,
    constraint: Path | None = None,
    locked: bool = True,
    quiet: bool = True,
) -> BuildResult:
    """Build every layer into ``out`` (``<layer>.zip``, ``<layer>.requirements.txt``, ``layers.json``)."""
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    roots = pyproject_requirements()
    env = target_environment()
    with tempfile.TemporaryDirectory(prefix="callsight-layer-") as work:
        scratch = Path(work)
        constraints = scratch / "constraints.txt"
        pins = locked_pins() if locked else []
        if constraint is not None:
            pins += constraint.read_text(encoding="utf-8").splitlines()
        constraints.write_text("\n".join(pins) + "\n", encoding="utf-8")
        staging = scratch / "python"
        install(staging, roots, constraints, quiet)
        dists = read_distributions(staging)
        check_ownership(staging, dists)
        assignment = assign_layers(roots, dists, env)
        # zlib releases the GIL: the three zips compress in parallel.
        with ThreadPoolExecutor(max_workers=len(assignment)) as pool:
            futures = {
                layer: pool.submit(_package_layer, layer, members, staging, dists, out)
                for layer, members in assignment.items()
            }
            layers = {layer: future.result() for layer, future in futures.items()}
    result = BuildResult(out=out, layers=layers, seconds=time.monotonic() - started)
    (out / "layers.json").write_text(json.dumps(result.manifest(), indent=2) + "\n", encoding="utf-8")
    return result


def _mb(value: int) -> str:
    return f"{value / 1e6:7.1f} MB"


def report(result: BuildResult) -> Iterator[str]:
    yield f"layers for python{PYTHON_VERSION} ({', '.join(PLATFORMS)}) in {result.out}"
    for name, layer in result.layers.items():
        yield (
            f"  {name:<9} zipped {_mb(layer.zipped_bytes)}  unzipped {_mb(layer.unzipped_bytes)}  "
            f"{layer.files:>6} files  sha256 {layer.sha256[:16]}…  {LAYER_DESCRIPTIONS[name]}"
        )
    yield f"  built in {result.seconds:.0f} s; Lambda limit: function + its layers <= {_mb(LAMBDA_UNZIPPED_LIMIT)} unzipped"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output directory (default: build/layer)"
    )
    parser.add_argument("--constraint", type=Path, help="extra pins (e.g. a previous build's requirements)")
    parser.add_argument(
        "--unlocked",
        action="store_true",
        help="resolve the newest versions instead of layers/requirements.lock's",
    )
    parser.add_argument("--verbose", action="store_true", help="show pip's output")
    args = parser.parse_args(argv)
    try:
        result = build(args.out, constraint=args.constraint, locked=not args.unlocked, quiet=not args.verbose)
    except BuildError as exc:
        print(f"layer build failed: {exc}", file=sys.stderr)
        return 1
    for line in report(result):
        print(line)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PIP_PROGRESS_BAR", "off")
    sys.exit(main())
