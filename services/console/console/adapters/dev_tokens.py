"""The dev sign-in page's token issuer: signs a staff JWT for a chosen role and OPD with the
development key the local services trust (`make run` makes it under var/secrets). It writes the
claims where the services' settings look for them, so a token it issues is one they accept.
Never used behind a city's identity provider (see `console.config`)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa


class DevTokenIssuer:
    def __init__(self, private_pem: str, *, audience: str, issuer: str | None,
                 role_claim: str = "role", opd_claim: str = "opd",
                 jurisdiction_claim: str = "jurisdiction", lifetime: timedelta = timedelta(hours=8)) -> None:
        self._key = serialization.load_pem_private_key(private_pem.encode(), password=None)
        self._algorithm = _algorithm(self._key)
        self._audience, self._issuer = audience, issuer
        self._claims = (role_claim, opd_claim, jurisdiction_claim)
        self._lifetime = lifetime

    @classmethod
    def from_file(cls, path: Path, **kwargs: Any) -> "DevTokenIssuer":
        return cls(path.read_text(), **kwargs)

    def issue(self, role: str, name: str, opd: str | None = None,
              jurisdiction: str | None = None) -> str:
        now = datetime.now(timezone.utc)
        claims: dict[str, Any] = {"sub": name, "aud": self._audience, "iat": now,
                                  "exp": now + self._lifetime, "jti": uuid.uuid4().hex}
        if self._issuer:
            claims["iss"] = self._issuer
        role_claim, opd_claim, jurisdiction_claim = self._claims
        _put(claims, role_claim, role)
        if opd:
            _put(claims, opd_claim, opd)
        if jurisdiction:
            _put(claims, jurisdiction_claim, jurisdiction)
        return jwt.encode(claims, self._key, algorithm=self._algorithm)


def _algorithm(key: object) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "ES256"
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    raise ValueError(f"a {type(key).__name__} cannot sign staff tokens")


def _put(claims: dict[str, Any], path: str, value: Any) -> None:
    """A dotted claim path (Keycloak's realm_access.roles) gets nested objects."""
    *parents, last = path.split(".")
    for part in parents:
        claims = claims.setdefault(part, {})
    claims[last] = value
