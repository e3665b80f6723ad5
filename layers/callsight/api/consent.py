"""Consent registry routes (admin only): add, remove and list stop-list entries.

The operations and their audit entries are :class:`callsight.sweeps.consent.ConsentService`'s;
this module checks the role (a refusal is audited under the attempted action, e.g. ``consent.add``
with outcome ``denied``) and maps domain errors to 400/404. Listings show the masked number and the
keyed hash, never the number.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from callsight.api.admin import admin_actor
from callsight.api.service import BadRequest, NotFound
from callsight.auth.tokens import Principal
from callsight.config import Settings
from callsight.models.consent import ConsentState, InvalidSubjectPhone
from callsight.sweeps.consent import (
    ConsentChange,
    ConsentMissing,
    ConsentPage,
    ConsentRemoval,
    ConsentService,
)
from callsight.sweeps.deletion import Actor

_HASH = r"^[0-9a-f]{64}$"
#: The furthest an entry's expiry may lie (a stored epoch and its TTL must stay representable).
MAX_EXPIRY = timedelta(days=36525)


class ConsentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(
        min_length=1, max_length=40, description="Any common spelling; normalised as ingest does."
    )
    state: ConsentState
    source: str = Field(
        default="admin",
        min_length=1,
        max_length=64,
        pattern=r"^[\w.:@/-]+$",
        description="crm, ivr, admin, …",
    )
    expires_at: datetime | None = Field(
        default=None, description="Optional: the entry (and a revoked subject's fence) lapses then."
    )

    @field_validator("expires_at")
    @classmethod
    def _future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        if value <= datetime.now(UTC):
            raise ValueError("must be in the future")
        if value > datetime.now(UTC) + MAX_EXPIRY:
            raise ValueError("must be within 100 years")
        return value


class ConsentRemoveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str | None = Field(default=None, min_length=1, max_length=40)
    phone_hash: str | None = Field(default=None, pattern=_HASH, description="As a listing shows it.")

    @model_validator(mode="after")
    def _exactly_one(self) -> ConsentRemoveBody:
        if (self.phone is None) == (self.phone_hash is None):
            raise ValueError("give exactly one of phone or phone_hash")
        return self


class ConsentQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = Field(default=None, pattern=_HASH, description="`next_cursor` of the previous page.")
    state: ConsentState | None = None


class ConsentApi:
    def __init__(self, settings: Settings) -> None:
        self.service = ConsentService(settings)

    def _admin(self, principal: Principal, action: str, request_id: str | None) -> Actor:
        return admin_actor(self.service.audit, principal, action, "consent", request_id)

    def add(self, principal: Principal, body: ConsentBody, request_id: str | None = None) -> ConsentChange:
        who = self._admin(principal, "consent.add", request_id)
        try:
            return self.service.add(body.phone, body.state, body.source, who, expires_at=body.expires_at)
        except InvalidSubjectPhone as exc:
            raise BadRequest(str(exc)) from exc

    def remove(
        self, principal: Principal, body: ConsentRemoveBody, request_id: str | None = None
    ) -> ConsentRemoval:
        who = self._admin(principal, "consent.remove", request_id)
        try:
            return self.service.remove(who, phone=body.phone, phone_hash=body.phone_hash)
        except InvalidSubjectPhone as exc:
            raise BadRequest(str(exc)) from exc
        except ConsentMissing as exc:
            raise NotFound(str(exc)) from exc

    def list(self, principal: Principal, query: ConsentQuery, request_id: str | None = None) -> ConsentPage:
        who = self._admin(principal, "consent.list", request_id)
        return self.service.list(who, limit=query.limit, cursor=query.cursor, state=query.state)
