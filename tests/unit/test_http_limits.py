"""intake's front door without a network: the body limits middleware driven with a fake client
(receive/send), the 503 mapping of transient failures, and text the database cannot store."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from backbone import problems
from backbone.http_limits import BodyLimits
from contracts.events import ComplaintSubmittedV1, Location
from intake.schemas import SubmitComplaintRequest

LIMIT = 4096


class Client:
    """A fake HTTP client as the ASGI server presents it: body chunks, then `then`."""

    def __init__(self, chunks: list[bytes], *, then: str = "end", every: float = 0.0,
                 headers: dict[str, str] | None = None) -> None:
        self.chunks, self.then, self.every = list(chunks), then, every
        self.pulled = 0
        self.sent: list[dict] = []
        self.scope = {"type": "http", "http_version": "1.1", "method": "POST", "path": "/x",
                      "headers": [(k.encode(), v.encode()) for k, v in (headers or {}).items()]}

    async def receive(self) -> dict:
        self.pulled += 1
        if self.then == "trickle":  # a drop at a time, forever
            await asyncio.sleep(self.every)
            return {"type": "http.request", "body": b"x", "more_body": True}
        if self.chunks:
            await asyncio.sleep(0)
            chunk = self.chunks.pop(0)
            return {"type": "http.request", "body": chunk,
                    "more_body": bool(self.chunks) or self.then == "hang"}
        if self.then == "hang":  # declared more than it sends, then went quiet
            await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return self.sent[0]["status"]

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.sent[0]["headers"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])


class App:
    """Reads the whole body as Starlette's Request.body() does, then answers 200 with it. On a
    disconnect it does what FastAPI does (answers 400) or raises, as `on_disconnect` says."""

    def __init__(self, on_disconnect: str = "answer") -> None:
        self.on_disconnect = on_disconnect
        self.messages: list[dict] = []
        self.called = False

    async def __call__(self, scope, receive, send) -> None:
        self.called = True
        body = b""
        while True:
            message = await receive()
            self.messages.append(message)
            if message["type"] == "http.disconnect":
                if self.on_disconnect == "raise":
                    raise ExceptionGroup("task group", [RuntimeError("client disconnected")])
                await send({"type": "http.response.start", "status": 400, "headers": []})
                await send({"type": "http.response.body", "body": b"bad"})
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    @property
    def seen(self) -> int:
        return sum(len(m.get("body", b"")) for m in self.messages)


def limits(app, **kw) -> BodyLimits:
    kw = {"max_body_bytes": LIMIT, "body_timeout": 0.3, "chunk_timeout": 0.1,
          "linger_seconds": 0.5} | kw
    return BodyLimits(app, **kw)


def assert_problem(client: Client, status: int) -> dict:
    assert client.status == status
    assert client.headers[b"content-type"] == b"application/problem+json"
    assert client.headers[b"connection"] == b"close"
    problem = json.loads(client.body)
    assert problem["status"] == status and problem["title"] and problem["detail"]
    return problem


async def test_a_normal_body_passes_through_unchanged():
    chunks = [b'{"title": ', b'"Jalan berlubang"}']
    client, app = Client(chunks, headers={"content-length": "29"}), App()
    await limits(app)(client.scope, client.receive, client.send)
    assert [m["body"] for m in app.messages] == chunks
    assert [m["more_body"] for m in app.messages] == [True, False]
    assert client.status == 200 and client.body == b"".join(chunks)
    assert b"connection" not in client.headers, "a fully read request keeps its connection"


@pytest.mark.parametrize("on_disconnect", ["answer", "raise"])
async def test_a_chunked_body_over_the_limit_is_refused_without_the_app_seeing_it(on_disconnect):
    client = Client([b"x" * 1024] * 100, headers={"transfer-encoding": "chunked"})
    app = App(on_disconnect)
    started = time.monotonic()
    await limits(app)(client.scope, client.receive, client.send)
    assert app.seen <= LIMIT, "the app never gets more than the limit"
    assert app.messages[-1] == {"type": "http.disconnect"}
    problem = assert_problem(client, 413)
    assert problem["type"].endswith("/payload-too-large") and str(LIMIT) in problem["detail"]
    assert not client.chunks, "the rest was read and dropped (lingering close), not kept"
    assert client.sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert time.monotonic() - started < 0.5


async def test_a_lying_content_length_does_not_lift_the_limit():
    client, app = Client([b"x" * 1024] * 10, headers={"content-length": "10"}), App()
    await limits(app)(client.scope, client.receive, client.send)
    assert app.called and app.seen <= LIMIT
    assert_problem(client, 413)


async def test_a_declared_length_over_the_limit_is_refused_unread():
    client, app = Client([b"x" * 1024] * 8, headers={"content-length": "8192"}), App()
    await limits(app)(client.scope, client.receive, client.send)
    assert not app.called
    assert_problem(client, 413)

    waiting = Client([b"x"], then="hang", headers={"content-length": "99999",
                                                   "expect": "100-continue"})
    await limits(App())(waiting.scope, waiting.receive, waiting.send)
    assert_problem(waiting, 413)
    assert waiting.pulled == 0, "a client waiting for 100 Continue is not asked for its body"


async def test_a_body_that_stops_short_times_out_with_408():
    client, app = Client([b"0123456789"], then="hang", headers={"content-length": "1000"}), App()
    started = time.monotonic()
    await limits(app, body_timeout=5)(client.scope, client.receive, client.send)
    elapsed = time.monotonic() - started
    problem = assert_problem(client, 408)
    assert problem["type"].endswith("/request-timeout")
    assert 0.09 <= elapsed < 1, "the wait for one chunk is bounded by chunk_timeout"
    assert client.sent[-1]["more_body"] is False, "no lingering on a silent client"


async def test_a_trickling_body_times_out_at_the_whole_body_deadline():
    client = Client([], then="trickle", every=0.02, headers={"transfer-encoding": "chunked"})
    started = time.monotonic()
    await limits(App(), chunk_timeout=0.3)(client.scope, client.receive, client.send)
    assert_problem(client, 408)
    assert 0.29 <= time.monotonic() - started < 2, "no chunk was late, the whole body was"


async def test_after_the_body_a_wait_for_disconnect_is_not_timed_out():
    client = Client([b"{}"], headers={"content-length": "2"})

    async def listens(scope, receive, send):
        assert (await receive())["more_body"] is False
        await asyncio.sleep(0.4)  # longer than body_timeout: the body is in, no deadline applies
        assert (await receive())["type"] == "http.disconnect"
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    await limits(listens)(client.scope, client.receive, client.send)
    assert client.status == 204


async def test_an_answer_given_before_the_body_is_read_closes_the_connection():
    """Else uvicorn keeps the connection and every late byte cancels its keep-alive timer."""
    client = Client([b"0123456789"], then="hang", headers={"content-length": "1000"})

    async def not_found(scope, receive, send):
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    await limits(not_found)(client.scope, client.receive, client.send)
    assert client.status == 404 and client.headers[b"connection"] == b"close"

    no_body = Client([])
    await limits(not_found)(no_body.scope, no_body.receive, no_body.send)
    assert b"connection" not in no_body.headers


# ---- transient failures answer 503 with Retry-After; bugs answer 500, logged without data


def failing_app() -> FastAPI:
    app = FastAPI()
    failures = {
        "db-starting": lambda: asyncpg.exceptions.CannotConnectNowError("starting up"),
        "refused": lambda: ConnectionRefusedError(111, "Connect call failed"),
        "pool-timeout": lambda: TimeoutError(),
        "grouped": lambda: ExceptionGroup("task group", [ConnectionResetError(), TimeoutError()]),
        "bug": lambda: ValueError("siti@example.id is not a number"),
        "grouped-bug": lambda: ExceptionGroup("task group",
                                              [ConnectionResetError(), KeyError("siti")]),
        "chained": lambda: _chained(),
    }

    @app.post("/fail/{kind}")
    async def fail(kind: str):
        raise failures[kind]()

    problems.install(app, retry_after_seconds=7)
    return app


def _chained() -> Exception:
    try:
        raise RuntimeError("handler failed") from OSError("network unreachable")
    except RuntimeError as exc:
        return exc


async def call(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        return await client.post(path, json={})


@pytest.mark.parametrize("kind", ["db-starting", "refused", "pool-timeout", "grouped", "chained"])
async def test_a_transient_failure_answers_503_with_retry_after(kind):
    response = await call(failing_app(), f"/fail/{kind}")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "7"
    problem = response.json()
    assert problem["type"].endswith("/unavailable") and problem["status"] == 503
    assert "Nothing was recorded" in problem["detail"] and "Idempotency-Key" in problem["detail"]


@pytest.mark.parametrize("kind", ["bug", "grouped-bug"])
async def test_a_bug_answers_500_and_its_message_stays_out_of_the_log(kind, caplog):
    with caplog.at_level(logging.INFO, logger="backbone.problems"):
        response = await call(failing_app(), f"/fail/{kind}")
    assert response.status_code == 500 and "retry-after" not in response.headers
    assert response.headers["content-type"] == "application/problem+json"
    [record] = [r for r in caplog.records if r.name == "backbone.problems"]
    assert record.levelname == "ERROR" and record.exc_info is None
    assert "KeyError" in record.error or "ValueError" in record.error
    assert "siti" not in json.dumps(vars(record), default=str)


# ---- text PostgreSQL cannot store: U+0000 and lone surrogates

VALID = {"title": "Jalan berlubang", "description": "Mohon diperbaiki, jalan berlubang besar."}


@pytest.mark.parametrize(("patch", "field"), [
    ({"title": "Jalan\x00berlubang"}, ("title",)),
    ({"description": "Mohon diperbaiki \ud800 jalan berlubang."}, ("description",)),
    ({"category": "jalan\x00"}, ("category",)),
    ({"location": {"address": "Jl. Merdeka\x00"}}, ("location", "address")),
    ({"location": {"kecamatan": "Sumur\udfff"}}, ("location", "kecamatan")),
    ({"reporter": {"name": "Siti\x00"}}, ("reporter", "name")),
    ({"reporter": {"email": "siti\x00@example.id"}}, ("reporter", "email")),
    ({"jurisdiction": "kota\x00"}, ("jurisdiction",)),
])
def test_unstorable_text_is_refused_in_every_field(patch, field):
    with pytest.raises(ValidationError) as caught:
        SubmitComplaintRequest(**(VALID | patch))
    assert [e["loc"] for e in caught.value.errors()] == [field]


def test_an_event_with_unstorable_location_text_fails_validation():
    assert Location(address="Jl. Merdeka No. 10\n(depan SDN 3)").address
    with pytest.raises(ValidationError, match="U\\+0000"):
        ComplaintSubmittedV1.model_validate({
            "complaint_id": "6f1c1f4e-8a39-4c43-9d44-0d2c8f0a8b11",
            "occurred_at": "2026-01-05T08:00:00Z",
            "tracking_number": "1000001", "jurisdiction": "kota-contoh", "channel": "web",
            "title": "t", "description": "d", "location": {"address": "x\x00"}})
