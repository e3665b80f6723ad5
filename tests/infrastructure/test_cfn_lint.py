"""cfn-lint passes on the SAM template: no errors, warnings or informational findings.

Run through cfn-lint's Python API (``cfnlint.api``), in the regions Lambda Managed Instances launched
in first. The one exception is declared in the template itself: E3002 on ``TranscribeGpuFunction``,
whose ``AcceleratorConfig`` cfn-lint 1.58's SAM schema does not know yet; the second test proves
that ignore hides nothing else.
"""

from __future__ import annotations

import copy
import json

from cfnlint.api import lint, lint_file
from cfnlint.config import ManualArgs
from cfnlint.rules import Match

from tests.infrastructure import template_model as tm

REGIONS = ["us-east-1", "eu-west-1"]


def describe(matches: list[Match]) -> str:
    return "\n".join(f"{m.rule.id} {m.message} ({m.filename}:{m.linenumber})" for m in matches)


def test_template_is_cfn_lint_clean() -> None:
    matches = lint_file(tm.TEMPLATE, config=ManualArgs(regions=REGIONS, include_checks=["I"]))
    assert not matches, f"cfn-lint findings in {tm.TEMPLATE.name}:\n{describe(matches)}"


def test_the_only_ignored_check_is_e3002_on_accelerator_config() -> None:
    document = copy.deepcopy(tm.template())
    gpu = document["Resources"]["TranscribeGpuFunction"]
    assert gpu["Metadata"].pop("cfn-lint") == {"config": {"ignore_checks": ["E3002"]}}
    others = [
        logical
        for logical, resource in document["Resources"].items()
        if "cfn-lint" in resource.get("Metadata", {})
    ]
    assert not others, f"cfn-lint checks are ignored on {others} too"
    matches = lint(json.dumps(document), config=ManualArgs(regions=REGIONS, include_checks=["I"]))
    assert matches, "cfn-lint now knows AcceleratorConfig: drop the E3002 ignore on TranscribeGpuFunction"
    unexpected = [m for m in matches if m.rule.id != "E3002" or "AcceleratorConfig" not in m.message]
    assert not unexpected, f"the E3002 ignore hides more than AcceleratorConfig:\n{describe(unexpected)}"
