"""Admin and audio routes: presigned audio, legal holds, erasure, retention policies, audit log queries.

All admin actions go through :mod:`callsight.sweeps` (which audits them); a non-admin caller is
refused (403) and the refusal is audited too.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from callsight.api.audited import audited, outcome_of
from callsight.api.models import AudioUrl, CallDetail, DetailQuery
from callsight.api.service import BadRequest, CallsApi, Forbidden, NotFound
from callsight.auth.access import is_admin, may_get_audio, may_see_pii
from callsight.auth.tokens import Principal
from callsight.compliance.audit import AuditEntry
from callsight.compliance.policies import RetentionPolicy
from callsight.config import Settings
from callsight.models.call import CallRecord
from callsight.storage.audit_log import AuditLog
from callsight.storage.call_repository import CallNotFound
from callsight.storage.recordings import AudioLinks
from callsight.sweeps.deletion import Actor, SweepReport
from callsight.sweeps.erasure import InvalidPhone, SubjectErasure
from callsight.sweeps.holds import LegalHolds
from callsight.sweeps.retention import RetentionSweep

AUDIO_URL_TTL_S = 300


class HoldRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=500)


class ErasureBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(min_length=3, max_length=40)
    dry_run: bool = False


class HoldState(BaseModel):
    call_id: str
    legal_hold: bool


class PolicyChange(BaseModel):
    policy: RetentionPolicy
    calls_changed: int = Field(description="Calls whose expiry was recomputed.")


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: str = Field(min_length=3, max_length=200, description="call:<id>, subject:<hash>, report:…")


def admin_actor(
    audit: AuditLog, principal: Principal, action: str, target: str, request_id: str | None
) -> Actor:
    """The admin performing ``action``; anyone else is refused (403) and the denial audited."""
    if not is_admin(principal):
        with audited(audit, principal, action, target, request_id):
            raise Forbidden(f"{action} is for admins")
    return Actor(actor=principal.subject, role=principal.role.value, request_id=request_id)


class AdminApi:
    def __init__(self, settings: Settings, calls: CallsApi) -> None:
        self.calls = calls
        self.retention = RetentionSweep(settings)
        self.erasure = SubjectErasure(settings)
        self.holds = LegalHolds(settings)
        self.audio_links = AudioLinks(settings)
        self._agents_may_download = settings.api_agents_may_download_audio

    def _admin(self, principal: Principal, action: str, request_id: str | None) -> Actor:
        return admin_actor(self.retention.audit, principal, action, "admin", request_id)

    def audio_url(self, principal: Principal, call_id: str, request_id: str | None = None) -> AudioUrl:
        call = self.calls.visible(principal, call_id, "audio.url", request_id)
        return self._audio_of(principal, call)

    def call_view(
        self, principal: Principal, call_id: str, query: DetailQuery, request_id: str | None = None
    ) -> CallDetail:
        """``GET /calls/{id}``; with ``include=audio`` also the audio URL (or why there is none), read
        from the same call record and audited as ``audio.url`` like the audio route: the call view's
        detail and audio in one request."""
        call = self.calls.visible(principal, call_id, "call.read", request_id)
        detail = CallDetail.of_call(call, lookup_hashes=may_see_pii(principal))
        if query.include != "audio":
            return detail
        link, why = None, None
        with audited(
            self.retention.audit, principal, "audio.url", f"call:{call.call_id}", request_id
        ) as action:
            try:
                link = self._audio_of(principal, call)
            except (Forbidden, NotFound) as exc:  # answered in the detail, not as the request's error
                why, action.outcome = str(exc), outcome_of(exc)
        return detail.model_copy(update={"audio": link, "audio_unavailable": why})

    def _audio_of(self, principal: Principal, call: CallRecord) -> AudioUrl:
        if not may_get_audio(principal, agents_may_download=self._agents_may_download):
            raise Forbidden(
                "audio download is not allowed for agents (CALLSIGHT_API_AGENTS_MAY_DOWNLOAD_AUDIO)"
            )
        if call.redacted_audio_key:
            bucket, key, redacted = self.calls.recordings_bucket, call.redacted_audio_key, True
        elif is_admin(principal):
            bucket, key, redacted = call.source.bucket, call.source.key, False
        else:
            raise NotFound("no redacted audio of this call yet (the masking sweep makes it)")
        url = self.audio_links.url(bucket, key, AUDIO_URL_TTL_S)
        return AudioUrl(url=url, expires_in_s=AUDIO_URL_TTL_S, redacted=redacted)

    def legal_hold(
        self,
        principal: Principal,
        call_id: str,
        body: HoldRequest | None,
        *,
        release: bool,
        request_id: str | None = None,
    ) -> HoldState:
        who = self._admin(principal, "legal_hold", request_id)
        try:
            self.holds.hold_call(call_id, who, release=release, reason=body.reason if body else "")
        except CallNotFound as exc:
            raise NotFound(f"no call {call_id!r}") from exc
        return HoldState(call_id=call_id, legal_hold=not release)

    def erase(self, principal: Principal, body: ErasureBody, request_id: str | None = None) -> SweepReport:
        who = self._admin(principal, "erasure", request_id)
        try:
            return self.erasure.erase(body.phone, who, dry_run=body.dry_run)
        except InvalidPhone as exc:
            raise BadRequest(str(exc)) from exc

    def retention_policies(
        self, principal: Principal, request_id: str | None = None
    ) -> list[RetentionPolicy]:
        self._admin(principal, "retention_policy.read", request_id)
        return self.retention.policies.retention_policies()

    def put_retention_policy(
        self, principal: Principal, policy: RetentionPolicy, request_id: str | None = None
    ) -> PolicyChange:
        who = self._admin(principal, "retention_policy.update", request_id)
        changed = self.retention.set_policy(policy, who)
        return PolicyChange(policy=policy, calls_changed=changed)

    def audit_log(
        self, principal: Principal, query: AuditQuery, request_id: str | None = None
    ) -> list[AuditEntry]:
        self._admin(principal, "audit.read", request_id)
        return self.retention.audit.for_target(query.target)
