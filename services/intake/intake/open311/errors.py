"""The spec's errors: a list of `{code, description}` (XML: `errors`/`error`) with the right
HTTP status: 400 for a missing or invalid argument, 403 for a bad `api_key`, 404 for what does
not exist. Open311 paths answer in this format only, never RFC 9457 problem details.

`SpecErrors` makes that hold for answers given before a route runs (body limits 413/408,
rate limits 429, an unknown path 404, a wrong method 405, the database away 503): on a path
under `/open311/`, it rewrites a `application/problem+json` answer into the spec's list in
the format the path's suffix asks for, keeping the status and headers such as Retry-After.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

from intake.open311.render import JSON_TYPE, XML_TYPE, Format, fmt_of, render, to_xml

PREFIX = "/open311/"


class Open311Error(Exception):
    """Answer with the spec's error list; `errors` are (code, description) pairs, the code
    being the HTTP status unless said otherwise."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.errors = [(status, d) for d in descriptions]

    def response(self, fmt: Format):
        return render(fmt, "errors", error_list(self.errors), self.status)


def error_list(errors: list[tuple[int, str]]) -> list[dict[str, Any]]:
    return [{"code": code, "description": description} for code, description in errors]


def path_format(path: str) -> Format:
    return fmt_of(path.rstrip("/"))[1] or "json"


def from_problem(problem: dict[str, Any], status: int) -> list[dict[str, Any]]:
    """A problem document as the spec's list: its title and detail, and any field errors."""
    described = ". ".join(str(p) for p in (problem.get("title"), problem.get("detail")) if p)
    errors = [(status, described or "Error")]
    for e in problem.get("errors") or ():
        errors.append((status, f"{e.get('field')}: {e.get('message')}"))
    return error_list(errors)


class SpecErrors:
    """Pure ASGI middleware; see the module docstring. Only problem documents on Open311 paths
    are buffered (they are small); everything else streams through untouched."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive, send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        fmt = path_format(scope["path"])
        held: dict[str, Any] = {}

        async def rewrite(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = {k.lower(): v for k, v in message.get("headers", [])}
                if headers.get(b"content-type", b"").startswith(b"application/problem+json"):
                    held["start"], held["body"] = message, b""
                    return
                await send(message)
            elif message["type"] == "http.response.body" and "start" in held:
                held["body"] += message.get("body", b"")
                if message.get("more_body"):
                    return
                await send_spec(held["start"], held["body"])
            else:
                await send(message)

        async def send_spec(start: MutableMapping[str, Any], body: bytes) -> None:
            status = start["status"]
            try:
                problem = json.loads(body)
            except ValueError:
                problem = {"title": "Error"}
            errors = from_problem(problem if isinstance(problem, dict) else {}, status)
            if fmt == "xml":
                payload, media = to_xml("errors", errors), XML_TYPE
            else:
                payload, media = json.dumps(errors, ensure_ascii=False).encode(), JSON_TYPE
            kept = [(k, v) for k, v in start.get("headers", [])
                    if k.lower() not in (b"content-type", b"content-length")]
            await send({"type": "http.response.start", "status": status, "headers": [
                *kept, (b"content-type", media.encode()),
                (b"content-length", str(len(payload)).encode())]})
            await send({"type": "http.response.body", "body": payload})

        await self.app(scope, receive, rewrite)
