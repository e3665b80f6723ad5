"""Bearer-token verification: every way a token can be wrong is a 401, local HS256 and JWKS alike."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from callsight.auth.access import can_see_call, may_get_audio, may_see_pii
from callsight.auth.tokens import Principal, Role, TokenVerifier, Unauthorized, mint_local_token
from callsight.config import Settings
from callsight.models.call import CallRecord, CallStatus, SourceObject
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

LOCAL = Settings()


def claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "iss": LOCAL.auth_issuer, "aud": LOCAL.auth_audience, "sub": "u1", "iat": now, "nbf": now,
        "exp": now + timedelta(minutes=5), "callsight:role": "qa", "callsight:teams": ["sales-ru"],
    }  # fmt: skip
    return {k: v for k, v in (base | overrides).items() if v is not None}


def local(token_claims: dict[str, Any], secret: str | None = None) -> str:
    return jwt.encode(token_claims, secret or LOCAL.auth_local_secret.get_secret_value(), algorithm="HS256")


def test_a_minted_local_token_verifies() -> None:
    token = mint_local_token(LOCAL, subject="anna", role=Role.AGENT, agent_id="204")
    principal = TokenVerifier(LOCAL).verify(f"Bearer {token}")
    assert principal == Principal(subject="anna", role=Role.AGENT, teams=[], agent_id="204")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing Authorization header"),
        ("", "missing Authorization header"),
        ("Basic dXNlcjpwYXNz", "expected 'Authorization: Bearer <token>'"),
        ("Bearer ", "expected 'Authorization: Bearer <token>'"),
        ("Bearer not.a.jwt", "invalid token"),
        ("Bearer " + local(claims(exp=datetime.now(UTC) - timedelta(minutes=5))), "token expired"),
        ("Bearer " + local(claims(nbf=datetime.now(UTC) + timedelta(minutes=5))), "token not valid yet"),
        ("Bearer " + local(claims(iss="https://evil.example")), "token from an unknown issuer"),
        ("Bearer " + local(claims(aud="another-api")), "token is for another audience"),
        ("Bearer " + local(claims(sub=None)), "token lacks the 'sub' claim"),
        ("Bearer " + local(claims(), secret="guessed-secret-guessed-secret-guessed"), "invalid token"),
        ("Bearer " + local(claims(**{"callsight:role": "root"})), "no valid 'callsight:role' claim"),
        ("Bearer " + jwt.encode(claims(), key="", algorithm="none"), "invalid token"),
    ],
    ids=[
        "none",
        "empty",
        "basic",
        "bearer-empty",
        "garbage",
        "expired",
        "not-yet",
        "issuer",
        "audience",
        "no-sub",
        "wrong-secret",
        "bad-role",
        "alg-none",
    ],
)
def test_bad_tokens_are_refused(header: str | None, message: str) -> None:
    with pytest.raises(Unauthorized, match=message):
        TokenVerifier(LOCAL).verify(header)


class _Jwks:
    """An identity provider's JWKS endpoint on localhost, whose keys can be rotated."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.fetches = 0
        jwks = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                jwks.fetches += 1
                body = json.dumps(
                    {"keys": [jwks.public_jwk(kid, key) for kid, key in jwks.keys.items()]}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"

    @staticmethod
    def public_jwk(kid: str, key: Any) -> dict[str, Any]:
        algorithm = (
            jwt.algorithms.RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else jwt.algorithms.ECAlgorithm
        )
        jwk = json.loads(algorithm.to_jwk(key.public_key()))
        return jwk | {"kid": kid, "use": "sig"}


@pytest.fixture
def idp() -> Iterator[_Jwks]:
    server = _Jwks()
    server.keys["k1"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    yield server
    server.server.shutdown()


def hs256_by_hand(payload: dict[str, Any], secret: bytes, kid: str) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = b64(json.dumps(payload, default=lambda d: int(d.timestamp())).encode())
    signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(signature)}"


def signed(idp: _Jwks, kid: str, algorithm: str = "RS256", **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), idp.keys[kid], algorithm=algorithm, headers={"kid": kid})


