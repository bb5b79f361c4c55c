"""Staff tokens for development: a signing key pair kept with a stack's data, and signed JWTs
for OPD staff and operators that intake verifies exactly as it verifies a city's real identity
provider (signature, expiry, audience, issuer).

The stack makes the key pair once per stack folder (`<home>/secrets/`, the private key 0600) and
gives intake the public key as JWT_PUBLIC_KEY; `make token`, `make demo` and the tests sign with
the private key. Nothing here is for production: there, the city's identity provider signs.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from functools import cached_property
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

ISSUER = "lapor-devstack"
AUDIENCE = "lapor"
DEFAULT_TTL = timedelta(hours=8)
STAFF_ROLES = ("operator", "opd")
PRIVATE_KEY_FILE = "jwt-signing.pem"
PUBLIC_KEY_FILE = "jwt-signing.pub.pem"


@dataclass(frozen=True)
class SigningKey:
    """A private key in PEM, with what a verifier needs: its public PEM, algorithm and key id."""

    private_pem: str

    @cached_property
    def _key(self):
        return serialization.load_pem_private_key(self.private_pem.encode(), password=None)

    @property
    def public_pem(self) -> str:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    @property
    def algorithm(self) -> str:
        key = self._key
        if isinstance(key, rsa.RSAPrivateKey):
            return "RS256"
        if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
            return "ES256"
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return "EdDSA"
        raise ValueError(f"no JWT algorithm for a {type(key).__name__} key")

    @property
    def kid(self) -> str:
        """Stable id of the public key (as a JWKS would name it)."""
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return "devstack-" + hashlib.sha256(der).hexdigest()[:16]

    @classmethod
    def generate(cls) -> "SigningKey":
        """A fresh EC P-256 key (ES256), which intake accepts by default."""
        key = ec.generate_private_key(ec.SECP256R1())
        return cls(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode())

    def sign(self, claims: dict[str, Any]) -> str:
        """Any claims, signed as they are: for tests that need a token intake must refuse."""
        return jwt.encode(claims, self._key, algorithm=self.algorithm, headers={"kid": self.kid})

    def mint(self, role: str, opd: str | None = None, subject: str | None = None,
             ttl: timedelta = DEFAULT_TTL, *, issuer: str | None = ISSUER, audience: str = AUDIENCE,
             role_claim: str = "role", opd_claim: str = "opd", now: datetime | None = None,
             **claims: Any) -> str:
        """A staff token: `role` is operator or opd, and an OPD member's token names the OPD.

        A negative `ttl` gives a token that has already expired (issued a full default lifetime
        before its expiry); stay beyond the verifier's clock-skew leeway (intake: 30 s) when a
        test needs it refused. Extra `claims` (jurisdiction, or aud/iss to override) win.
        """
        if role not in STAFF_ROLES:
            raise ValueError(f"role must be one of {', '.join(STAFF_ROLES)}, not {role!r}")
        if role == "opd" and not opd:
            raise ValueError("an OPD token needs the OPD's id (opd=..., e.g. dinas-pupr)")
        now = now or datetime.now(UTC)
        expires = now + ttl
        issued = now if ttl > timedelta(0) else expires - DEFAULT_TTL
        body: dict[str, Any] = {
            "sub": subject or (f"devstack-opd-{opd}" if role == "opd" else "devstack-operator"),
            "aud": audience, "iat": int(issued.timestamp()), "exp": int(expires.timestamp()),
            "jti": uuid.uuid4().hex,
        }
        if issuer:
            body["iss"] = issuer
        _put(body, role_claim, role)
        if opd:
            _put(body, opd_claim, opd)
        body.update(claims)
        return self.sign(body)


def _put(claims: dict[str, Any], path: str, value: Any) -> None:
    """Set a claim by a dotted path (`realm_access.role`), as intake reads configured claims."""
    *parents, last = path.split(".")
    for part in parents:
        claims = claims.setdefault(part, {})
    claims[last] = value


def load_or_create(secrets_dir: Path) -> tuple[SigningKey, bool]:
    """The folder's signing key, made on first use (private 0600, public next to it), and
    whether it was made now. Two processes racing to make it end up with the same one."""
    private_path = secrets_dir / PRIVATE_KEY_FILE
    created = False
    if not private_path.exists():
        secrets_dir.mkdir(parents=True, exist_ok=True)
        fresh = secrets_dir / f".{PRIVATE_KEY_FILE}.{os.getpid()}.tmp"
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(SigningKey.generate().private_pem)
        try:
            os.link(fresh, private_path)  # fails if another process won the race: keep theirs
            created = True
        except FileExistsError:
            pass
        finally:
            fresh.unlink()
    key = SigningKey(private_path.read_text())
    public_path = secrets_dir / PUBLIC_KEY_FILE
    if not public_path.exists() or public_path.read_text() != key.public_pem:
        public_path.write_text(key.public_pem)
    return key, created


def same_public_key(a: str, b: str) -> bool:
    """Whether two PEM public keys are the same key, whatever their line endings or wrapping."""
    def der(pem: str) -> bytes:
        return serialization.load_pem_public_key(pem.strip().encode()).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        return der(a) == der(b)
    except ValueError:
        return False
