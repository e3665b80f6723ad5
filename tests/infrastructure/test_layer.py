"""The Lambda layers build, fit Lambda's limits, hold what the functions import, and build reproducibly.

Builds with ``layers/build_layer.py`` (pip from PyPI, manylinux x86_64 wheels for CPython 3.12) into a
temporary directory, twice. Each zip function of the template is then imported under CPython 3.12
(when such an interpreter is on this machine) from exactly the layers the template gives it, and
the lazily loaded parts are exercised: PyAV decodes the sample recordings, the language packs run
natasha, pymorphy and the stemmers.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from tests.infrastructure import template_model as tm

pytestmark = pytest.mark.layer_build

build_layer = tm.load_build_layer()
LAYER_OF_RESOURCE = {f"{name.capitalize()}Layer": name for name in build_layer.LAYERS}
ZIP_FUNCTIONS = [f for f in tm.functions() if f.package_type == "Zip"]


def source_digest() -> str:
    """The packed callsight sources, so a test can tell whether someone edited them mid-run."""
    digest = hashlib.sha256()
    for relative, path in build_layer.callsight_files():
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Any:
    before = source_digest()
    result = build_layer.build(tmp_path_factory.mktemp("layer"))
    # None: layers/callsight changed during the build (a shared working tree), see the tests using it.
    result.source_digest = before if source_digest() == before else None
    for line in build_layer.report(result):
        print(line)
    return result


def code_size(function: tm.Function) -> int:
    folder = tm.FUNCTIONS_DIR / function.directory
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def test_every_zip_function_fits_the_unzipped_limit(built: Any) -> None:
    figures = {}
    for function in ZIP_FUNCTIONS:
        layers = [LAYER_OF_RESOURCE[layer] for layer in function.layers]
        total = code_size(function) + sum(built.layers[layer].unzipped_bytes for layer in layers)
        figures[function.directory] = {"layers": layers, "unzipped_mb": round(total / 1e6, 1)}
        assert total < build_layer.LAMBDA_UNZIPPED_LIMIT, (
            f"{function.logical}: {total / 1e6:.1f} MB unzipped with {layers}, "
            f"over Lambda's {build_layer.LAMBDA_UNZIPPED_LIMIT / 1e6:.1f} MB"
        )
    print(json.dumps(figures, indent=1))


def test_manifest_records_every_layer(built: Any) -> None:
    manifest = json.loads((built.out / "layers.json").read_text())
    assert manifest["python_version"] == build_layer.PYTHON_VERSION
    assert set(manifest["layers"]) == set(build_layer.LAYERS)
    for name, layer in manifest["layers"].items():
        assert (built.out / layer["zip"]).stat().st_size == layer["zipped_bytes"]
        assert (built.out / f"{name}.requirements.txt").read_text().count("==") == len(layer["distributions"])


EXPECTED_PACKAGES = {
    "core": ["callsight", "boto3", "botocore", "aws_lambda_powertools", "aws_xray_sdk", "pynamodb",
             "pydantic", "pydantic_core", "pydantic_settings", "phonenumbers", "yaml", "jwt", "cryptography",
             "chalice"],
    "audio": ["av"],
    "analysis": ["nltk", "vaderSentiment", "pymorphy3", "pymorphy3_dicts_ru", "natasha", "navec", "slovnet",
                 "text_to_num", "words2num2", "numpy", "pkg_resources"],
}  # fmt: skip


@pytest.mark.parametrize("layer", build_layer.LAYERS)
def test_layer_contents(built: Any, layer: str) -> None:
    with zipfile.ZipFile(built.layers[layer].zip_path) as archive:
        names = archive.namelist()
        infos = archive.infolist()
    assert names == sorted(names), "entries are sorted"
    assert all(n.startswith("python/") for n in names), "Lambda puts python/ of a layer on sys.path"
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}, "fixed timestamps"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if "/tests/" in n or "/test/" in n]
    top = {n.split("/")[1] for n in names}
    missing = [p for p in EXPECTED_PACKAGES[layer] if p not in top]
    assert not missing, f"{layer} lacks {missing}"
    foreign = [n for n in names if n.endswith(".so") and "cpython-" in n and "cpython-312-x86_64" not in n]
    assert not foreign, f"extension modules for another Python or platform: {foreign[:5]}"


def test_callsight_is_the_working_tree(built: Any) -> None:
    if built.source_digest is None or source_digest() != built.source_digest:
        pytest.skip("layers/callsight changed while the tests ran")
    with zipfile.ZipFile(built.layers["core"].zip_path) as archive:
        packed = {n.removeprefix("python/") for n in archive.namelist() if n.startswith("python/callsight/")}
    source = {
        f"callsight/{p.relative_to(build_layer.PACKAGE_DIR).as_posix()}"
        for p in build_layer.PACKAGE_DIR.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    tools = {f for f in source if any(f == d or f.startswith(d + "/") for d in build_layer.DEV_TOOL_PATHS)}
    assert "callsight/__init__.py" in packed and "callsight/py.typed" in packed
    assert tools and packed == source - tools


def test_no_distribution_is_in_two_layers(built: Any) -> None:
    seen: dict[str, str] = {}
    for name, layer in built.layers.items():
        for distribution in layer.distributions:
            assert distribution not in seen, f"{distribution} in {seen.get(distribution)} and {name}"
            seen[distribution] = name


def test_pruned_phonenumbers_modules_are_unused() -> None:
    """The build drops phonenumbers' geocoder, carrier and time-zone data; callsight must not need them."""
    pruned = {
        Path(p).stem for p in build_layer.PRUNE_PATHS if p.startswith("phonenumbers/") and p.endswith(".py")
    }
    for path in build_layer.PACKAGE_DIR.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for module in pruned:
            assert (
                f"phonenumbers.{module}" not in text and f"from phonenumbers import {module}" not in text
            ), f"{path} uses phonenumbers.{module}, which the layer build prunes"


