"""The citizen's own door into notify's API: the tracking number plus the secret access token
from their receipt, checked against the SHA-256 intake passed along (notify never sees the
token otherwise). An unknown number and a wrong token get the same 404."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import HTTPException, Request


def bearer(authorization: str | None, what: str = "access token") -> str:
    """The token of `Authorization: Bearer <token>`, or a 401 with a challenge."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, f"Send 'Authorization: Bearer <{what}>'",
                            headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


async def find(request: Request, tracking_number: str):
    """(complaint id, contact, token hash, profile) for a tracking number, or None."""
    async with request.app.state.runtime.unit_of_work() as uow:
        return await uow.contacts.by_tracking_number(tracking_number)


def check(found, token: str):
    """`found` if `token` is its access token; else the 404 that says nothing more."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    if found is None or not found[2] or not hmac.compare_digest(found[2], digest):
        raise HTTPException(404, "No complaint with this tracking number and access token")
    return found
