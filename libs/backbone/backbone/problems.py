"""RFC 9457 problem details for every error a service's HTTP API answers with: a client always gets
`application/problem+json` with a type, a title, a status and what to fix, never a stack trace
and never the submitted personal data echoed back (nor logged: an exception's message can
carry what the citizen sent, so logs name its type and where it was raised, not its text)."""

from __future__ import annotations

import logging
import traceback

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from backbone.errors import is_transient, sqlstate

log = logging.getLogger(__name__)
PROBLEM_BASE = "https://lapor.example/problems/"

# Where a transient failure usually comes from. Handled at these classes, the 503 is answered
# inside the middleware stack (X-Trace-Id set, nothing re-raised to the server's error log); any
# other exception reaches the catch-all handler, which still answers 503 if it is transient by
# its cause.
_TRANSIENT_ROOTS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ExceptionGroup)


def problem(status: int, slug: str, title: str, detail: str | None = None, *,
            headers: dict[str, str] | None = None, **extra) -> JSONResponse:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type="application/problem+json",
                        headers=headers)


_SLUGS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
          405: "method-not-allowed", 408: "request-timeout", 409: "conflict",
          413: "payload-too-large", 422: "unprocessable", 415: "unsupported-media-type",
          429: "too-many-requests", 503: "unavailable"}


class ProblemError(Exception):
    """Raised by a route for an answer with a specific slug and extra members."""

    def __init__(self, status: int, slug: str, title: str, detail: str | None = None, **extra):
        super().__init__(title)
        self.status, self.slug, self.title, self.detail, self.extra = status, slug, title, detail, extra


def transient(exc: BaseException) -> bool:
    """`is_transient`, also through the groups anyio task groups wrap errors in: a group is
    transient when everything in it is (one bug among connection errors is still a bug)."""
    if isinstance(exc, BaseExceptionGroup):
        return is_transient(exc) or all(transient(e) for e in exc.exceptions)
    return is_transient(exc)


def _kind(exc: BaseException) -> str:
    """What failed, without the message: e.g. `asyncpg.exceptions.CannotConnectNowError[57P03]`."""
    if isinstance(exc, BaseExceptionGroup):
        return f"{type(exc).__name__}({', '.join(_kind(e) for e in exc.exceptions)})"
    code = sqlstate(exc)
    return f"{type(exc).__module__}.{type(exc).__qualname__}" + (f"[{code}]" if code else "")


def _where(exc: BaseException) -> list[str]:
    return [f"{f.filename}:{f.lineno} in {f.name}"
            for f in traceback.extract_tb(exc.__traceback__)[-12:]]


def install(app: FastAPI, *, retry_after_seconds: int = 2) -> None:
    """Problem details for every error (the body limits are every service's: build_app)."""

    def unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("dependency unavailable, answered 503",
                    extra={"path": request.url.path, "error": _kind(exc)})
        detail = ("Please try again in a few seconds." if request.method in ("GET", "HEAD") else
                  "Nothing was recorded. Please send the same request again in a few seconds, "
                  "with the same Idempotency-Key.")
        return problem(503, "unavailable", "Temporarily unavailable", detail,
                       headers={"Retry-After": str(retry_after_seconds)})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body") or "(body)",
             "message": e["msg"], "code": e["type"]}
            for e in exc.errors()
        ]
        return problem(422, "validation-error", "Your request is not valid",
                       "Fix the listed fields and send the request again.", errors=errors)

    @app.exception_handler(ProblemError)
    async def specific(request: Request, exc: ProblemError) -> JSONResponse:
        return problem(exc.status, exc.slug, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return problem(exc.status_code, _SLUGS.get(exc.status_code, "error"),
                       str(exc.detail) if exc.detail else "Error", headers=exc.headers)

    async def transient_or_not_mine(request: Request, exc: Exception) -> JSONResponse:
        if not transient(exc):
            raise exc  # a bug, not an outage: the catch-all below logs it and answers 500
        return unavailable(request, exc)

    for root in _TRANSIENT_ROOTS:
        app.add_exception_handler(root, transient_or_not_mine)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        if transient(exc):
            return unavailable(request, exc)
        log.error("unhandled error",
                  extra={"path": request.url.path, "error": _kind(exc), "at": _where(exc)})
        return problem(500, "internal-error", "Something went wrong on our side",
                       "Nothing was recorded for this request. Please try again.")

