"""Create every resource of :mod:`callsight.resources` on an emulator (or an empty account), idempotently,
and empty one deployment prefix again: the AWS side of the local tools (``callsight.local``).

Buckets (versioned, notifications to the ingest queue), queues with DLQs and redrive policies,
SNS topics, the EventBridge bus, and DynamoDB tables straight from their PynamoDB models (keys, GSIs, TTL).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from callsight import resources
from callsight.config import Settings
from callsight.storage import aws
from callsight.storage.tables import TABLE_MODELS, bind_tables

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef, QueueConfigurationTypeDef
    from mypy_boto3_sqs import SQSClient


def provision(settings: Settings) -> dict[str, Any]:
    """Create or update all resources; returns their physical names and URLs."""
    queue_arns = _provision_queues(settings)
    buckets = _provision_buckets(settings, queue_arns)
    sns = aws.client("sns", settings)
    topics = {t.logical: sns.create_topic(Name=t.physical(settings))["TopicArn"] for t in resources.TOPICS}
    tables = _provision_tables(settings)
    events = aws.client("events", settings)
    bus = settings.name(resources.EVENT_BUS)
    if bus not in {b["Name"] for b in events.list_event_buses().get("EventBuses", [])}:
        events.create_event_bus(Name=bus)
    return {"queues": queue_arns, "buckets": buckets, "topics": topics, "tables": tables, "event_bus": bus}


def _provision_queues(settings: Settings) -> dict[str, str]:
    sqs = aws.client("sqs", settings)
    arns: dict[str, str] = {}
    for spec in resources.QUEUES:
        dlq_url = sqs.create_queue(
            QueueName=spec.dlq_physical(settings),
            Attributes={"MessageRetentionPeriod": str(spec.dlq_retention_s)},
        )["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        url = sqs.create_queue(QueueName=spec.physical(settings))["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sqs.set_queue_attributes(
            QueueUrl=url,
            Attributes={
                "VisibilityTimeout": str(spec.visibility_timeout_s),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(spec.max_receive_count)}
                ),
                "Policy": _allow_s3_to_send(arn),
            },
        )
        arns[spec.logical] = arn
        arns[spec.dlq_logical] = dlq_arn
    return arns


def _allow_s3_to_send(queue_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                }
            ],
        }
    )


def _provision_buckets(settings: Settings, queue_arns: dict[str, str]) -> dict[str, str]:
    s3 = aws.client("s3", settings)
    names: dict[str, str] = {}
    for spec in resources.BUCKETS:
        name = spec.physical(settings)
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        if name not in existing:
            extra: dict[str, Any] = (
                {}
                if settings.region == "us-east-1"
                else {"CreateBucketConfiguration": {"LocationConstraint": settings.region}}
            )
            if spec.object_lock:
                extra["ObjectLockEnabledForBucket"] = True
            s3.create_bucket(Bucket=name, **extra)
        if spec.object_lock:  # GOVERNANCE locally (an operator may bypass it); COMPLIANCE in the template
            s3.put_object_lock_configuration(
                Bucket=name,
                ObjectLockConfiguration={
                    "ObjectLockEnabled": "Enabled",
                    "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
                },
            )
        if spec.versioned:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if spec.notify_queue:
            prefix = getattr(settings, spec.notify_prefix_setting) if spec.notify_prefix_setting else ""
            rule: QueueConfigurationTypeDef = {
                "Id": f"{spec.logical}-to-{spec.notify_queue}",
                "QueueArn": queue_arns[spec.notify_queue],
                "Events": ["s3:ObjectCreated:*"],
            }
            if prefix:
                rule["Filter"] = {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}}
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"QueueConfigurations": [rule]}
            )
        names[spec.logical] = name
    return names


def _provision_tables(settings: Settings) -> dict[str, str]:
    bind_tables(settings)
    for model in TABLE_MODELS.values():
        model.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
    return {logical: settings.name(logical) for logical in TABLE_MODELS}


def reset_clients() -> None:
    """Forget the cached clients (the endpoint or credentials in the environment changed)."""
    aws.reset_clients()


def forget_prefix(settings: Settings) -> None:
    """Delete every bucket (all versions), queue, topic, event bus (and its rules) and table named
    ``<settings.prefix>-*`` — what :func:`provision` creates, plus what
    tests add under the prefix. Emulators only: refuses to run without ``CALLSIGHT_AWS_ENDPOINT``."""
    if not settings.aws_endpoint:
        raise RuntimeError("forget_prefix deletes resources: it runs against an emulator endpoint only")
    mine = settings.name("")
    _forget_queues(aws.client("sqs", settings), mine)
    _forget_buckets(aws.client("s3", settings), mine)
    sns = aws.client("sns", settings)
    for page in sns.get_paginator("list_topics").paginate():
        for topic in page["Topics"]:
            if topic["TopicArn"].rsplit(":", 1)[-1].startswith(mine):
                sns.delete_topic(TopicArn=topic["TopicArn"])
    _forget_event_buses(aws.client("events", settings), mine)
    dynamodb = aws.client("dynamodb", settings)
    for tables in dynamodb.get_paginator("list_tables").paginate():
        for table in tables["TableNames"]:
            if table.startswith(mine):
                dynamodb.delete_table(TableName=table)


def _forget_queues(sqs: SQSClient, prefix: str) -> None:
    for page in sqs.get_paginator("list_queues").paginate(QueueNamePrefix=prefix):
        for url in page.get("QueueUrls", []):
            sqs.delete_queue(QueueUrl=url)


def _forget_buckets(s3: S3Client, prefix: str) -> None:
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        if not name.startswith(prefix):
            continue
        # S3 (AWS and LocalStack alike) refuses the bypass header on a bucket without Object Lock.
        bypass: dict[str, Any] = {"BypassGovernanceRetention": True} if _object_lock_enabled(s3, name) else {}
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            versions = page.get("Versions", []) + page.get("DeleteMarkers", [])
            if versions:
                objects: list[ObjectIdentifierTypeDef] = [
                    {"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions
                ]
                s3.delete_objects(Bucket=name, Delete={"Objects": objects, "Quiet": True}, **bypass)
        s3.delete_bucket(Bucket=name)


def _object_lock_enabled(s3: S3Client, bucket: str) -> bool:
    try:
        configuration = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    except s3.exceptions.ClientError:  # ObjectLockConfigurationNotFoundError: a bucket without Object Lock
        return False
    return bool(configuration.get("ObjectLockEnabled") == "Enabled")


def _forget_event_buses(events: EventBridgeClient, prefix: str) -> None:
    for bus in events.list_event_buses(NamePrefix=prefix).get("EventBuses", []):
        for rule in events.list_rules(EventBusName=bus["Name"]).get("Rules", []):
            targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus["Name"])["Targets"]
            if targets:
                events.remove_targets(
                    Rule=rule["Name"], EventBusName=bus["Name"], Ids=[t["Id"] for t in targets]
                )
            events.delete_rule(Name=rule["Name"], EventBusName=bus["Name"])
        events.delete_event_bus(Name=bus["Name"])
