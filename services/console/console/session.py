"""Who is signed in: the staff token (from the console's cookie, or from the city's OIDC proxy's
header), verified exactly as the services verify it, with the role, OPD and jurisdiction it
names; and the CSRF token every form carries, derived from the session so no store is needed.

The cookie holds the token itself (HttpOnly, SameSite=Lax, Secure behind HTTPS): the console
keeps no session state, so any replica serves any request and a restart signs nobody out."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from fastapi import Request

from backbone.staff_auth import InvalidStaffToken, StaffIdentity

COOKIE = "lapor_console"
LANG_COOKIE = "lapor_lang"


class SignInNeeded(Exception):
    """No token, or one that no longer verifies: the person signs in (again)."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("sign in")
        self.expired = expired


class WrongRole(Exception):
    """A page for the other role (an OPD member on the triage queue): 403."""


@dataclass(frozen=True)
class Session:
    token: str
    who: StaffIdentity
    csrf: str

    @property
    def role(self) -> str:
        return self.who.role.value

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"


def csrf_token(secret: str, token: str) -> str:
    return hmac.new(secret.encode(), b"csrf:" + token.encode(), hashlib.sha256).hexdigest()[:40]


def presented_token(request: Request) -> str | None:
    settings = request.app.state.settings
    if settings.token_header:
        value = request.headers.get(settings.token_header) or ""
        return value.removeprefix("Bearer ").strip() or None
    return request.cookies.get(COOKIE) or None


async def current_session(request: Request) -> Session:
    """The signed-in person, or `SignInNeeded` (the app turns it into the sign-in page)."""
    token = presented_token(request)
    if token is None:
        raise SignInNeeded()
    try:
        who = await request.app.state.staff_tokens.verify(token)
    except InvalidStaffToken:
        raise SignInNeeded(expired=True) from None
    return Session(token, who, csrf_token(request.app.state.settings.session_secret, token))


def _of_role(role: str):
    async def session_of_role(request: Request) -> Session:
        session = await current_session(request)
        if session.role != role:
            raise WrongRole()
        return session
    return session_of_role


operator_session = _of_role("operator")   # pages for the city's complaint team only
opd_session = _of_role("opd")             # pages for OPD staff only


def check_csrf(session: Session, presented: str | None) -> None:
    if not presented or not hmac.compare_digest(presented, session.csrf):
        raise WrongRole()
