"""Staff tokens: standard JWTs verified against a configured key; everything that is not a
valid staff token for this audience is a 401, and a bare token is a citizen's to check."""

from datetime import datetime, timedelta, timezone

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import HTTPException
from starlette.requests import Request

from contracts.lifecycle import Role
from backbone.staff_auth import InvalidStaffToken, JwtSettings, JwtVerifier
from intake.auth import current_caller

KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC_PEM = KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
SETTINGS = JwtSettings(public_key=PUBLIC_PEM, audience="lapor", issuer="https://sso.kota.go.id")


def token(key=KEY, ttl=timedelta(hours=1), **claims) -> str:
    now = datetime.now(timezone.utc)
    body = {"sub": "u-17", "aud": "lapor", "iss": "https://sso.kota.go.id", "iat": now,
            "exp": now + ttl, "role": "opd", "opd": "dinas-pupr"} | claims
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm="ES256")


async def test_an_opd_token_names_its_opd():
    actor = await JwtVerifier(SETTINGS).verify(token())
    assert (actor.role, actor.opd_id, actor.subject) == (Role.OPD, "dinas-pupr", "u-17")


async def test_keycloak_style_roles_in_a_list_under_a_nested_claim():
    settings = JwtSettings(public_key=PUBLIC_PEM, role_claim="realm_access.roles")
    actor = await JwtVerifier(settings).verify(token(
        iss=None, role=None, realm_access={"roles": ["offline_access", "operator"]},
        jurisdiction="kota-bandung"))
    assert actor.role is Role.OPERATOR and actor.jurisdiction == "kota-bandung"


@pytest.mark.parametrize("bad, why", [
    (lambda: token(ttl=-timedelta(minutes=5)), "expired"),
    (lambda: token(aud="another-app"), "another audience"),
    (lambda: token(iss="https://evil.example"), "another issuer"),
    (lambda: token(key=OTHER_KEY), "signature"),
    (lambda: token(role="citizen"), "no staff role"),
    (lambda: token(opd=None), "OPD id"),
    (lambda: token(sub=None), "required claim"),
    (lambda: "a.b.c", "not a valid"),
])
async def test_bad_staff_tokens_are_refused_saying_why(bad, why):
    with pytest.raises(InvalidStaffToken, match=why):
        await JwtVerifier(SETTINGS).verify(bad())


def request(authorization: str | None) -> Request:
    class State:
        staff_tokens = JwtVerifier(SETTINGS)

    class App:
        state = State()

    headers = [(b"authorization", authorization.encode())] if authorization else []
    return Request({"type": "http", "headers": headers, "app": App(), "method": "GET", "path": "/"})


async def test_no_token_is_a_401_with_a_bearer_challenge():
    with pytest.raises(HTTPException) as refused:
        await current_caller(request(None))
    assert refused.value.status_code == 401
    assert refused.value.headers["WWW-Authenticate"] == "Bearer"


async def test_an_expired_staff_token_is_a_401_naming_invalid_token():
    with pytest.raises(HTTPException) as refused:
        await current_caller(request("Bearer " + token(ttl=-timedelta(minutes=5))))
    assert refused.value.status_code == 401
    assert 'error="invalid_token"' in refused.value.headers["WWW-Authenticate"]


async def test_a_token_without_dots_is_a_citizens_for_the_complaint_to_check():
    caller = await current_caller(request("Bearer abcDEF123_-xyz"))
    assert caller.actor.role is Role.CITIZEN and caller.citizen_token == "abcDEF123_-xyz"
