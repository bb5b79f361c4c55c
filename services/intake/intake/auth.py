"""Who is calling, from the Authorization header: a staff JWT (three dot-separated parts,
verified by the configured verifier) or a citizen's access token (no dots; only the complaint
it belongs to can confirm it, so it is checked there). No header, or a staff token that does
not verify, is a 401 with a WWW-Authenticate challenge (RFC 6750)."""

from __future__ import annotations

from fastapi import HTTPException, Request

from backbone.staff_auth import InvalidStaffToken
from intake.domain.actors import Actor
from intake.handlers import Caller


def _challenge(detail: str, error: str | None = None) -> HTTPException:
    value = "Bearer" + (f' error="{error}", error_description="{detail}"' if error else "")
    return HTTPException(401, detail, headers={"WWW-Authenticate": value})


def bearer(request: Request) -> str:
    header = request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _challenge("Send 'Authorization: Bearer <token>': the complaint's access token, "
                         "or a staff token")
    if len(token) > 8192:
        raise _challenge("The token is too long", "invalid_token")
    return token


async def current_caller(request: Request) -> Caller:
    """FastAPI dependency for every route that needs to know who asks."""
    token = bearer(request)
    if token.count(".") != 2:
        return Caller(actor=Actor.citizen(), citizen_token=token)
    try:
        who = await request.app.state.staff_tokens.verify(token)
    except InvalidStaffToken as exc:
        raise _challenge(str(exc), "invalid_token") from None
    return Caller(actor=Actor(role=who.role, subject=who.subject, opd_id=who.opd_id,
                              jurisdiction=who.jurisdiction))