def _callsight_imports(path: Path) -> set[str]:
    """Every ``callsight`` module a file imports, at its top or lazily inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "callsight":
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "callsight"}
    return found


def _module_path(module: str) -> Path | None:
    base = build_layer.PACKAGE_DIR.joinpath(*module.split(".")[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None  # a name imported from a module, not a module


def test_no_function_reaches_a_module_the_layer_leaves_out() -> None:
    """The CLI, the local emulator, the reconciler and label-model training are left out of the core
    layer (with their dependencies); no deployed function may import them, even lazily."""
    todo = [m for app in Path("functions").glob("*/app.py") for m in _callsight_imports(app)]
    reached: set[Path] = set()
    while todo:
        module = todo.pop()
        parts = module.split(".")
        todo += [".".join(parts[:n]) for n in range(2, len(parts))]  # its packages' __init__ run too
        path = _module_path(module)
        if path is None or path in reached:
            continue
        reached.add(path)
        todo += _callsight_imports(path)
    relative = {
        PurePosixPath("callsight", p.relative_to(build_layer.PACKAGE_DIR).as_posix()).as_posix()
        for p in reached
    }
    left_out = [
        r for r in relative if any(r == d or r.startswith(d + "/") for d in build_layer.DEV_TOOL_PATHS)
    ]
    assert len(reached) > 50 and not left_out, f"functions import modules the layer leaves out: {left_out}"


def test_the_core_layer_leaves_the_tools_out(built: Any) -> None:
    with zipfile.ZipFile(built.layers["core"].zip_path) as archive:
        names = archive.namelist()
    assert "python/callsight/config.py" in names
    for tool in build_layer.DEV_TOOL_PATHS:
        assert not [n for n in names if n == f"python/{tool}" or n.startswith(f"python/{tool}/")], tool


# --- the functions run on their layers under CPython 3.12 -------------------------------------------------


def python312() -> str | None:
    """A working CPython 3.12 here: ``CALLSIGHT_PYTHON312``, ``python3.12`` on PATH, or pyenv's."""
    candidates = [os.environ.get("CALLSIGHT_PYTHON312"), shutil.which("python3.12")]
    candidates += sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
        )
        if probe.returncode == 0 and probe.stdout.strip() == "(3, 12)":
            return candidate
    return None


