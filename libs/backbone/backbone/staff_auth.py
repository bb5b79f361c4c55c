"""Staff authentication, for every service with staff routes: OPD staff and operators present
standard signed JWTs, so a city's own identity provider (Keycloak or any OIDC issuer) issues them
and the platform only verifies: signature (a configured public key, or the issuer's JWKS, fetched
and cached by PyJWT), expiry, audience and, when configured, issuer. The claims that carry the
role, the OPD and an optional jurisdiction are configurable by name (a dotted path reaches nested
claims such as Keycloak's `realm_access.roles`, where the role arrives in a list).

`StaffAuthSettings` is the settings part a service mixes into its own settings class."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

import jwt

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings

from contracts.lifecycle import Role

STAFF_ROLES = {"operator": Role.OPERATOR, "opd": Role.OPD}


class InvalidStaffToken(Exception):
    """Expired, badly signed, for another audience or issuer, or without the claims staff
    need: the caller is not authenticated (401). The message names the kind, not the token."""


@dataclass(frozen=True)
class StaffIdentity:
    """Who a verified staff token names: an operator (of every jurisdiction, or of one) or a
    member of one OPD."""

    role: Role
    subject: str
    opd_id: str | None = None
    jurisdiction: str | None = None


class StaffTokenVerifier(Protocol):
    async def verify(self, token: str) -> StaffIdentity: ...


@dataclass(frozen=True)
class JwtSettings:
    public_key: str | None = None
    jwks_url: str | None = None
    audience: str = "lapor"
    issuer: str | None = None
    algorithms: tuple[str, ...] = ("RS256", "ES256", "EdDSA")
    role_claim: str = "role"
    opd_claim: str = "opd"
    jurisdiction_claim: str = "jurisdiction"
    leeway_seconds: float = 30


class JwtVerifier:
    def __init__(self, settings: JwtSettings) -> None:
        if not settings.public_key and not settings.jwks_url:
            raise ValueError("staff tokens need JWT_PUBLIC_KEY or JWT_JWKS_URL")
        self._s = settings
        self._jwks = (jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300, timeout=5)
                      if settings.jwks_url else None)

    async def verify(self, token: str) -> StaffIdentity:
        s = self._s
        try:
            key: Any = s.public_key
            if self._jwks is not None:
                # The key set is cached for minutes; only a miss goes out, in a thread.
                key = (await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)).key
            claims = jwt.decode(
                token, key, algorithms=list(s.algorithms), audience=s.audience, issuer=s.issuer,
                leeway=s.leeway_seconds, options={"require": ["exp", "sub", "aud"]})
        except jwt.PyJWKClientConnectionError as exc:
            raise ConnectionError("the identity provider's key set is unreachable") from exc
        except jwt.PyJWTError as exc:
            raise InvalidStaffToken(_describe(exc)) from None
        return identity_from_claims(claims, s)


def identity_from_claims(claims: dict[str, Any], s: JwtSettings) -> StaffIdentity:
    role = _role(_claim(claims, s.role_claim))
    if role is None:
        raise InvalidStaffToken(f"the token's '{s.role_claim}' claim names no staff role "
                                f"({', '.join(STAFF_ROLES)})")
    opd = _claim(claims, s.opd_claim)
    if role is Role.OPD and not (isinstance(opd, str) and opd):
        raise InvalidStaffToken(f"an OPD token needs its OPD id in the '{s.opd_claim}' claim")
    jurisdiction = _claim(claims, s.jurisdiction_claim)
    return StaffIdentity(role=role, subject=str(claims["sub"])[:120],
                 opd_id=opd if role is Role.OPD else None,
                 jurisdiction=jurisdiction if isinstance(jurisdiction, str) and jurisdiction else None)


def _claim(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _role(value: Any) -> Role | None:
    names = value if isinstance(value, list) else [value]
    for name in ("operator", "opd"):   # an operator who is also OPD staff acts as operator
        if name in names:
            return STAFF_ROLES[name]
    return None


def _describe(exc: jwt.PyJWTError) -> str:
    return {
        jwt.ExpiredSignatureError: "the token has expired",
        jwt.InvalidAudienceError: "the token is for another audience",
        jwt.InvalidIssuerError: "the token is from another issuer",
        jwt.InvalidSignatureError: "the token's signature does not verify",
        jwt.MissingRequiredClaimError: "the token lacks a required claim (exp, sub, aud)",
        jwt.InvalidAlgorithmError: "the token is signed with an algorithm not accepted here",
        jwt.ImmatureSignatureError: "the token is not valid yet",
    }.get(type(exc), "the token is not a valid signed JWT")


class StaffAuthSettings(BaseSettings):
    """Staff tokens (OPD staff, operators): standard JWTs from the city's identity provider."""

    jwt_public_key: str | None = Field(default=None, description="PEM public key that signs staff tokens")
    jwt_jwks_url: str | None = Field(default=None, description="Or the issuer's JWKS URL (Keycloak, any OIDC)")
    jwt_audience: str = Field(default="lapor", description="The `aud` staff tokens must carry")
    jwt_issuer: str | None = Field(default=None, description="The `iss` they must carry, when set")
    jwt_algorithms: str = Field(default="RS256,ES256,EdDSA", description="Accepted, comma-separated")
    jwt_role_claim: str = Field(default="role", description="Claim (dotted path) holding operator or opd")
    jwt_opd_claim: str = Field(default="opd", description="Claim holding an OPD member's OPD id")
    jwt_jurisdiction_claim: str = Field(default="jurisdiction",
                                        description="Optional claim limiting an operator to one jurisdiction")
    jwt_leeway_seconds: float = Field(default=30, ge=0, description="Clock skew tolerated on exp")

    @model_validator(mode="after")
    def staff_tokens_verifiable(self) -> "StaffAuthSettings":
        if not self.jwt_public_key and not self.jwt_jwks_url:
            raise ValueError("set JWT_PUBLIC_KEY (a PEM public key) or JWT_JWKS_URL so staff "
                             "tokens can be verified (`make run` makes a development key)")
        return self

    def staff_verifier(self) -> JwtVerifier:
        return JwtVerifier(JwtSettings(
            public_key=self.jwt_public_key, jwks_url=self.jwt_jwks_url,
            audience=self.jwt_audience, issuer=self.jwt_issuer,
            algorithms=tuple(a.strip() for a in self.jwt_algorithms.split(",") if a.strip()),
            role_claim=self.jwt_role_claim, opd_claim=self.jwt_opd_claim,
            jurisdiction_claim=self.jwt_jurisdiction_claim, leeway_seconds=self.jwt_leeway_seconds))


