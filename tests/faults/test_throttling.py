"""(f) A slow downstream: DynamoDB throttles a quarter of all writes (``ProvisionedThroughputExceededException``,
as an on-demand table does during a sudden burst, or a provisioned one over its capacity). Every
client retries with botocore's backoff — call records (PynamoDB), idempotency records
(Powertools), search-index entries, counters — and a write that runs out of retries fails its
handler, so the message comes back. Every recording still ends as exactly one ANALYZED call.
The transcriber is a stand-in (see ``harness``): this is about delivery.
"""

from __future__ import annotations

import pytest
from callsight.local.runner import LocalRunner
from callsight.models.call import CallStatus

from tests.faults.harness import (
    Throttle,
    assert_exactly_one_call_each,
    drain,
    pipeline,
    reconcile_drained,
    transport,
    upload,
    use_fake_transcriber,
)
from tests.integration.conftest import Stack

CALLS = 4


def test_throttled_writes_are_retried_and_every_call_ends_right(
    env: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = use_fake_transcriber(monkeypatch)
    upload(env, CALLS)
    pipeline(env)  # cold start (and its table reads) before the throttling
    throttle = Throttle(fraction=0.25)
    runners: list[LocalRunner] = []

    def poller() -> LocalRunner:
        runners.append(pipeline(env, 3))
        return runners[-1]

    with transport(monkeypatch, throttle):
        drain(poller, max_seconds=150)
    assert throttle.throttled >= 10, throttle
    report = reconcile_drained(env)
    assert_exactly_one_call_each(report, CALLS)
    calls = env.all_calls()
    assert {c.status for c in calls} == {CallStatus.ANALYZED}, [(c.status, c.status_detail) for c in calls]
    for call in calls:
        history = [h.status for h in call.status_history]
        assert history.count(CallStatus.RECEIVED) == 1 and history.count(CallStatus.ANALYZED) == 1, history
    assert set(fake.calls) == {c.call_id for c in calls}
    failed = sum(s.failed for r in runners for s in r.stats.values())
    print(
        f"{throttle.throttled} of {throttle.writes} writes throttled, {failed} messages failed and came back"
    )
