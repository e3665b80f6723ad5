"""(a) The worker dies mid-call and a new one takes over.

The process running a handler is killed (:class:`~tests.faults.harness.WorkerKilled`, which nothing
catches: no SQS delete, no release of the call, no Powertools clean-up) at each point where a
stage has done part of its work. Until the dead attempt's visibility timeout, the reconciler must
explain every call; after it, a new runner drains the queues and every recording ends as exactly
one ANALYZED call, announced at least once. The transcriber is a stand-in (see ``harness``): this
is about delivery, not recognition.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from callsight.models.call import CallStatus
from callsight.reconcile.service import run_reconcile

from tests.faults.harness import (
    EventTap,
    FakeTranscriber,
    WorkerKilled,
    assert_exactly_one_call_each,
    drain,
    function_module,
    pipeline,
    reconcile_drained,
    upload,
    use_fake_transcriber,
)
from tests.integration.conftest import Stack

VISIBILITY_S = 1
CALLS = 3


class KillOnce:
    """Kills the worker the first time it is reached, then lets everything through."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.fired = False

    def __call__(self, *_: Any) -> None:
        if not self.fired:
            self.fired = True
            raise WorkerKilled(self.where)


def _wrap(monkeypatch: pytest.MonkeyPatch, target: object, name: str, kill: KillOnce, *, after: bool) -> None:
    original: Callable[..., Any] = getattr(target, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not after:
            kill()
        result = original(*args, **kwargs)
        if after:
            kill()
        return result

    monkeypatch.setattr(target, name, wrapped)


def _install(point: str, monkeypatch: pytest.MonkeyPatch, fake: FakeTranscriber) -> KillOnce:
    kill = KillOnce(point)
    ingest = function_module("ingest").service
    transcribe = function_module("transcribe").service
    analyze = function_module("analyze").service
    if point == "ingest: call RECEIVED, transcribe message not sent":
        _wrap(monkeypatch, ingest.transcribe_queue, "send", kill, after=False)
    elif point == "transcribe: TRANSCRIBING, model running":
        fake.before = kill
    elif point == "transcribe: transcript stored, call not TRANSCRIBED yet":
        _wrap(monkeypatch, transcribe.transcripts, "put", kill, after=True)
    elif point == "transcribe: TRANSCRIBED, analyze message not sent":
        _wrap(monkeypatch, transcribe.analyze_queue, "send", kill, after=False)
    elif point == "analyze: ANALYZED, CallAnalyzed not published":
        _wrap(monkeypatch, analyze.events, "publish", kill, after=False)
    else:
        raise AssertionError(point)
    return kill


KILL_POINTS = [
    "ingest: call RECEIVED, transcribe message not sent",
    "transcribe: TRANSCRIBING, model running",
    "transcribe: transcript stored, call not TRANSCRIBED yet",
    "transcribe: TRANSCRIBED, analyze message not sent",
    "analyze: ANALYZED, CallAnalyzed not published",
]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_killed_worker_is_replaced_and_nothing_is_lost_or_doubled(
    env: Stack, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    tap = EventTap(env)
    fake = use_fake_transcriber(monkeypatch)
    kill = _install(point, monkeypatch, fake)
    upload(env, CALLS)

    with pytest.raises(WorkerKilled):
        pipeline(env, VISIBILITY_S).drain(max_seconds=60)
    assert kill.fired

    # While the dead attempt's message is invisible, every call is explained: nothing is lost yet.
    during = run_reconcile(env.settings)
    assert during.problems == 0, during.model_dump_json(indent=2)
    assert during.lost == [] and during.duplicates == []
    assert sum(q.visible + q.in_flight for q in during.queues) >= 1, "the dead attempt's message is kept"
    for entry in during.in_progress:
        assert entry.reason and not entry.stuck

    # The replacement finds the dead attempt's message once its visibility timeout has passed.
    drain(lambda: pipeline(env, VISIBILITY_S), max_seconds=90)

    after = reconcile_drained(env)
    assert_exactly_one_call_each(after, CALLS)
    calls = env.all_calls()
    assert {c.status for c in calls} == {CallStatus.ANALYZED}
    for call in calls:
        history = [h.status for h in call.status_history]
        assert history.count(CallStatus.RECEIVED) == 1, history
        assert history[-1] is CallStatus.ANALYZED and CallStatus.FAILED not in history
        assert call.analysis is not None and call.transcription is not None
        # the analysis is of the transcript version the call names
        assert call.analysis.transcript_version_id == call.transcription.transcript_version_id
    # Only an attempt killed inside the model, or after storing its transcript, runs the model again.
    reruns = 1 if point.startswith(("transcribe: TRANSCRIBING", "transcribe: transcript stored")) else 0
    assert len(fake.calls) == CALLS + reruns, fake.calls
    announced = tap.announced()
    assert set(announced) == {c.call_id for c in calls}, f"calls never announced: {announced}"
