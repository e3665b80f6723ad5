"""(d) The emulator goes away mid-batch and comes back.

What "restart" can honestly mean here: moto keeps its state in this process, so restarting the
in-process server would keep everything, and a server in another process would come back empty —
which no AWS outage does (queued messages and table items survive an outage). What the pipeline
must survive is the endpoint being unreachable for a while, in the middle of a batch, and then
answering again with its state intact. That is injected below botocore for every client of the
process, pollers included (see ``harness.Outage``): either the connection is refused (requests
never arrive) or the response is lost after the request was applied — then a retried conditional
write meets its own success, and a retried SQS send or S3 put happens twice.

botocore's retries absorb part of the outage; the rest surfaces as failed handlers (messages stay
on the queue and come back after the visibility timeout) and as dead pollers (restarted, as the
event source mapping restarts its own). Afterwards: every recording exactly one ANALYZED call,
nothing in a DLQ. The transcriber is a stand-in (see ``harness``): this is about delivery.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import BotoCoreError, ClientError
from callsight.local.runner import LocalRunner
from callsight.models.call import CallStatus

from tests.faults.harness import (
    Outage,
    assert_exactly_one_call_each,
    drain,
    pipeline,
    reconcile_drained,
    transport,
    upload,
    use_fake_transcriber,
)
from tests.integration.conftest import Stack

CALLS = 6
#: Longer than the outage, so a message failed by the outage is not failed again by it.
VISIBILITY_S = 3


@pytest.mark.parametrize("mode", ["refused", "lost_response"])
def test_an_outage_mid_batch_loses_and_doubles_nothing(
    env: Stack, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    fake = use_fake_transcriber(monkeypatch)
    upload(env, CALLS)
    pipeline(env, VISIBILITY_S)  # cold start outside the outage
    # ~25 requests in: inside the first ingest batch (each object takes about ten requests)
    outage = Outage(start_after=25, duration_s=2.0, mode=mode)
    runners: list[LocalRunner] = []

    def poller() -> LocalRunner:
        runners.append(pipeline(env, VISIBILITY_S))
        return runners[-1]

    with transport(monkeypatch, outage):
        deaths = drain(poller, max_seconds=150, survive=(BotoCoreError, ClientError))
    assert outage.over and outage.failed >= 5, outage
    failed = sum(s.failed for r in runners for s in r.stats.values())
    assert failed + deaths >= 1, "the outage must outlast botocore's retries somewhere"
    report = reconcile_drained(env)
    assert_exactly_one_call_each(report, CALLS)
    calls = env.all_calls()
    assert {c.status for c in calls} == {CallStatus.ANALYZED}, [(c.status, c.status_detail) for c in calls]
    for call in calls:
        assert [h.status for h in call.status_history].count(CallStatus.RECEIVED) == 1
        assert call.analysis is not None and call.transcription is not None
        assert call.analysis.transcript_version_id == call.transcription.transcript_version_id
    assert set(fake.calls) == {c.call_id for c in calls}
    print(f"{mode}: {outage.failed} requests failed, {failed} messages failed, {deaths} poller restarts")
