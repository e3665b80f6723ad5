"""The SAM template agrees with the code: one source of truth for names, queues, tables and handlers.

``callsight.resources`` and the PynamoDB models in ``callsight.storage.tables`` define what the local
runner provisions; these tests fail, with a diff, when ``infrastructure/template.yaml`` says
otherwise. They also pin the template's promises of issue 8 (encryption, TLS-only access, DLQ and
error alarms, schedules, throttled API, one runtime for functions and layers).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from callsight import resources
from callsight.config import Settings
from callsight.storage.tables import TABLE_MODELS
from pynamodb.attributes import TTLAttribute

from tests.infrastructure import template_model as tm
from tests.infrastructure.template_model import PREFIX, assert_same, load_build_layer, name_of, props, target

SETTINGS = Settings(prefix=PREFIX)


def by_name(kind: str, name_property: str) -> dict[str, str]:
    """Physical name (with the test prefix) -> logical id, for every resource of ``kind``."""
    return {name_of(r["Properties"][name_property]): logical for logical, r in tm.resources(kind).items()}


def queue_logical(physical: str) -> str:
    return by_name("AWS::SQS::Queue", "QueueName")[physical]


# --- buckets --------------------------------------------------------------------------------------------


def test_buckets_match_resources() -> None:
    buckets = by_name("AWS::S3::Bucket", "BucketName")
    assert_same(sorted(buckets), sorted(b.physical(SETTINGS) for b in resources.BUCKETS), "bucket names")
    declared = {
        b.physical(SETTINGS): {
            "versioned": b.versioned,
            "notify_queue": b.notify_queue and SETTINGS.name(b.notify_queue),
            "object_lock": b.object_lock,
        }
        for b in resources.BUCKETS
    }
    actual = {}
    for name, logical in buckets.items():
        p = props(logical)
        queues = p.get("NotificationConfiguration", {}).get("QueueConfigurations", [])
        actual[name] = {
            "versioned": p.get("VersioningConfiguration", {}).get("Status") == "Enabled",
            "notify_queue": name_of(props(target(queues[0]["Queue"]))["QueueName"]) if queues else None,
            "object_lock": p.get("ObjectLockEnabled", False) is True,
        }
    assert_same(actual, declared, "bucket versioning and ObjectCreated notifications")


def test_audit_anchors_are_write_once_in_compliance_mode() -> None:
    """Anchors must outlive anyone who can write the audit table: COMPLIANCE, not GOVERNANCE."""
    p = props("AuditAnchorsBucket")
    assert p["ObjectLockEnabled"] is True and p["VersioningConfiguration"]["Status"] == "Enabled"
    lock = p["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert lock["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"
    assert target(lock["Rule"]["DefaultRetention"]["Days"]) == "AuditAnchorRetentionDays"
    writers = [f for f in tm.functions() if "CALLSIGHT_AUDIT_KEY_SECRET_ARN" in f.environment]
    assert {f.directory for f in writers} >= {"api", "masking_sweep", "retention_sweep", "erasure"}
    for function in tm.functions():
        anchors = [
            s
            for s in function.policy_statements()
            if "AuditAnchorsBucket" in json.dumps(s["Resource"])  # !Sub strings too
        ]
        if function.directory == "retention_sweep":  # the one anchoring writer, and it may only put
            assert [s["Action"] for s in anchors] == ["s3:PutObject"]
        else:
            assert not anchors, f"{function.logical} may not touch the audit anchors"


def test_recordings_notification_filters_the_configured_prefix() -> None:
    spec = resources.RECORDINGS_BUCKET
    assert spec.notify_prefix_setting
    [rule] = props("RecordingsBucket")["NotificationConfiguration"]["QueueConfigurations"]
    assert rule["Event"] == "s3:ObjectCreated:*"
    [key_filter] = rule["Filter"]["S3Key"]["Rules"]
    assert key_filter["Name"] == "prefix"
    parameter = target(key_filter["Value"])
    assert tm.parameter_default(parameter) == getattr(Settings(), spec.notify_prefix_setting)
    # the function reads the same prefix from the same parameter
    ingest = next(f for f in tm.functions() if f.directory == "ingest")
    env_name = f"CALLSIGHT_{spec.notify_prefix_setting.upper()}"
    assert target(ingest.environment[env_name]) == parameter


def test_recordings_queue_lets_only_this_bucket_send() -> None:
    policy = props("IngestQueuePolicy")
    assert [target(q) for q in policy["Queues"]] == ["IngestQueue"]
    [allow] = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "s3.amazonaws.com"} and allow["Action"] == "sqs:SendMessage"
    source = allow["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"]
    assert source.endswith(":s3:::${Prefix}-recordings")
    assert "IngestQueuePolicy" in tm.resources()["RecordingsBucket"]["DependsOn"]


@pytest.mark.parametrize("logical", sorted(tm.resources("AWS::S3::Bucket")))
def test_buckets_are_encrypted_private_and_tls_only(logical: str) -> None:
    p = props(logical)
    [rule] = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert target(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]) == "DataKey"
    assert all(p["PublicAccessBlockConfiguration"].values()) and len(p["PublicAccessBlockConfiguration"]) == 4
    assert p["LifecycleConfiguration"]["Rules"], "a lifecycle backstop"
    policies = [
        r
        for r in tm.resources("AWS::S3::BucketPolicy").values()
        if target(r["Properties"]["Bucket"]) == logical
    ]
    assert len(policies) == 1, f"{logical} needs exactly one bucket policy"
    tls = [
        s
        for s in policies[0]["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny"
        and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    ]
    assert tls, f"{logical}: no TLS-only statement"


# --- queues ----------------------------------------------------------------------------------------------


def test_queues_and_dead_letter_queues_match_queue_specs() -> None:
    queues = by_name("AWS::SQS::Queue", "QueueName")
    expected_names = sorted(
        [q.physical(SETTINGS) for q in resources.QUEUES]
        + [q.dlq_physical(SETTINGS) for q in resources.QUEUES]
    )
    assert_same(sorted(queues), expected_names, "queue names (queues and DLQs)")

    def spec_view(q: resources.QueueSpec) -> dict[str, Any]:
        return {
            "visibility_timeout_s": q.visibility_timeout_s,
            "dlq": q.dlq_physical(SETTINGS),
            "max_receive_count": q.max_receive_count,
            "dlq_retention_s": q.dlq_retention_s,
        }

    def template_view(q: resources.QueueSpec) -> dict[str, Any]:
        p = props(queues[q.physical(SETTINGS)])
        redrive = p["RedrivePolicy"]
        dlq = props(target(redrive["deadLetterTargetArn"]))
        return {
            "visibility_timeout_s": p["VisibilityTimeout"],
            "dlq": name_of(dlq["QueueName"]),
            "max_receive_count": int(redrive["maxReceiveCount"]),
            "dlq_retention_s": dlq["MessageRetentionPeriod"],
        }

    assert_same(
        {q.logical: template_view(q) for q in resources.QUEUES},
        {q.logical: spec_view(q) for q in resources.QUEUES},
        "queue visibility timeouts and redrive to DLQs",
    )


def test_event_source_mappings_match_queue_specs() -> None:
    """Each stage queue feeds exactly its function (both transcriber variants), with the declared batch
    size and per-message failure reporting, and its visibility timeout covers the function's timeout."""
    queues = by_name("AWS::SQS::Queue", "QueueName")
    actual: dict[str, list[dict[str, Any]]] = {}
    for function in tm.functions():
        for event in function.events("SQS"):
            logical = target(event["Queue"])
            spec = next(q for q in resources.QUEUES if queues[q.physical(SETTINGS)] == logical)
            actual.setdefault(spec.logical, []).append(
                {
                    "function": function.directory,
                    "batch_size": event["BatchSize"],
                    "report_batch_item_failures": event.get("FunctionResponseTypes")
                    == ["ReportBatchItemFailures"],
                }
            )
            timeout = function.properties["Timeout"]
            assert spec.visibility_timeout_s >= timeout, (
                f"{function.logical}: Timeout {timeout}s exceeds the {spec.logical} queue's visibility timeout "
                f"{spec.visibility_timeout_s}s (AWS refuses that mapping)"
            )
    expected = {
        q.logical: [{"function": q.function, "batch_size": q.batch_size, "report_batch_item_failures": True}]
        for q in resources.QUEUES
        if q.function
    }
    deduplicated = {k: [dict(t) for t in {tuple(sorted(d.items())) for d in v}] for k, v in actual.items()}
    assert_same(deduplicated, expected, "SQS event source mappings")


