"""The call repository on the emulator: life-cycle transitions, history, optimistic locking, feed order."""

from __future__ import annotations

import pytest
from callsight.models.call import CallStatus
from callsight.storage.call_repository import IllegalTransition, StaleCallVersion

from tests.audio_factory import pcm_wav
from tests.integration.conftest import Stack


def received_call(env: Stack) -> str:
    return str(env.ingest("out-1-201-20261120-101500-1.1.wav", pcm_wav()).call_id)


def test_transition_appends_history_and_moves_updated_at(env: Stack) -> None:
    call_id = received_call(env)
    before = env.calls.get(call_id)
    assert before is not None
    after = env.calls.transition(call_id, CallStatus.TRANSCRIBING, reason="worker-1")
    assert after.status is CallStatus.TRANSCRIBING
    assert [h.status for h in after.status_history] == [CallStatus.RECEIVED, CallStatus.TRANSCRIBING]
    assert after.updated_at > before.updated_at
    assert after.version == (before.version or 0) + 1
    # the change feed shows the most recently changed call first
    assert next(iter(env.calls.recent(1))).call_id == call_id


def test_illegal_transition_is_refused(env: Stack) -> None:
    call_id = received_call(env)
    with pytest.raises(IllegalTransition, match="RECEIVED → ANALYZED"):
        env.calls.transition(call_id, CallStatus.ANALYZED)


def test_stale_replace_is_refused(env: Stack) -> None:
    call_id = received_call(env)
    stale = env.calls.get(call_id)
    assert stale is not None
    env.calls.transition(call_id, CallStatus.TRANSCRIBING)
    with pytest.raises(StaleCallVersion):
        env.calls.replace(stale)
