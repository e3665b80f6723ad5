"""The voice-prints table: per-agent consent (``opted_in``) and enrolled prints (``enrolled``).

Owns reading and writing :class:`~callsight.storage.tables.VoicePrintItem`; holds no rule (who may
opt an agent in and what is audited is :mod:`callsight.sweeps.voiceprints`; when a print is
made and used is the transcriber's). The vector goes in and out only through :meth:`enroll` and
:meth:`enrolled_print`; every other read returns a :class:`VoicePrintView` without it. Nothing here
logs.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy.typing as npt
from pynamodb.exceptions import DeleteError, PutError, UpdateError

from callsight.config import Settings
from callsight.models.voiceprint import (
    VoicePrint,
    VoicePrintState,
    VoicePrintView,
    pack_embedding,
    unpack_embedding,
)
from callsight.storage.tables import VoicePrintItem, bind_tables, condition_failed, get_or_none


class VoicePrintStore:
    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)

    def get(self, agent_id: str | None, *, consistent: bool = False) -> VoicePrintView | None:
        if not agent_id:
            return None
        item = get_or_none(VoicePrintItem, agent_id, consistent_read=consistent)
        return _view(item) if item is not None else None

    def opt_in(self, agent_id: str, consented_by: str, note: str | None) -> tuple[VoicePrintView, bool]:
        """Record consent (state ``opted_in``); an existing entry, enrolled or not, is left as it is.
        Returns the entry and whether it was created now."""
        item = VoicePrintItem(
            agent_id,
            state=VoicePrintState.OPTED_IN.value,
            consented_by=consented_by,
            consented_at=datetime.now(UTC),
            note=note,
        )
        try:
            item.save(condition=VoicePrintItem.agent_id.does_not_exist())
            return _view(item), True
        except PutError as exc:
            if not condition_failed(exc):
                raise
        current = self.get(agent_id, consistent=True)
        if current is None:  # erased between the two requests: try once more
            item.save()
            return _view(item), True
        return current, False

    def enroll(
        self,
        agent_id: str,
        embedding: npt.ArrayLike,
        *,
        encoder: str,
        source_call_id: str,
        speech_s: float,
    ) -> bool:
        """Store the print, only if the agent is still ``opted_in`` (a withdrawal that happened while
        the call was transcribed wins). False when the entry is gone or already enrolled."""
        data = pack_embedding(embedding)
        try:
            VoicePrintItem(agent_id).update(
                actions=[
                    VoicePrintItem.state.set(VoicePrintState.ENROLLED.value),
                    VoicePrintItem.embedding.set(data),
                    VoicePrintItem.encoder.set(encoder),
                    VoicePrintItem.enrolled_at.set(datetime.now(UTC)),
                    VoicePrintItem.source_call_id.set(source_call_id),
                    VoicePrintItem.speech_s.set(round(speech_s, 2)),
                ],
                condition=VoicePrintItem.state == VoicePrintState.OPTED_IN.value,
            )
            return True
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise

    def enrolled_print(self, agent_id: str | None) -> VoicePrint | None:
        """The agent's print with its vector, or None (not enrolled, unknown agent)."""
        if not agent_id:
            return None
        item = get_or_none(VoicePrintItem, agent_id)
        if item is None or item.state != VoicePrintState.ENROLLED.value or item.embedding is None:
            return None
        vector = unpack_embedding(bytes(item.embedding))
        return VoicePrint(agent_id=agent_id, encoder=item.encoder or "", embedding=tuple(vector.tolist()))

    def delete(self, agent_id: str) -> VoicePrintView | None:
        """Erase the entry (consent and print); the entry as it was, or None when there was none."""
        item = get_or_none(VoicePrintItem, agent_id, consistent_read=True)
        if item is None:
            return None
        try:
            item.delete(condition=VoicePrintItem.agent_id.exists())
        except DeleteError as exc:
            if condition_failed(exc):
                return None
            raise
        return _view(item)


def _view(item: VoicePrintItem) -> VoicePrintView:
    return VoicePrintView(
        agent_id=item.agent_id,
        state=VoicePrintState(item.state),
        consented_by=item.consented_by,
        consented_at=item.consented_at,
        note=item.note,
        enrolled_at=item.enrolled_at,
        source_call_id=item.source_call_id,
        encoder=item.encoder,
        speech_s=item.speech_s,
    )
