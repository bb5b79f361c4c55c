"""What one HTTP request may cost before the application has seen it: body size and body time.

A pure ASGI middleware, first of the app's own, because the cost is paid as the body streams in:
- Size: Content-Length is only a claim (a chunked body carries none, a client may lie), so the
  bytes are counted as they are received and the request is answered 413 the moment the count
  passes the limit. Nothing is buffered here; the application never sees more than the limit.
  A declared length over the limit is refused before a byte of the body is read.
- Time: a client that declares more than it sends, or sends it a drop at a time, would hold a
  connection and a task for as long as it likes (uvicorn has no body timeout). The whole body
  must arrive within `body_timeout` seconds of the application asking for it, and no wait for
  the next chunk may exceed `chunk_timeout`; otherwise the answer is 408.

What uvicorn does when the application answers before the body is complete: it keeps the
connection for a next request and silently throws away the rest of the body as it arrives, and
each arriving byte cancels the keep-alive timer without re-arming it, so a half-sent body holds
the connection forever. Hence every answer given before the body is complete (ours, or the
application's, say a 404) carries `Connection: close`. Closing a socket while the peer is still
sending makes the kernel answer with a reset, which can destroy the 413 before the client reads
it (most clients write the whole body before reading), so after a 413 the rest of the body is
read and dropped for at most `linger_seconds` before the connection closes (a lingering close).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any


log = logging.getLogger(__name__)

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

_CLOSE = (b"connection", b"close")
TOO_LARGE = (413, "payload-too-large", "Request body too large")
TOO_SLOW = (408, "request-timeout", "Request body not received in time")


@dataclass(frozen=True)
class UploadRoute:
    """A larger allowance for file uploads: a `multipart/form-data` request to `method` on a
    path matching `path` (a regular expression, whole path) may carry `max_body_bytes` in
    `body_timeout` seconds. Any other body on that route keeps the ordinary limits, so a JSON
    body cannot borrow the upload's allowance. The bytes are counted as they stream in, as
    for every body."""

    method: str
    path: str
    max_body_bytes: int
    body_timeout: float

    def matches(self, method: str, path: str, content_type: bytes) -> bool:
        return (method == self.method and re.fullmatch(self.path, path) is not None
                and content_type.split(b";")[0].strip().lower() == b"multipart/form-data")


class BodyLimits:
    """Bounds every HTTP request's body in bytes and in seconds; see the module docstring."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int = 64 * 1024,
                 body_timeout: float = 10.0, chunk_timeout: float = 5.0,
                 linger_seconds: float = 2.0,
                 problem_base: str = "https://lapor.example/problems/",
                 uploads: Sequence[UploadRoute] = ()) -> None:
        self.app = app
        self.uploads = tuple(uploads)
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.chunk_timeout = min(chunk_timeout, body_timeout)
        self.linger_seconds = linger_seconds
        self.problem_base = problem_base

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await _Exchange(self, scope, receive, send).run()


class _Exchange:
    """One request: the guarded receive and send the application gets, and our answer."""

    def __init__(self, limits: BodyLimits, scope: MutableMapping[str, Any],
                 receive: Receive, send: Send) -> None:
        self.limits, self.scope, self._receive, self._send = limits, scope, receive, send
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        length = headers.get(b"content-length", b"").strip()
        self.declared = int(length) if length.isdigit() else None
        self.expects_continue = headers.get(b"expect", b"").lower() == b"100-continue"
        self.max_body_bytes, self.body_timeout = limits.max_body_bytes, limits.body_timeout
        for upload in limits.uploads:
            if upload.matches(scope.get("method", ""), scope.get("path", ""),
                              headers.get(b"content-type", b"")):
                self.max_body_bytes, self.body_timeout = upload.max_body_bytes, upload.body_timeout
                break
        # HTTP/1 framing tells whether a body follows (HTTP/2 has no Connection header at all).
        self.http1_body = scope.get("http_version", "1.1") in ("1.0", "1.1") and bool(
            self.declared or b"transfer-encoding" in headers)
        self.body_done = False  # seen the last chunk (or a disconnect)
        self.received = 0
        self.deadline: float | None = None  # set when the application first asks for the body
        self.failure: tuple[int, str, str] | None = None
        self.app_answered = False

    async def run(self) -> None:
        if self.declared is not None and self.declared > self.max_body_bytes:
            # Refused unread. A client waiting for "100 Continue" sends nothing: no linger.
            await self._answer(*TOO_LARGE, linger=self.http1_body and not self.expects_continue)
            return
        try:
            await self.limits.app(self.scope, self.receive, self.send)
        except Exception:
            # The application failed on the body it was refused (a disconnect, to it): ours goes.
            if self.failure is None or self.app_answered:
                raise
        if self.failure is not None and not self.app_answered:
            await self._answer(*self.failure, linger=self.http1_body and self.failure is TOO_LARGE)

    async def receive(self) -> Message:
        if self.failure is not None:
            return {"type": "http.disconnect"}
        if self.body_done:  # later calls only listen for a disconnect: no deadline applies
            return await self._receive()
        loop = asyncio.get_running_loop()
        if self.deadline is None:
            self.deadline = loop.time() + self.body_timeout
        wait = min(self.limits.chunk_timeout, self.deadline - loop.time())
        try:
            async with asyncio.timeout(wait):
                message = await self._receive()
        except TimeoutError:
            return self._refuse(TOO_SLOW)
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.max_body_bytes:
                return self._refuse(TOO_LARGE)
            self.body_done = not message.get("more_body", False)
        else:
            self.body_done = True
        return message

    def _refuse(self, failure: tuple[int, str, str]) -> Message:
        """The application is told the client went away, so it stops reading; we answer."""
        self.failure = failure
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self.failure is not None and not self.app_answered:
            return  # its answer to a body it never got in full; ours replaces it
        if message["type"] == "http.response.start":
            self.app_answered = True
            if self.http1_body and not self.body_done:
                message = {**message, "headers": [*message.get("headers", []), _CLOSE]}
        await self._send(message)

    async def _answer(self, status: int, slug: str, title: str, *, linger: bool) -> None:
        limit = self.max_body_bytes
        detail = (f"At most {limit} bytes are accepted." if status == 413 else
                  f"Send the whole body within {self.body_timeout:g} seconds.")
        log.warning("request body refused", extra={
            "status": status, "path": self.scope.get("path"), "received_bytes": self.received,
            "declared_bytes": self.declared})
        body = json.dumps({"type": self.limits.problem_base + slug, "title": title,
                           "status": status, "detail": detail}).encode()
        headers = [(b"content-type", b"application/problem+json"),
                   (b"content-length", str(len(body)).encode())]
        if self.http1_body:
            headers.append(_CLOSE)
        await self._send({"type": "http.response.start", "status": status, "headers": headers})
        await self._send({"type": "http.response.body", "body": body, "more_body": linger})
        if linger:
            await self._drop_rest()
            await self._send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _drop_rest(self) -> None:
        """Read and drop what the client is still sending, for a bounded time (see above)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + self.limits.linger_seconds
        while not self.body_done and (left := end - loop.time()) > 0:
            try:
                async with asyncio.timeout(left):
                    message = await self._receive()
            except TimeoutError:
                return
            self.body_done = message["type"] != "http.request" or not message.get("more_body")