def test_jwks_tokens_verify_and_keys_rotate(idp: _Jwks) -> None:
    verifier = TokenVerifier(Settings(auth_jwks_url=idp.url, auth_jwks_refetch_cooldown_s=0))
    assert verifier.verify("Bearer " + signed(idp, "k1")).role is Role.QA
    idp.keys["k2"] = ec.generate_private_key(ec.SECP256R1())  # the IdP rotates in an ES256 key
    assert verifier.verify("Bearer " + signed(idp, "k2", algorithm="ES256")).subject == "u1"
    assert idp.fetches == 2  # cached, refetched once for the unknown kid


def test_jwks_mode_refuses_local_and_confused_tokens(idp: _Jwks) -> None:
    verifier = TokenVerifier(Settings(auth_jwks_url=idp.url))
    with pytest.raises(Unauthorized, match="invalid token"):
        verifier.verify("Bearer " + mint_local_token(LOCAL, subject="x", role=Role.ADMIN))
    public_pem = (
        idp.keys["k1"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    # algorithm confusion: HS256 "signed" with the RSA public key as the HMAC secret (built by hand,
    # since pyjwt itself refuses to produce it)
    forged = hs256_by_hand(claims(**{"callsight:role": "admin"}), public_pem, kid="k1")
    with pytest.raises(Unauthorized, match="invalid token"):
        verifier.verify("Bearer " + forged)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthorized, match="invalid token"):  # right kid, wrong key
        verifier.verify("Bearer " + jwt.encode(claims(), other, algorithm="RS256", headers={"kid": "k1"}))
    with pytest.raises(ValueError, match="identity provider"):
        mint_local_token(Settings(auth_jwks_url=idp.url), subject="x", role=Role.ADMIN)


def call(team: str | None = "sales-ru", queue: str | None = "600", agent: str | None = "204") -> CallRecord:
    now = datetime.now(UTC)
    return CallRecord(
        call_id="c1", status=CallStatus.ANALYZED, source=SourceObject(bucket="b", key="k"), team=team, queue=queue,
        agent_id=agent, created_at=now, updated_at=now,
    )  # fmt: skip


def test_roles_see_what_they_may() -> None:
    admin = Principal(subject="a", role=Role.ADMIN)
    crm = Principal(subject="c", role=Role.CRM)
    qa = Principal(subject="q", role=Role.QA, teams=["sales-ru"])
    qa_other = Principal(subject="q2", role=Role.QA, teams=["support-en"])
    agent = Principal(subject="g", role=Role.AGENT, agent_id="204")
    other_agent = Principal(subject="g2", role=Role.AGENT, agent_id="205")
    assert [can_see_call(p, call()) for p in (admin, crm, qa, qa_other, agent, other_agent)] == [
        True, True, True, False, True, False,
    ]  # fmt: skip
    assert can_see_call(Principal(subject="q3", role=Role.QA, teams=["600"]), call(team=None))  # by queue
    assert not can_see_call(Principal(subject="g3", role=Role.AGENT), call(agent=None))  # no id, no calls
    assert [may_see_pii(p) for p in (admin, crm, qa, agent)] == [True, True, False, False]
    assert may_get_audio(qa) and not may_get_audio(agent) and may_get_audio(agent, agents_may_download=True)


# --- claim shapes and token lifetime (issue 15, items 12a, 12b, 12d) -----------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"callsight:teams": "sales-ru"}, "'callsight:teams' must be a list of team or queue names"),
        ({"callsight:teams": {"sales-ru": True}}, "'callsight:teams' must be a list"),
        ({"callsight:teams": ["sales-ru", ["x"]]}, "'callsight:teams' must be a list"),
        ({"callsight:teams": [None]}, "'callsight:teams' must be a list"),
        ({"callsight:role": "agent", "callsight:agent_id": 20.4}, "'callsight:agent_id' must be a string"),
        ({"callsight:role": "agent", "callsight:agent_id": True}, "'callsight:agent_id' must be a string"),
        ({"callsight:role": "agent", "callsight:agent_id": ["204"]}, "'callsight:agent_id' must be a string"),
    ],
    ids=[
        "teams-string",
        "teams-object",
        "teams-nested",
        "teams-null",
        "agent-float",
        "agent-bool",
        "agent-list",
    ],
)
def test_claims_of_the_wrong_shape_are_refused_with_the_reason(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(Unauthorized, match=message):
        TokenVerifier(LOCAL).verify("Bearer " + local(claims(**overrides)))


def test_numeric_agent_ids_and_queue_numbers_are_read_as_strings() -> None:
    token = local(claims(**{"callsight:role": "agent", "callsight:agent_id": 204, "callsight:teams": [600]}))
    principal = TokenVerifier(LOCAL).verify(f"Bearer {token}")
    assert principal.agent_id == "204" and principal.teams == ["600"]


@pytest.mark.parametrize(
    ("lifetime", "accepted"),
    [(timedelta(hours=12), True), (timedelta(hours=12, seconds=1), False), (timedelta(days=365), False)],
)
def test_token_lifetime_is_capped(lifetime: timedelta, accepted: bool) -> None:
    now = datetime.now(UTC)
    token = local(claims(iat=now, nbf=now, exp=now + lifetime))
    if accepted:
        assert TokenVerifier(LOCAL).verify(f"Bearer {token}").subject == "u1"
    else:
        with pytest.raises(Unauthorized, match=r"token lifetime of \d+ s exceeds the 43200 s allowed"):
            TokenVerifier(LOCAL).verify(f"Bearer {token}")


def test_an_old_iat_does_not_stretch_the_lifetime_and_exp_and_iat_are_required() -> None:
    now = datetime.now(UTC)
    backdated = local(
        claims(iat=now - timedelta(days=30), nbf=now - timedelta(days=30), exp=now + timedelta(hours=1))
    )
    with pytest.raises(Unauthorized, match="exceeds"):
        TokenVerifier(LOCAL).verify(f"Bearer {backdated}")
    with pytest.raises(Unauthorized, match="token lacks the 'exp' claim"):
        TokenVerifier(LOCAL).verify("Bearer " + local(claims(exp=None)))
    with pytest.raises(Unauthorized, match="token lacks the 'iat' claim"):
        TokenVerifier(LOCAL).verify("Bearer " + local(claims(iat=None)))


def test_the_cap_is_a_setting_and_minting_respects_it() -> None:
    short = Settings(auth_max_token_lifetime_s=3600)
    with pytest.raises(ValueError, match="at most 3600 s"):
        mint_local_token(short, subject="anna", role=Role.ADMIN, ttl=timedelta(hours=2))
    token = mint_local_token(short, subject="anna", role=Role.ADMIN, ttl=timedelta(hours=1))
    assert TokenVerifier(short).verify(f"Bearer {token}").subject == "anna"
    with pytest.raises(ValueError, match="at most 43200 s"):
        mint_local_token(LOCAL, subject="anna", role=Role.ADMIN, ttl=timedelta(days=30))


def test_callsight_token_refuses_a_lifetime_over_the_cap() -> None:
    from callsight.cli import app
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["token", "--role", "admin", "--sub", "me", "--hours", "24"])
    assert result.exit_code != 0 and "at most 43200 s" in result.output
    result = CliRunner().invoke(app, ["token", "--role", "admin", "--sub", "me", "--hours", "12"])
    assert (
        result.exit_code == 0
        and TokenVerifier(LOCAL).verify("Bearer " + result.output.strip()).subject == "me"
    )
