"""The console's ASGI app and its one bootstrap: the real adapters (the services over HTTP, the
dev token issuer when configured) are picked here; tests hand in twins instead.

Errors become pages, not tracebacks: no or an expired token → the sign-in page (coming back
after); another role's page or a bad form token → 403; what a service hides or does not have →
404; a service away → 503 with Retry-After."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from backbone import metrics
from backbone.http_limits import BodyLimits
from backbone.runtime import Edge
from console.adapters.dev_tokens import DevTokenIssuer
from console.adapters.platform import HttpPlatform, NotFound, Platform, Refused, SignInAgain, Unavailable
from console.config import ConsoleSettings
from console.directory import Directory
from console.pages import alerts, complaints, dashboard, duplicates, queue, signin, triage
from console.pages.common import render
from console.session import SignInNeeded, WrongRole, current_session

log = logging.getLogger(__name__)
SERVICES = ("intake", "routing", "sla", "notify")


def create_app(settings: ConsoleSettings, platform: Platform | None = None,
               token_issuer: DevTokenIssuer | None = None) -> FastAPI:
    if platform is None:
        platform = HttpPlatform({name: settings.url(name) for name in SERVICES},
                                timeout=settings.upstream_timeout)
    if token_issuer is None and settings.dev_signin_key_file is not None:
        token_issuer = DevTokenIssuer.from_file(
            settings.dev_signin_key_file, audience=settings.jwt_audience,
            issuer=settings.jwt_issuer, role_claim=settings.jwt_role_claim,
            opd_claim=settings.jwt_opd_claim, jurisdiction_claim=settings.jwt_jurisdiction_claim,
            lifetime=timedelta(hours=settings.session_hours))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        close = getattr(platform, "close", None)
        if close is not None:
            await close()

    app = FastAPI(title="LAPOR console", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.settings = settings
    app.state.platform = platform
    app.state.token_issuer = token_issuer
    app.state.staff_tokens = settings.staff_verifier()
    app.state.directory = Directory(platform, settings.default_jurisdiction)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for module in (signin, triage, complaints, queue, alerts, dashboard, duplicates):
        app.include_router(module.router)
    _health(app, platform)
    _errors(app)
    app.add_middleware(BodyLimits, max_body_bytes=64 * 1024, body_timeout=10.0, uploads=())
    app.add_middleware(_SecurityHeaders)
    app.add_middleware(Edge, service=settings.service_name)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="readyz,livez,metrics,static",
                                       exclude_spans=["receive", "send"])
    return app


class _SecurityHeaders:
    """Pages load only their own script and styles (no CDN, nothing inline to inject into),
    are never framed, and send no referrer carrying tracking numbers elsewhere."""

    HEADERS = [(b"content-security-policy",
                b"default-src 'self'; img-src 'self' data:; object-src 'none'; "
                b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
               (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin"),
               (b"x-content-type-options", b"nosniff")]

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(h for h in self.HEADERS if h[0] not in names)]
            await send(message)

        await self.app(scope, receive, with_headers)


def _health(app: FastAPI, platform: Platform) -> None:
    @app.get("/livez", include_in_schema=False)
    async def livez() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        """Ready when intake answers: no page works without it. (routing or sla away only
        spoils the pages that need them, which say so.)"""
        try:
            await platform.ping()
        except Unavailable as exc:
            return Response(f'{{"status":"waiting","why":"{exc}"}}', 503,
                            media_type="application/json", headers={"Retry-After": "2"})
        return Response('{"status":"ready"}', media_type="application/json")

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        body, kind = metrics.exposition()
        return Response(body, media_type=kind)


def _errors(app: FastAPI) -> None:
    @app.exception_handler(SignInNeeded)
    @app.exception_handler(SignInAgain)
    async def sign_in(request: Request, exc: Exception) -> Response:
        if request.url.path.endswith("/stream"):
            return Response(status_code=401)
        expired = "&expired=true" if getattr(exc, "expired", True) else ""
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":       # a form sent after the session ended: back to its page
            here = request.url.path.removesuffix("/act") if "/complaints/" in here else "/"
        return RedirectResponse(f"/signin?next={quote(here)}{expired}", 303)

    @app.exception_handler(WrongRole)
    async def wrong_role(request: Request, exc: WrongRole) -> Response:
        return await _error_page(request, 403, "error.forbidden", "error.forbidden.detail")

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return await _error_page(request, 404, "error.not_found", "error.not_found.detail")

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return await _error_page(request, exc.status, "error.refused", None, str(exc))

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, exc: Unavailable) -> Response:
        log.warning("a service is unavailable: %s", exc)
        response = await _error_page(request, 503, "error.unavailable", "error.unavailable.detail")
        response.headers["Retry-After"] = "5"
        return response


async def _error_page(request: Request, status: int, title: str, detail: str | None,
                      said: str | None = None) -> Response:
    try:
        session = await current_session(request)
    except SignInNeeded:
        session = None
    return await render(request, "error.html", session, status=status, title_key=title,
                        detail_key=detail, said=said)
