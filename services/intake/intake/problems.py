"""RFC 9457 problem details for every error intake answers with: a front end always gets
`application/problem+json` with a type, a title, a status and what to fix, never a stack trace
and never the submitted personal data echoed back."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

log = logging.getLogger(__name__)
PROBLEM_BASE = "https://lapor.example/problems/"


def problem(status: int, slug: str, title: str, detail: str | None = None, **extra) -> JSONResponse:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


_SLUGS = {400: "bad-request", 401: "unauthorized", 404: "not-found", 405: "method-not-allowed",
          413: "payload-too-large", 422: "unprocessable", 415: "unsupported-media-type", 503: "unavailable"}


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body") or "(body)",
             "message": e["msg"], "code": e["type"]}
            for e in exc.errors()
        ]
        return problem(422, "validation-error", "Your request is not valid",
                       "Fix the listed fields and send the request again.", errors=errors)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        response = problem(exc.status_code, _SLUGS.get(exc.status_code, "error"),
                           str(exc.detail) if exc.detail else "Error")
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem(500, "internal-error", "Something went wrong on our side",
                       "Nothing was recorded for this request. Please try again.")

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        limit = app.state.max_body_bytes
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return problem(413, "payload-too-large", "Request body too large",
                           f"At most {limit} bytes are accepted.")
        return await call_next(request)
