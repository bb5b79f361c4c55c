"""Signing in and out, and the language switch. On the embedded default the sign-in page issues
a development token for the role and OPD chosen; behind the city's OIDC proxy there is no form:
the proxy has signed the person in and forwards their token (see `console.config`)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from console.domain.i18n import LANGUAGES
from console.pages.common import render
from console.session import COOKIE, LANG_COOKIE, SignInNeeded, current_session

router = APIRouter()
_YEAR = 365 * 24 * 3600


def _safe_next(target: str | None) -> str:
    """Only a path on this console: never an open redirect to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/")
async def home(request: Request) -> Response:
    try:
        session = await current_session(request)
    except SignInNeeded:
        return RedirectResponse("/signin", 303)
    return RedirectResponse("/triage" if session.is_operator else "/queue", 303)


@router.get("/signin")
async def signin_page(request: Request, next: str | None = None, expired: bool = False,
                      error: str | None = None) -> Response:
    directory = request.app.state.directory
    places = await directory.jurisdictions()
    default = request.app.state.settings.default_jurisdiction
    opds = {p["id"]: (await directory.place(p["id"])).opds for p in places}
    return await render(request, "signin.html", None, title_key="signin.title",
                        places=places, opds=opds, default_jurisdiction=default,
                        next=_safe_next(next), expired=expired, error=error,
                        dev=request.app.state.token_issuer is not None,
                        status=401 if error else 200)


@router.post("/signin")
async def signin(request: Request, name: Annotated[str, Form(min_length=1, max_length=80)],
                 role: Annotated[str, Form(pattern="^(operator|opd)$")],
                 jurisdiction: Annotated[str, Form(pattern=r"^[a-z0-9-]{1,60}$")],
                 opd: Annotated[str, Form(max_length=80)] = "",
                 next: Annotated[str, Form(max_length=500)] = "/") -> Response:
    issuer = request.app.state.token_issuer
    if issuer is None:
        return RedirectResponse("/signin", 303)
    if role == "opd" and not opd:
        return RedirectResponse(f"/signin?error=opd&next={quote(_safe_next(next))}", 303)
    token = issuer.issue(role, name.strip(), opd=opd if role == "opd" else None,
                         jurisdiction=jurisdiction)
    target = _safe_next(next)
    if target == "/":
        target = "/triage" if role == "operator" else "/queue"
    response = RedirectResponse(target, 303)
    settings = request.app.state.settings
    response.set_cookie(COOKIE, token, max_age=int(settings.session_hours * 3600), httponly=True,
                        samesite="lax", secure=settings.cookie_secure, path="/")
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    settings = request.app.state.settings
    response = RedirectResponse(settings.signout_url or "/signin", 303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/lang/{code}")
async def switch_language(code: str, request: Request, next: str | None = None) -> Response:
    response = RedirectResponse(_safe_next(next), 303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=_YEAR, samesite="lax", path="/")
    return response
