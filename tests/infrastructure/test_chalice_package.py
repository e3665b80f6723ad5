"""Chalice's own packager agrees with the template's REST API.

The template deploys the Chalice app (``functions/api/app.py``, handler ``app.app``) behind an
``AWS::Serverless::Api`` with one event per route, so that it shares the stack's layers, IAM, alarms
and throttling. ``chalice package`` is the authority on which routes the app has (blueprints
included); it runs offline here (``requirements.txt`` emptied in a copy: the layers carry the
dependencies) and its generated SAM template must list exactly the template's routes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.infrastructure import template_model as tm

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def test_chalice_package_routes_match_the_template(tmp_path: Path) -> None:
    app = tmp_path / "api"
    shutil.copytree(tm.FUNCTIONS_DIR / "api", app, ignore=shutil.ignore_patterns("__pycache__"))
    (app / "requirements.txt").write_text("")  # dependencies come from the core and analysis layers
    chalice = Path(sys.executable).with_name("chalice")
    env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"}
    run = subprocess.run(
        [str(chalice), "package", "--stage", "dev", str(tmp_path / "out")],
        cwd=app, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    generated = json.loads((tmp_path / "out" / "sam.json").read_text())
    resources = generated["Resources"]
    assert resources["APIHandler"]["Properties"]["Handler"] == "app.app"
    paths = resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    chalice_routes = sorted(f"{m.upper()} {p}" for p, ops in paths.items() for m in ops if m in HTTP_METHODS)

    [api] = [f for f in tm.functions() if f.directory == "api"]
    assert api.handler == "app.app"
    template_routes = sorted(f"{e['Method'].upper()} {e['Path']}" for e in api.events("Api"))
    tm.assert_same(template_routes, chalice_routes, "API routes (chalice package vs the template)")

    with zipfile.ZipFile(tmp_path / "out" / "deployment.zip") as package:
        assert sorted(package.namelist()) == ["app.py", "chalice/__init__.py", "chalice/app.py"]
