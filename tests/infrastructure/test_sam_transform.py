"""The SAM transform (aws-sam-translator, what ``sam deploy`` and CloudFormation run) accepts the
template in both transcriber modes: this is the check that found AcceleratorConfig is refused on
AWS::Serverless::Function, which cfn-lint alone did not."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from tests.infrastructure.template_model import plain, template


class NoManagedPolicies:
    """The template names no AWS managed policies, so the loader must never be asked for one."""

    def load(self) -> dict[str, str]:
        return {}


@pytest.mark.parametrize("mode", ["cpu", "gpu"])
def test_the_sam_transform_accepts_the_template(mode: str) -> None:
    fragment: dict[str, Any] = copy.deepcopy(plain(template()))
    for logical, resource in fragment["Resources"].items():  # what `sam package` does: local paths → S3
        for key in ("CodeUri", "ContentUri"):
            if isinstance(resource.get("Properties", {}).get(key), str):
                resource["Properties"][key] = f"s3://artifacts/{logical}.zip"
    parameters = {"TranscribeMode": mode, "TranscribeImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/t:1",
                  "AWS::Region": "us-east-1", "AWS::Partition": "aws", "AWS::AccountId": "123456789012"}  # fmt: skip
    output = transform(fragment, parameters, NoManagedPolicies())
    kinds = {resource["Type"] for resource in output["Resources"].values()}
    assert not any(kind.startswith("AWS::Serverless::") for kind in kinds)
    assert {"AWS::Lambda::Function", "AWS::Lambda::EventSourceMapping", "AWS::ApiGateway::RestApi"} <= kinds
