"""The architecture's rules hold in the code (issue 19): import-linter's contracts in pyproject.toml
(a one-way stack of layers, no import cycle between callsight's subpackages, only ``callsight.storage``
imports boto3/botocore/PynamoDB) and the handlers, which sit outside the package, touch no AWS SDK."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AWS_SDKS = {"boto3", "botocore", "pynamodb"}


def test_import_linter_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT / "layers")},
        capture_output=True,
        text=True,
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    for contract in (
        "stack of layers",
        "cycle",
        "AWS SDK",
        "(callsight.storage.aws)",
        "(callsight.storage.tables)",
    ):
        assert any(contract in line and "KEPT" in line for line in report.splitlines()), report


def test_the_contracts_catch_a_violation(tmp_path: Path) -> None:
    """The checker is not vacuous: a domain module importing boto3, storage and the table models breaks
    three contracts."""
    tree = tmp_path / "layers"
    shutil.copytree(
        ROOT / "layers" / "callsight", tree / "callsight", ignore=shutil.ignore_patterns("static")
    )
    (tree / "callsight" / "analysis" / "leak.py").write_text(
        "import boto3\nfrom callsight.storage.audit_log import AuditLog\nfrom callsight.storage.tables import CallItem\n"
    )
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=tmp_path,
        env=os.environ | {"PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 1, report
    assert "callsight.analysis.leak -> boto3" in report
    assert "callsight.analysis.leak -> callsight.storage.audit_log" in report
    assert "callsight.analysis.leak -> callsight.storage.tables" in report


def test_handlers_do_not_touch_the_aws_sdk() -> None:
    for handler in sorted((ROOT / "functions").glob("*/app.py")):
        for node in ast.walk(ast.parse(handler.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not {name.split(".")[0] for name in names} & AWS_SDKS, f"{handler}: {names}"