def test_every_dead_letter_queue_has_a_depth_alarm() -> None:
    alarmed = {
        target(dimension["Value"])
        for alarm in tm.resources("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and alarm["Properties"]["Threshold"] == 0
        and alarm["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"
        for dimension in alarm["Properties"]["Dimensions"]
    }
    dlqs = {queue_logical(q.dlq_physical(SETTINGS)) for q in resources.QUEUES}
    assert_same(sorted(alarmed), sorted(dlqs), "DLQ depth alarms")


def test_transcriber_backlog_alarm() -> None:
    [alarm] = [
        a["Properties"]
        for a in tm.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "ApproximateAgeOfOldestMessage"
    ]
    assert target(alarm["Dimensions"][0]["Value"]) == queue_logical(
        resources.TRANSCRIBE_QUEUE.physical(SETTINGS)
    )


def test_every_alarm_notifies_the_alerts_topic() -> None:
    for logical, alarm in tm.resources("AWS::CloudWatch::Alarm").items():
        assert [target(a) for a in alarm["Properties"]["AlarmActions"]] == ["AlertsTopic"], logical


# --- topic, bus --------------------------------------------------------------------------------------------


def test_topics_and_event_bus_match_resources() -> None:
    assert_same(
        sorted(by_name("AWS::SNS::Topic", "TopicName")),
        sorted(t.physical(SETTINGS) for t in resources.TOPICS),
        "SNS topics",
    )
    assert_same(
        sorted(by_name("AWS::Events::EventBus", "Name")), [SETTINGS.name(resources.EVENT_BUS)], "event buses"
    )


# --- tables -------------------------------------------------------------------------------------------------


def model_view(logical: str) -> dict[str, Any]:
    model = TABLE_MODELS[logical]
    schema = model._get_schema()
    keys = {k["KeyType"]: k["AttributeName"] for k in schema["key_schema"]}
    ttl = [a.attr_name for a in model.get_attributes().values() if isinstance(a, TTLAttribute)]
    return {
        "attributes": {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]},
        "hash_key": keys["HASH"],
        "range_key": keys.get("RANGE"),
        "indexes": {
            i["index_name"]: {
                "hash_key": next(k["AttributeName"] for k in i["key_schema"] if k["KeyType"] == "HASH"),
                "range_key": next(
                    (k["AttributeName"] for k in i["key_schema"] if k["KeyType"] == "RANGE"), None
                ),
                "projection": i["projection"]["ProjectionType"],
            }
            for i in schema.get("global_secondary_indexes", [])
        },
        "ttl": ttl[0] if ttl else None,
    }


def table_view(p: dict[str, Any]) -> dict[str, Any]:
    keys = {k["KeyType"]: k["AttributeName"] for k in p["KeySchema"]}
    ttl = p.get("TimeToLiveSpecification")
    return {
        "attributes": {a["AttributeName"]: a["AttributeType"] for a in p["AttributeDefinitions"]},
        "hash_key": keys["HASH"],
        "range_key": keys.get("RANGE"),
        "indexes": {
            i["IndexName"]: {
                "hash_key": next(k["AttributeName"] for k in i["KeySchema"] if k["KeyType"] == "HASH"),
                "range_key": next(
                    (k["AttributeName"] for k in i["KeySchema"] if k["KeyType"] == "RANGE"), None
                ),
                "projection": i["Projection"]["ProjectionType"],
            }
            for i in p.get("GlobalSecondaryIndexes", [])
        },
        "ttl": ttl["AttributeName"] if ttl and ttl.get("Enabled") else None,
    }


def test_table_names_match_resources() -> None:
    assert set(TABLE_MODELS) == set(resources.TABLES)
    assert_same(
        sorted(by_name("AWS::DynamoDB::Table", "TableName")),
        sorted(SETTINGS.name(t) for t in resources.TABLES),
        "table names",
    )


@pytest.mark.parametrize("logical", resources.TABLES)
def test_table_schema_matches_its_model(logical: str) -> None:
    tables = by_name("AWS::DynamoDB::Table", "TableName")
    p = props(tables[SETTINGS.name(logical)])
    assert_same(table_view(p), model_view(logical), f"table {logical!r} (keys, attribute types, GSIs, TTL)")


@pytest.mark.parametrize("logical", sorted(tm.resources("AWS::DynamoDB::Table")))
def test_tables_are_on_demand_recoverable_and_kms_encrypted(logical: str) -> None:
    p = props(logical)
    assert p["BillingMode"] == "PAY_PER_REQUEST"
    assert p["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert p["SSESpecification"]["SSEEnabled"] is True and p["SSESpecification"]["SSEType"] == "KMS"
    assert target(p["SSESpecification"]["KMSMasterKeyId"]) == "DataKey"


# --- functions ----------------------------------------------------------------------------------------------


def test_every_function_folder_is_deployed() -> None:
    deployed = {f.directory for f in tm.functions()}
    missing = sorted(set(tm.function_directories()) - deployed)
    assert not missing, f"functions/ without a function in infrastructure/template.yaml: {missing}"


@pytest.mark.parametrize("function", tm.functions(), ids=lambda f: f.logical)
def test_handler_exists(function: tm.Function) -> None:
    path = function.module_path
    assert path.exists(), (
        f"{function.logical}: handler {function.handler!r} -> {path.relative_to(tm.REPO)} is missing"
    )
    names = tm.module_level_names(path)
    assert function.attribute in names, (
        f"{function.logical}: {path.relative_to(tm.REPO)} defines no {function.attribute!r} "
        f"(handler {function.handler!r}); it defines {sorted(n for n in names if not n.startswith('_'))}"
    )


@pytest.mark.parametrize("function", tm.functions(), ids=lambda f: f.logical)
def test_function_name_derives_from_prefix(function: tm.Function) -> None:
    name = name_of(function.properties["FunctionName"])
    base = SETTINGS.name(function.directory.replace("_", "-"))
    assert name in {base, f"{base}-gpu"}, f"{function.logical}: FunctionName {name!r}, expected {base!r}"


@pytest.mark.parametrize("function", tm.functions(), ids=lambda f: f.logical)
def test_function_observability(function: tm.Function) -> None:
    env = function.environment
    for variable in (
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "LOG_LEVEL",
        "POWERTOOLS_LOGGER_SAMPLE_RATE",
    ):
        assert variable in env, f"{function.logical} lacks {variable}"
    assert function.tracing_active, f"{function.logical}: X-Ray tracing is not active"
    service = tm.logger_service(function.module_path)
    assert service is not None, f"{function.module_path}: no function_telemetry(...) or Logger(service=...)"
    assert env["POWERTOOLS_SERVICE_NAME"] == service, (
        f"{function.logical}: the code calls its service {service!r}"
    )
    log_group = target(function.properties["LoggingConfig"]["LogGroup"])
    assert tm.resources()[log_group]["Type"] == "AWS::Logs::LogGroup"


def settings_environment_names() -> set[str]:
    names: set[str] = set()
    for field_name, info in Settings.model_fields.items():
        alias = info.validation_alias
        choices = getattr(alias, "choices", None)
        names |= {str(c) for c in choices} if choices else {f"CALLSIGHT_{field_name.upper()}"}
    return names


@pytest.mark.parametrize("function", tm.functions(), ids=lambda f: f.logical)
def test_callsight_variables_are_settings(function: tm.Function) -> None:
    unknown = sorted(
        v
        for v in function.environment
        if v.startswith("CALLSIGHT_") and v not in settings_environment_names()
    )
    assert not unknown, f"{function.logical}: {unknown} are not fields of callsight.config.Settings"
    assert target(function.environment["CALLSIGHT_PREFIX"]) == "Prefix"
    assert function.environment["CALLSIGHT_REGION"] == {"Ref": "AWS::Region"}


def test_zip_functions_share_the_layers_of_one_runtime() -> None:
    build_layer = load_build_layer()
    runtime = f"python{build_layer.PYTHON_VERSION}"
    layer_resources = tm.resources("AWS::Serverless::LayerVersion")
    assert_same(
        {logical: p["Properties"]["ContentUri"] for logical, p in layer_resources.items()},
        {f"{name.capitalize()}Layer": f"../build/layer/{name}.zip" for name in build_layer.LAYERS},
        "layers (layers/build_layer.py writes build/layer/<name>.zip)",
    )
    for layer in layer_resources.values():
        assert layer["Properties"]["CompatibleRuntimes"] == [runtime]
        assert layer["Properties"]["CompatibleArchitectures"] == ["x86_64"]
    for function in tm.functions():
        if function.package_type == "Image":
            assert "Layers" not in function.properties, (
                f"{function.logical}: an image carries its own dependencies"
            )
            continue
        assert function.properties["Runtime"] == runtime, function.logical
        assert function.layers[0] == "CoreLayer", (
            f"{function.logical}: every zip function needs the core layer first"
        )
        assert len(function.layers) <= build_layer.LAMBDA_MAX_LAYERS


def test_function_policies_are_scoped() -> None:
    """Least privilege: no wildcard resources or actions; managed policies only what SAM adds for X-Ray."""
    for function in tm.functions():
        statements = function.policy_statements()
        assert statements, f"{function.logical}: no policy statements"
        for statement in statements:
            resources_ = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert "*" not in resources_ and all(isinstance(r, dict) for r in resources_), (
                function.logical,
                statement,
            )
            assert not any(a == "*" or a.endswith(":*") for a in actions), (function.logical, statement)
        if function.serverless:
            assert all(isinstance(p, dict) for p in function.properties.get("Policies", [])), function.logical
        else:
            role = props(target(function.properties["Role"]))
            assert [a["Fn::Sub"].rsplit("/", 1)[1] for a in role.get("ManagedPolicyArns", [])] == [
                "AWSXrayWriteOnlyAccess"
            ]


def test_every_function_has_an_errors_alarm() -> None:
    alarmed: set[str] = set()
    for alarm in tm.resources("AWS::CloudWatch::Alarm").values():
        if alarm["Properties"]["MetricName"] == "Errors":
            alarmed |= tm.targets(alarm["Properties"]["Dimensions"])
    assert_same(sorted(alarmed), sorted(f.logical for f in tm.functions()), "function Errors alarms")


def test_schedules() -> None:
    schedules = {f.directory: [e["Schedule"] for e in f.events("Schedule")] for f in tm.functions()}
    daily = re.compile(r"^cron\(\d{1,2} \d{1,2} \* \* \? \*\)$")
    assert len(schedules["masking_sweep"]) == 1 and daily.match(schedules["masking_sweep"][0])
    assert len(schedules["retention_sweep"]) == 1 and daily.match(schedules["retention_sweep"][0])
    assert schedules["weekly_report"] == ["cron(0 6 ? * MON *)"], "weekly report: Mondays 06:00 UTC"
    assert schedules["stats_rollup"] == ["cron(20 * * * ? *)"], "statistics rollup: hourly"
    assert schedules["access_anomaly"] == ["cron(5 * * * ? *)"], (
        "access-anomaly check: hourly, last whole hour"
    )


def test_transcriber_variants() -> None:
    """cpu and gpu: the same image and handler; only the GPU one runs on a capacity provider with an accelerator."""
    variants = {f.condition: f for f in tm.functions() if f.directory == "transcribe"}
    assert set(variants) == {"UseCpu", "UseGpu"}
    cpu, gpu = variants["UseCpu"].properties, variants["UseGpu"].properties
    assert (
        variants["UseCpu"].image_uri == variants["UseGpu"].image_uri
        and cpu["ImageConfig"] == gpu["ImageConfig"]
    )
    assert "CapacityProviderConfig" not in cpu and "AcceleratorConfig" not in cpu
    provider = name_of(props("TranscribeCapacityProvider")["CapacityProviderName"], "${Prefix}")
    arn = gpu["CapacityProviderConfig"]["LambdaManagedInstancesCapacityProviderConfig"]["CapacityProviderArn"]
    assert arn["Fn::Sub"].endswith(f":capacity-provider:{provider}")
    assert gpu["AcceleratorConfig"]["AcceleratorMemorySize"] == {"Ref": "TranscribeGpuMemoryGiB"}
    assert gpu["Architectures"] == ["x86_64"]  # accelerators need x86_64
    # the variants differ in device and duration limit only
    differing = {k for k in variants["UseCpu"].environment.keys() | variants["UseGpu"].environment.keys()
                 if variants["UseCpu"].environment.get(k) != variants["UseGpu"].environment.get(k)}  # fmt: skip
    assert differing == {"CALLSIGHT_ASR_DEVICE", "CALLSIGHT_ASR_MAX_DURATION_S"}
    gpu_resource = tm.resources()[variants["UseGpu"].logical]
    assert gpu_resource["Metadata"]["cfn-lint"]["config"]["ignore_checks"] == ["E3002"]


def test_api_routes_match_the_chalice_app() -> None:
    [api] = [f for f in tm.functions() if f.directory == "api"]
    assert api.handler == "app.app"
    events = api.events("Api")
    assert {target(e["RestApiId"]) for e in events} == {"ApiGateway"}
    declared = sorted(f"{m} {p}" for p, m in tm.chalice_routes(api.module_path))
    assert_same(sorted(f"{e['Method'].upper()} {e['Path']}" for e in events), declared, "API routes")


def test_api_is_throttled_and_traced() -> None:
    api = props("ApiGateway")
    [setting] = api["MethodSettings"]
    assert setting["ResourcePath"] == "/*" and setting["HttpMethod"] == "*"
    assert {"ThrottlingRateLimit", "ThrottlingBurstLimit"} <= set(setting)
    assert api["TracingEnabled"] is True
    # the Chalice stage the local config names, so URLs look the same everywhere
    assert api["StageName"] == "api"
