"""A small reading of ``infrastructure/template.yaml`` for the tests: resources, names, functions.

The template is decoded with cfn-lint's own loader (short-form tags such as ``!Sub`` become their
long form, YAML aliases are expanded). Only the intrinsic functions the template uses are resolved:
``Fn::Sub`` over ``${Prefix}``, ``Ref`` and ``Fn::GetAtt`` to a logical id.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import json
import re
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

from cfnlint.decode import decode

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "infrastructure" / "template.yaml"
FUNCTIONS_DIR = REPO / "functions"
#: A prefix no default uses, so a name that ignores the Prefix parameter cannot match by accident.
PREFIX = "drift-check"


@cache
def load_build_layer() -> ModuleType:
    """``layers/build_layer.py`` (a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("build_layer", REPO / "layers" / "build_layer.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_layer"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@cache
def template() -> dict[str, Any]:
    decoded, errors = decode(str(TEMPLATE))
    assert not errors, f"{TEMPLATE} does not parse: {errors}"
    assert decoded is not None
    return plain(decoded)


def plain(value: Any) -> Any:
    """cfn-lint's node classes as plain dicts, lists and scalars."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def resources(kind: str | None = None) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = template()["Resources"]
    return {k: v for k, v in found.items() if kind is None or v["Type"] == kind}


def props(logical: str) -> dict[str, Any]:
    properties: dict[str, Any] = resources()[logical].get("Properties", {})
    return properties


def parameter_default(name: str) -> Any:
    return template()["Parameters"][name].get("Default")


def name_of(value: Any, prefix: str = PREFIX) -> str:
    """A physical name: a literal, or ``!Sub "${Prefix}-…"`` with ``prefix`` substituted."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        text = value["Fn::Sub"]
        unresolved = set(re.findall(r"\$\{([^}]+)\}", text)) - {"Prefix"}
        assert not unresolved, f"name {text!r} uses {unresolved}; names derive from Prefix only"
        return text.replace("${Prefix}", prefix)
    raise AssertionError(f"not a name derived from the Prefix parameter: {value!r}")


def target(value: Any) -> str:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points at."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        getatt = value["Fn::GetAtt"]
        return str(getatt[0] if isinstance(getatt, list) else getatt.split(".")[0])
    raise AssertionError(f"not a Ref/GetAtt: {value!r}")


def targets(value: Any) -> set[str]:
    """Every logical id referenced anywhere inside ``value`` (``!If`` branches included)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value or "Fn::GetAtt" in value:
            found.add(target(value))
        for inner in value.values():
            found |= targets(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= targets(inner)
    return found


# --- functions ----------------------------------------------------------------------------------------


@dataclass
class Function:
    """A function of the template, tied to its ``functions/<directory>``."""

    logical: str
    directory: str
    package_type: str
    handler: str
    properties: dict[str, Any]
    condition: str | None
    environment: dict[str, Any] = field(default_factory=dict)

    @property
    def module_path(self) -> Path:
        module, _, _ = self.handler.rpartition(".")
        return FUNCTIONS_DIR / self.directory / f"{module.replace('.', '/')}.py"

    @property
    def attribute(self) -> str:
        return self.handler.rpartition(".")[2]

    @property
    def layers(self) -> list[str]:
        return [target(layer) for layer in self.properties.get("Layers", [])]

    @property
    def serverless(self) -> bool:
        return resources()[self.logical]["Type"] == "AWS::Serverless::Function"

    def events(self, kind: str) -> list[dict[str, Any]]:
        """SAM ``Events`` of ``kind``; for a plain Lambda function its SQS event source mappings, in SAM's shape."""
        if self.serverless:
            return [e["Properties"] for e in self.properties.get("Events", {}).values() if e["Type"] == kind]
        if kind != "SQS":
            return []
        mappings = resources("AWS::Lambda::EventSourceMapping").values()
        return [
            {
                "Queue": m["Properties"]["EventSourceArn"],
                **{k: v for k, v in m["Properties"].items() if k != "EventSourceArn"},
            }
            for m in mappings
            if target(m["Properties"]["FunctionName"]) == self.logical
        ]

    @property
    def tracing_active(self) -> bool:
        if self.serverless:
            tracing = self.properties.get("Tracing", template()["Globals"]["Function"].get("Tracing"))
            return bool(tracing == "Active")
        return bool(self.properties.get("TracingConfig", {}).get("Mode") == "Active")

    @property
    def image_uri(self) -> Any:
        return self.properties["ImageUri"] if self.serverless else self.properties["Code"]["ImageUri"]

    def policy_statements(self) -> list[dict[str, Any]]:
        """Every IAM statement the function's role gets from this template."""
        if self.serverless:
            return [s for p in self.properties.get("Policies", []) for s in p["Statement"]]
        role = props(target(self.properties["Role"]))
        return [s for p in role.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


def dockerfile_of(resource: dict[str, Any]) -> Path:
    metadata = resource.get("Metadata", {})
    context = (TEMPLATE.parent / metadata.get("DockerContext", ".")).resolve()
    return context / metadata["Dockerfile"]


def image_function_directories(dockerfile: Path) -> set[str]:
    """``functions/<name>/`` whose ``app.py`` the Dockerfile copies into the image."""
    copied = re.findall(r"^COPY\s+functions/([^/\s]+)/\S+\.py\s", dockerfile.read_text(), flags=re.M)
    return set(copied)


def functions() -> list[Function]:
    found: list[Function] = []
    globals_env = (
        template().get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    plain_lambda = resources("AWS::Lambda::Function")
    for logical, resource in {**resources("AWS::Serverless::Function"), **plain_lambda}.items():
        properties = resource["Properties"]
        package_type = properties.get("PackageType", "Zip")
        if package_type == "Image":
            directories = image_function_directories(dockerfile_of(resource))
            assert len(directories) == 1, (
                f"{logical}: its Dockerfile copies handlers of {directories or 'none'}"
            )
            [directory] = directories
            handler = properties["ImageConfig"]["Command"][0]
        else:
            directory = PurePosixPath(properties["CodeUri"]).name
            handler = properties["Handler"]
        inherited = {} if logical in plain_lambda else globals_env  # Globals apply to SAM resources only
        environment = {**inherited, **properties.get("Environment", {}).get("Variables", {})}
        found.append(
            Function(
                logical=logical,
                directory=directory,
                package_type=package_type,
                handler=handler,
                properties=properties,
                condition=resource.get("Condition"),
                environment=environment,
            )
        )
    return found


def function_directories() -> list[str]:
    """Every deployable function folder: ``functions/<name>/`` with an ``app.py``."""
    return sorted(p.parent.name for p in FUNCTIONS_DIR.glob("*/app.py"))


def module_level_names(path: Path) -> set[str]:
    """Names a module binds at top level (functions, classes, assignments, imports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def logger_service(path: Path) -> str | None:
    """The service the module names: ``function_telemetry("<service>", ...)`` or ``Logger(service=...)``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id == "function_telemetry" and node.args and isinstance(node.args[0], ast.Constant):
            return str(node.args[0].value)
        if node.func.id == "Logger":
            for keyword in node.keywords:
                if keyword.arg == "service" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
    return None


def chalice_routes(path: Path) -> set[tuple[str, str]]:
    """``(path, METHOD)`` of every ``@app.route(...)`` in a Chalice app (GET when no methods given)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    routes: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if not (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr == "route"
            ):
                continue
            route = ast.literal_eval(decorator.args[0])
            methods = ["GET"]
            for keyword in decorator.keywords:
                if keyword.arg == "methods":
                    methods = ast.literal_eval(keyword.value)
            routes |= {(route, method.upper()) for method in methods}
    return routes


# --- readable failures ------------------------------------------------------------------------------


def assert_same(template_side: Any, code_side: Any, what: str) -> None:
    """Equal, or an AssertionError with a unified diff (``-`` template, ``+`` callsight)."""
    if template_side == code_side:
        return
    left = json.dumps(template_side, indent=2, sort_keys=True, default=sorted).splitlines()
    right = json.dumps(code_side, indent=2, sort_keys=True, default=sorted).splitlines()
    diff = "\n".join(
        difflib.unified_diff(
            left, right, "infrastructure/template.yaml", "callsight (source of truth)", lineterm=""
        )
    )
    raise AssertionError(f"{what}: the template drifted from the code\n{diff}")
