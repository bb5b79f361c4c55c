"""Staff authentication: OPD staff and operators present standard signed JWTs, so a city's own
identity provider (Keycloak or any OIDC issuer) issues them and the platform only verifies:
signature (a configured public key, or the issuer's JWKS, fetched and cached by PyJWT), expiry,
audience and, when configured, issuer. The claims that carry the role, the OPD and an optional
jurisdiction are configurable by name (a dotted path reaches nested claims such as Keycloak's
`realm_access.roles`, where the role arrives in a list)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

import jwt

from contracts.lifecycle import Role
from intake.domain.actors import Actor

STAFF_ROLES = {"operator": Role.OPERATOR, "opd": Role.OPD}


class InvalidStaffToken(Exception):
    """Expired, badly signed, for another audience or issuer, or without the claims staff
    need: the caller is not authenticated (401). The message names the kind, not the token."""


class StaffTokenVerifier(Protocol):
    async def verify(self, token: str) -> Actor: ...


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

    async def verify(self, token: str) -> Actor:
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
        return actor_from_claims(claims, s)


def actor_from_claims(claims: dict[str, Any], s: JwtSettings) -> Actor:
    role = _role(_claim(claims, s.role_claim))
    if role is None:
        raise InvalidStaffToken(f"the token's '{s.role_claim}' claim names no staff role "
                                f"({', '.join(STAFF_ROLES)})")
    opd = _claim(claims, s.opd_claim)
    if role is Role.OPD and not (isinstance(opd, str) and opd):
        raise InvalidStaffToken(f"an OPD token needs its OPD id in the '{s.opd_claim}' claim")
    jurisdiction = _claim(claims, s.jurisdiction_claim)
    return Actor(role=role, subject=str(claims["sub"])[:120],
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
