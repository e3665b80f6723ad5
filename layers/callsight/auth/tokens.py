"""Bearer tokens: verified with pyjwt, never trusted on their own word.

In AWS the identity provider (Cognito or any OIDC issuer) signs with RS256/ES256 and publishes its
keys as a JWKS: keys are fetched by ``kid`` and cached, and an unknown ``kid`` triggers one refetch
(key rotation). Locally, HS256 with ``CALLSIGHT_AUTH_LOCAL_SECRET`` (``callsight token`` mints).
The accepted algorithms are fixed by the mode, never read from the token: ``alg: none`` and
algorithm confusion (an HS256 token "signed" with a public key) are rejected. ``iss``, ``aud``,
``exp``, ``nbf`` and ``sub`` are required and checked, and a token may live at most
``CALLSIGHT_AUTH_MAX_TOKEN_LIFETIME_S`` (``exp - iat``; 12 h by default), so a leaked token cannot
be valid for a year. ``callsight:teams`` must be a list and ``callsight:agent_id`` a string; an
integer in either (a PBX extension, a queue number, as some identity providers emit custom
attributes) is read as its decimal string, anything else is a 401 naming the claim.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt
from pydantic import BaseModel, Field, ValidationError

from callsight.config import Settings

ASYMMETRIC = ["RS256", "ES256"]
SYMMETRIC = ["HS256"]
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
TEAMS_CLAIM = "callsight:teams"
AGENT_CLAIM = "callsight:agent_id"


class Role(StrEnum):
    ADMIN = "admin"
    QA = "qa"
    AGENT = "agent"
    CRM = "crm"


class Principal(BaseModel):
    """The verified caller."""

    subject: str
    role: Role
    teams: list[str] = Field(default_factory=list, description="QA: the teams/queues they may see.")
    agent_id: str | None = Field(default=None, description="Agent: their PBX extension / agent id.")
    token_id: str | None = None


class Unauthorized(Exception):
    """401: the token is missing, malformed, expired, for someone else, or not signed by the issuer."""


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._jwks = (
            jwt.PyJWKClient(
                settings.auth_jwks_url,
                cache_keys=True,
                lifespan=3600,
                timeout=5,
                cooldown_duration=settings.auth_jwks_refetch_cooldown_s,
            )
            if settings.auth_jwks_url
            else None
        )

    def verify(self, authorization: str | None) -> Principal:
        """The principal of an ``Authorization: Bearer <jwt>`` header, or :class:`Unauthorized`."""
        if not authorization:
            raise Unauthorized("missing Authorization header")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("expected 'Authorization: Bearer <token>'")
        try:
            key, algorithms = self._key_for(token.strip())
            claims = jwt.decode(
                token.strip(), key=key, algorithms=algorithms, audience=self.settings.auth_audience,
                issuer=self.settings.auth_issuer, leeway=self.settings.auth_leeway_s,
                options={"require": REQUIRED_CLAIMS, "verify_signature": True},
            )  # fmt: skip
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("token expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise Unauthorized("token not valid yet") from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthorized("token is for another audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise Unauthorized("token from an unknown issuer") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthorized(f"token lacks the {exc.claim!r} claim") from exc
        except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
            raise Unauthorized("invalid token") from exc
        self._check_lifetime(claims)
        return self._principal(claims)

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        """``exp - iat`` within the configured maximum (pyjwt has checked both are numbers)."""
        lifetime = float(claims["exp"]) - float(claims["iat"])
        limit = self.settings.auth_max_token_lifetime_s
        if lifetime > limit:
            raise Unauthorized(
                f"token lifetime of {lifetime:.0f} s exceeds the {limit} s allowed "
                "(CALLSIGHT_AUTH_MAX_TOKEN_LIFETIME_S): ask for a shorter-lived token"
            )

    def _key_for(self, token: str) -> tuple[Any, list[str]]:
        header = jwt.get_unverified_header(token)  # raises DecodeError for garbage
        if self._jwks is not None:
            if header.get("alg") not in ASYMMETRIC:
                raise jwt.InvalidAlgorithmError(f"algorithm {header.get('alg')!r} not accepted")
            return self._jwks.get_signing_key_from_jwt(token).key, ASYMMETRIC
        if header.get("alg") not in SYMMETRIC:
            raise jwt.InvalidAlgorithmError(f"algorithm {header.get('alg')!r} not accepted")
        return self.settings.auth_local_secret.get_secret_value(), SYMMETRIC

    def _principal(self, claims: dict[str, Any]) -> Principal:
        try:
            role = Role(str(claims.get(self.settings.auth_roles_claim, "")))
        except ValueError as exc:
            raise Unauthorized(f"token has no valid {self.settings.auth_roles_claim!r} claim") from exc
        teams = claims.get(TEAMS_CLAIM)
        teams = [] if teams is None else teams  # absent or null: no teams
        if not isinstance(teams, list) or not all(_name(t) is not None for t in teams):
            raise Unauthorized(f"token claim {TEAMS_CLAIM!r} must be a list of team or queue names (strings)")
        agent_id = claims.get(AGENT_CLAIM)
        if agent_id is not None and _name(agent_id) is None:
            raise Unauthorized(f"token claim {AGENT_CLAIM!r} must be a string (the agent's id or extension)")
        try:
            return Principal(
                subject=str(claims["sub"]), role=role, teams=[_name(t) or "" for t in teams],
                agent_id=_name(agent_id) if agent_id is not None else None, token_id=_optional_str(claims.get("jti")),
            )  # fmt: skip
        except ValidationError as exc:
            raise Unauthorized("token claims are malformed") from exc


def _name(value: Any) -> str | None:
    """A team, queue or agent id claim as a string: strings as they are, integers (not booleans) as
    their decimal digits; None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def mint_local_token(
    settings: Settings,
    *,
    subject: str,
    role: Role,
    teams: list[str] | None = None,
    agent_id: str | None = None,
    ttl: timedelta = timedelta(hours=8),
) -> str:
    """An HS256 token for local runs (refuses when a JWKS URL is configured: tokens come from the IdP)."""
    if settings.auth_jwks_url:
        raise ValueError(
            "CALLSIGHT_AUTH_JWKS_URL is set: tokens come from the identity provider, not from here"
        )
    limit = settings.auth_max_token_lifetime_s
    if ttl.total_seconds() > limit:
        raise ValueError(
            f"a token may live at most {limit} s ({limit / 3600:g} h, CALLSIGHT_AUTH_MAX_TOKEN_LIFETIME_S)"
        )
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": settings.auth_issuer, "aud": settings.auth_audience, "sub": subject, "iat": now, "nbf": now,
        "exp": now + ttl, settings.auth_roles_claim: role.value, "callsight:teams": teams or [],
        "callsight:agent_id": agent_id,
    }  # fmt: skip
    return jwt.encode(claims, settings.auth_local_secret.get_secret_value(), algorithm="HS256")
