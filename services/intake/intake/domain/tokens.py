"""Citizens' access tokens: shown once, stored only as a hash.

A submission that carries an Idempotency-Key gets a token derived from a server secret, the
complaint id and the key (HMAC-SHA256), so a retried request can be answered with the same token
without the token being kept anywhere, not even encrypted. Other submissions get a random one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_key(idempotency_key: str) -> str:
    """Client-chosen keys are stored and locked only as this digest: no raw client input."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()


class AccessTokens:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the access-token secret must have at least 16 bytes")
        self._secret = secret

    @staticmethod
    def random() -> str:
        return secrets.token_urlsafe(32)

    def for_idempotent(self, complaint_id: uuid.UUID, key_hash: str) -> str:
        digest = hmac.new(self._secret, f"access-token:{complaint_id}:{key_hash}".encode(),
                          hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
