"""How tests are isolated on a shared emulator (LocalStack): forgetting one deployment prefix
deletes all of its resources, with their contents, and nothing of another prefix."""

from __future__ import annotations

from typing import Any

from callsight.config import Settings
from callsight.resources import RECORDINGS_BUCKET, TRANSCRIBE_QUEUE
from callsight.storage import aws
from callsight.storage.provisioning import forget_prefix, provision


def inventory(settings: Settings) -> set[str]:
    """Names of the buckets, queues, topics, event buses and tables of ``settings.prefix``."""
    mine = settings.name("")
    s3: Any = aws.client("s3", settings)
    sqs: Any = aws.client("sqs", settings)
    sns: Any = aws.client("sns", settings)
    events: Any = aws.client("events", settings)
    dynamodb: Any = aws.client("dynamodb", settings)
    names = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    names |= {u.rsplit("/", 1)[-1] for u in sqs.list_queues(QueueNamePrefix=mine).get("QueueUrls", [])}
    names |= {t["TopicArn"].rsplit(":", 1)[-1] for t in sns.list_topics()["Topics"]}
    names |= {b["Name"] for b in events.list_event_buses().get("EventBuses", [])}
    names |= set(dynamodb.list_tables()["TableNames"])
    return {n for n in names if n.startswith(mine)}


def test_forget_prefix_deletes_one_prefix_with_its_contents(stack: Settings) -> None:
    # "<prefix>x-…" starts like "<prefix>…" but is another deployment
    other = stack.model_copy(update={"prefix": stack.prefix + "x"})
    provision(other)
    for settings in (stack, other):
        s3: Any = aws.client("s3", settings)
        s3.put_object(Bucket=RECORDINGS_BUCKET.physical(settings), Key="recordings/a.wav", Body=b"x")
        s3.put_object(Bucket=RECORDINGS_BUCKET.physical(settings), Key="recordings/a.wav", Body=b"y")
        sqs: Any = aws.client("sqs", settings)
        url = sqs.get_queue_url(QueueName=TRANSCRIBE_QUEUE.physical(settings))["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="{}")
    before = inventory(other)
    assert len(inventory(stack)) == len(before) >= 10

    forget_prefix(stack)
    assert inventory(stack) == set()
    assert inventory(other) == before

    provision(stack)  # as good as new: empty bucket and queue (the ingest queue gets S3's test event)
    s3 = aws.client("s3", stack)
    assert "Versions" not in s3.list_object_versions(Bucket=RECORDINGS_BUCKET.physical(stack))
    sqs = aws.client("sqs", stack)
    url = sqs.get_queue_url(QueueName=TRANSCRIBE_QUEUE.physical(stack))["QueueUrl"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    forget_prefix(other)
    assert inventory(other) == set()