async def staff_caller(request) -> StaffIdentity:
    """The verified staff member behind `Authorization: Bearer <JWT>` (a service keeps its
    verifier on `app.state.staff_tokens`); a missing or bad token is a 401 with a challenge."""
    from fastapi import HTTPException

    header = request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 8192:
        raise HTTPException(401, "Send 'Authorization: Bearer <staff token>'",
                            headers={"WWW-Authenticate": "Bearer"})
    try:
        return await request.app.state.staff_tokens.verify(token.strip())
    except InvalidStaffToken as exc:
        raise HTTPException(401, str(exc), headers={
            "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{exc}"'}) from None


async def operator_caller(request) -> StaffIdentity:
    """`staff_caller`, for operators only (the city's complaint team): anyone else is a 403."""
    from fastapi import HTTPException

    from contracts.lifecycle import Role

    who = await staff_caller(request)
    if who.role is not Role.OPERATOR:
        raise HTTPException(403, "Only operators may do this")
    return who


def require_jurisdiction(who: StaffIdentity, jurisdiction: str) -> None:
    """A token that names a jurisdiction acts on that one alone (403 for any other)."""
    from fastapi import HTTPException

    if who.jurisdiction is not None and who.jurisdiction != jurisdiction:
        raise HTTPException(403, f"Your token is for jurisdiction {who.jurisdiction} only")
