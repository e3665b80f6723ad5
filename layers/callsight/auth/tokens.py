"""Bearer tokens: verified with pyjwt, never trusted on their own word.

In AWS the identity provider (Cognito or any OIDC issuer) signs with RS256/ES256 and publishes its
keys as a JWKS: keys are fetched by ``kid`` and cached, and an unknown ``kid`` triggers one refetch
(key rotation). Locally, HS256 with ``CALLSIGHT_AUTH_LOCAL_SECRET`` (``callsight token`` mints).
The accepted algorithms are fixed by the mode, never read from the token: ``alg: none`` and
algorithm confusion (an HS256 token "signed" with a public key) are rejected. ``iss``, ``aud``,
``exp``, ``nbf`` and ``sub`` are required and checked.
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
        return self._principal(claims)

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
            return Principal(
                subject=str(claims["sub"]),
                role=Role(str(claims.get(self.settings.auth_roles_claim, ""))),
                teams=[str(t) for t in claims.get("callsight:teams", [])],
                agent_id=claims.get("callsight:agent_id"),
                token_id=claims.get("jti"),
            )
        except (ValueError, ValidationError) as exc:
            raise Unauthorized(f"token has no valid {self.settings.auth_roles_claim!r} claim") from exc


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
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": settings.auth_issuer, "aud": settings.auth_audience, "sub": subject, "iat": now, "nbf": now,
        "exp": now + ttl, settings.auth_roles_claim: role.value, "callsight:teams": teams or [],
        "callsight:agent_id": agent_id,
    }  # fmt: skip
    return jwt.encode(claims, settings.auth_local_secret.get_secret_value(), algorithm="HS256")
