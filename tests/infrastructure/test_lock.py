"""The lock (``layers/requirements.lock``) is the one source of dependency versions.

``make lock`` resolves it from ``pyproject.toml``; the venv (``make test``, ``make demo``, CI), the
Lambda layers and the transcriber image all install through it. These tests catch a lock that no
longer matches ``pyproject.toml`` and an environment that was not installed from it (two machines
testing different code is what the lock exists to prevent).
"""

from __future__ import annotations

import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import REPO
from tests.infrastructure.template_model import load_build_layer

LOCK = REPO / "layers" / "requirements.lock"
build_layer = load_build_layer()


def lock_pins() -> dict[str, Version]:
    pins = {}
    for pin in build_layer.locked_pins(LOCK):
        requirement = Requirement(pin)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"the lock pins exact versions, not {pin!r}"
        pins[canonicalize_name(requirement.name)] = Version(specifier.version)
    return pins


def project_requirements() -> list[Requirement]:
    """Every requirement of the project and of each extra (``callsight[...]`` self-references expanded)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    texts = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        texts += extra
    return [r for r in map(Requirement, texts) if canonicalize_name(r.name) != "callsight"]


def test_every_requirement_of_the_project_is_pinned_within_its_range() -> None:
    pins = lock_pins()
    for requirement in project_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in the lock: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"the lock pins {name}=={pins[name]}, outside pyproject.toml's {requirement}: run `make lock`"
        )


def installed_version(name: str) -> Version | None:
    """The version an import would use: the first distribution on ``sys.path`` (importing
    ``pkg_resources`` appends setuptools' vendored copies of packaging and wheel after site-packages)."""
    try:
        return Version(metadata.version(name))
    except metadata.PackageNotFoundError:
        return None


def test_this_environment_was_installed_from_the_lock() -> None:
    # Compared without a local label: torch 2.13.0+cpu is the CPU build of the locked torch 2.13.0.
    drift = {
        name: f"installed {installed}, locked {version}"
        for name, version in lock_pins().items()
        if (installed := installed_version(name)) is not None and Version(installed.public) != version
    }
    assert not drift, f"the environment differs from the lock (reinstall with `make`): {drift}"


def test_every_install_path_goes_through_the_lock() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "LOCK   := layers/requirements.lock" in makefile
    assert makefile.count("--constraint $(LOCK)") >= 2  # pip itself, then the project with [dev]
    dockerfile = (REPO / "functions" / "transcribe" / "Dockerfile").read_text(encoding="utf-8")
    install_lines = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert install_lines and all(
        "--constraint /build/layers/requirements.lock" in line for line in install_lines
    )
    assert build_layer.LOCK_FILE == LOCK
    assert "make test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
    localstack = (REPO / "infrastructure" / "localstack" / "run-tests.sh").read_text(encoding="utf-8")
    assert '--constraint "$here/requirements.lock"' in localstack
