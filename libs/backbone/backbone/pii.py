"""Encryption at rest for personal data (name, NIK, phone, e-mail), with Fernet (AES-CBC + HMAC)
from `cryptography`. Several comma-separated keys may be given: the first encrypts, all decrypt,
so keys can be rotated without downtime."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, MultiFernet


class PiiCipher:
    def __init__(self, keys: str) -> None:
        fernets = [Fernet(k.strip()) for k in keys.split(",") if k.strip()]
        if not fernets:
            raise ValueError("PII_KEY holds no key")
        self._fernet = MultiFernet(fernets)

    def seal(self, fields: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(fields).encode())

    def open(self, token: bytes) -> dict[str, Any]:
        return json.loads(self._fernet.decrypt(token))

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode()
