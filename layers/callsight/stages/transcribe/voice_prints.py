"""The transcriber's use of per-agent voice prints: which print a mono call gets, and enrolling one
from a stereo call of an opted-in agent.

A print is read only for a mono call whose metadata names an agent with an enrolled print made by
the same encoder; it is computed only for a stereo call whose agent is ``opted_in`` and whose
agent channel is known (never for anyone else). Enrollment is best effort: a failure is logged and
the agent stays ``opted_in``, so their next stereo call tries again; a call that did not end
TRANSCRIBED (deleted meanwhile) enrolls nothing. No vector is ever logged.
"""

from __future__ import annotations

import logging
from pathlib import Path

from callsight.asr import voice_print
from callsight.asr.audio import decode_channels
from callsight.asr.speaker_embedding import encoder_available
from callsight.config import Settings
from callsight.models.call import CallRecord
from callsight.sweeps.voiceprints import VoicePrintService

logger = logging.getLogger(__name__)

#: Stereo channel index of the agent for each ``agent_channel`` value.
AGENT_CHANNEL_INDEX = {"left": 0, "right": 1}


class AgentVoicePrints:
    def __init__(self, settings: Settings, service: VoicePrintService | None = None) -> None:
        self.settings = settings
        self._service = service

    @property
    def service(self) -> VoicePrintService:
        if self._service is None:  # built on first use: most calls of most deployments never need it
            self._service = VoicePrintService(self.settings)
        return self._service

    def _usable(self, call: CallRecord, channels: int) -> bool:
        return (
            self.settings.diarization_enabled
            and call.agent_id is not None
            and call.audio is not None
            and call.audio.channels == channels
            and encoder_available()
        )

    def print_for(self, call: CallRecord) -> tuple[float, ...] | None:
        """The enrolled print of a mono call's agent, or None."""
        if not self._usable(call, 1):
            return None
        found = self.service.enrolled_print(call.agent_id)
        if found is None:
            return None
        if found.encoder != voice_print.encoder_name():
            logger.warning(
                "agent's voice print was made by another encoder; not used (remove and re-enroll it)",
                extra={"agent_id": call.agent_id, "print_encoder": found.encoder},
            )
            return None
        return found.embedding

    def enrollment_for(
        self, call: CallRecord, recording: Path, agent_channel: str | None
    ) -> voice_print.Enrollment | None:
        """A print of the agent's own channel when the call is stereo, the channel known and the
        agent opted in (and not yet enrolled); None otherwise, or with too little agent speech."""
        index = AGENT_CHANNEL_INDEX.get(agent_channel or "")
        if index is None or not self._usable(call, 2) or not self.service.wants_enrollment(call.agent_id):
            return None
        try:
            audio = decode_channels(recording)
            enrollment = voice_print.enrollment_print(audio.channels[index], self.settings.asr_vad_threshold)
        except Exception:
            logger.exception("voice print enrollment failed; the agent stays opted in")
            return None
        if enrollment is None:
            logger.info(
                "too little agent speech for a voice print; the agent stays opted in",
                extra={"agent_id": call.agent_id},
            )
        return enrollment

    def enroll(self, call: CallRecord, enrollment: voice_print.Enrollment) -> bool:
        assert call.agent_id is not None
        try:
            stored = self.service.enroll(
                call.agent_id,
                enrollment.embedding,
                encoder=voice_print.encoder_name(),
                call_id=call.call_id,
                speech_s=enrollment.speech_s,
            )
        except Exception:
            logger.exception("storing the voice print failed; the agent stays opted in")
            return False
        logger.info(
            "agent voice print enrolled" if stored else "agent no longer opted in; voice print discarded",
            extra={"agent_id": call.agent_id, "speech_s": enrollment.speech_s},
        )
        return stored