SMOKE = r"""
import importlib.util, json, sys
from pathlib import Path
module_path, attribute, probes = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
spec = importlib.util.spec_from_file_location("app", module_path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(getattr(module, attribute)), attribute
done = []
if "audio" in probes:
    from callsight.config import Settings
    from callsight.stages.ingest.audio_probe import probe_audio
    settings = Settings()
    for path in sorted(Path(probes["audio"]).glob("*")):
        if path.suffix in {".wav", ".flac"}:
            facts = probe_audio(path, accepted_codecs=settings.accepted_codec_set,
                                max_duration_s=settings.max_duration_s, min_duration_s=settings.min_duration_s)
            done.append(f"{path.suffix}:{facts.codec}")
if "language" in probes:
    from callsight.analysis.languages import language_pack
    ru, en = language_pack("ru"), language_pack("en")
    text = "Меня зовут Иван Петров, заказ на двадцать пять тысяч рублей, всё ужасно"
    assert "25000" in ru.normalize_numbers(text)
    assert any(e.type == "person" for e in ru.names_to_mask(text)), ru.names_to_mask(text)
    assert ru.sentiment(text) < 0 and ru.stem("звонками")
    assert en.sentiment("great service, thank you") > 0 and en.entities("I paid twenty five dollars") is not None
    done.append("ru+en")
print(sys.version_info[:2], sorted(sys.modules.keys() & {"av", "natasha", "numpy", "jwt", "chalice"}), done)
"""


@pytest.fixture(scope="module")
def extracted(built: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    root = tmp_path_factory.mktemp("opt")
    paths = {}
    for name, layer in built.layers.items():
        with zipfile.ZipFile(layer.zip_path) as archive:
            archive.extractall(root / name)
        paths[name] = root / name / "python"
    yield paths


@pytest.mark.parametrize("function", ZIP_FUNCTIONS, ids=lambda f: f.logical)
def test_function_runs_on_its_layers_under_python312(
    function: tm.Function, extracted: dict[str, Path]
) -> None:
    interpreter = python312()
    if interpreter is None:
        pytest.skip("no CPython 3.12 here (set CALLSIGHT_PYTHON312); the layers hold cp312 binaries")
    layers = [LAYER_OF_RESOURCE[layer] for layer in function.layers]
    probes: dict[str, str] = {}
    # the lazily imported parts once per combination of layers (api shares analyze's)
    first_of_combination = next(f for f in ZIP_FUNCTIONS if f.layers == function.layers) is function
    if "audio" in layers and first_of_combination:
        probes["audio"] = str(tm.REPO / "events" / "samples" / "recordings")
    if "analysis" in layers and first_of_combination:
        probes["language"] = "ru,en"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(extracted[layers[0]].parent),
        "PYTHONPATH": os.pathsep.join(str(extracted[layer]) for layer in layers),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "CALLSIGHT_AWS_ENDPOINT": "http://127.0.0.1:9",  # never real AWS; nothing is called at import
    }
    # -S: no site-packages, only the standard library and the layers, as in Lambda's /opt/python.
    run = subprocess.run(
        [interpreter, "-S", "-c", SMOKE, str(function.module_path), function.attribute, json.dumps(probes)],
        capture_output=True, text=True, env=env, cwd=function.module_path.parent, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, f"{function.logical} on {layers} under {interpreter}:\n{run.stderr[-3000:]}"
    print(function.logical, layers, run.stdout.strip())


def entry_crcs(path: Path, skip_prefix: str | None = None) -> dict[str, int]:
    with zipfile.ZipFile(path) as archive:
        return {
            i.filename: i.CRC
            for i in archive.infolist()
            if not (skip_prefix and i.filename.startswith(skip_prefix))
        }


def test_build_is_reproducible(built: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    digest_before = source_digest()
    again = build_layer.build(tmp_path_factory.mktemp("layer-again"))
    if built.source_digest == digest_before == source_digest():
        assert {n: layer.sha256 for n, layer in again.layers.items()} == {
            n: layer.sha256 for n, layer in built.layers.items()
        }, "two builds of the same tree gave different zips"
        return
    # layers/callsight changed while the tests ran (a shared working tree): everything else must not.
    for name in build_layer.LAYERS:
        if name != "core":
            assert again.layers[name].sha256 == built.layers[name].sha256, name
    assert entry_crcs(again.layers["core"].zip_path, "python/callsight/") == entry_crcs(
        built.layers["core"].zip_path, "python/callsight/"
    )


def test_cli_reports_the_build(tmp_path: Path) -> None:
    """``python layers/build_layer.py --help`` works from any directory (no build: that is covered above)."""
    run = subprocess.run(
        [sys.executable, str(tm.REPO / "layers" / "build_layer.py"), "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0 and "--constraint" in run.stdout
