"""Local mail catcher: an SMTP sink plus a JSON API to read back what was "sent".

Why: the notify service sends real e-mail (Indonesian text, so UTF-8 with
quoted-printable/base64 bodies and RFC 2047 subjects). In local runs and
end-to-end tests we need an SMTP server that accepts anything, delivers nothing,
and lets tests assert on the decoded result over HTTP. There is no Docker here
for MailHog/Mailpit, so this is a small stand-in built on aiosmtpd + FastAPI,
both already in the venv, running on one asyncio loop.

SMTP on 127.0.0.1:1025 (SMTPUTF8 and 8BITMIME; AUTH is offered without TLS and
any credentials are accepted). HTTP on 127.0.0.1:8025:
  GET    /api/messages       all messages kept, oldest first
  GET    /api/messages?since=N[&limit=M]
                             only the messages with an id above N (at most M), oldest first.
                             Ids count from 1, so a reader that keeps N = the last id it saw
                             (to begin: /api/stats' last_id, or 0) follows the mailbox without
                             re-reading it; ids restart at 1 after a DELETE
  GET    /api/messages/{id}  one message (404 if unknown or no longer kept)
  GET    /api/stats          {"count", "last_id", "last_received_at"}: cheap to poll
  DELETE /api/messages       forget everything (also truncates the store file)
  GET    /healthz            {"status": "ok"}
  GET    /                   small HTML list of the newest messages, for humans
A message is {id, received_at, mail_from, rcpt_tos, subject, headers, text, html}:
headers maps each header name to its decoded value (repeated headers joined by
newlines), text is the decoded text/plain body ("" if none), html the decoded
text/html body or null. With --store, messages are also appended as JSON lines
to that file (buffered, flushed within FLUSH_AFTER_S and on a clean stop; never
fsynced: it is a dev tool) and reloaded on start.

Only the newest --max-messages (50,000) are kept, in memory and in the store: `make run` left up
for weeks would otherwise grow without end (a message takes about 5 KB of memory; 105,000 of
them took 570 MB). Mailpit keeps 500 by default; the tests and the bench read back thousands.

Cost per message matters: notify sends one message at a time, so the catcher's
time per message bounds the platform's end-to-end rate in `make bench`. Decoding
headers with email.policy.default is the dominant cost, hence the header cache
below; `python -m bench.catcher_load` measures the catcher alone.

Run: python deploy/local/devstack/mailcatcher.py [--smtp-port 1025] [--http-port 8025] [--store var/mail/messages.jsonl]
SIGTERM/SIGINT stop it cleanly with exit code 0.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import datetime
import email
import email.message
import email.policy
import functools
import html
import json
import logging
import pathlib
import signal
import sys
from typing import Any

import uvicorn
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session
from backbone.gc_tuning import settle_after_start
from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse

HOST = "127.0.0.1"
FLUSH_AFTER_S = 0.2
MAX_MESSAGES = 50_000
HTML_NEWEST = 500


@functools.lru_cache(maxsize=4096)
def _parsed_header(name: str, value: str) -> Any:
    return email.policy.default.header_fetch_parse(name, value)


class _CachingPolicy(email.policy.EmailPolicy):
    """email.policy.default, except that a header (name, raw value) is parsed once.

    Why: policy.default builds a new header class and runs the full RFC 5322 parser every
    time a header is read, and reading one message reads Content-Type half a dozen times.
    Most headers (From, Content-Type, MIME-Version, ...) are the same in every message.
    The parsed header objects are immutable, so sharing them changes no output.
    """

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):
            return value
        return _parsed_header(name, value)


_POLICY = _CachingPolicy()


def parse_message(raw: bytes) -> dict[str, Any]:
    """Decode subject, headers and text/html bodies of a raw RFC 5322 message."""
    msg = email.message_from_bytes(raw, policy=_POLICY)
    headers: dict[str, str] = {}
    for name, value in msg.items():
        headers[name] = f"{headers[name]}\n{value}" if name in headers else str(value)
    return {
        "subject": str(msg.get("Subject", "")),
        "headers": headers,
        "text": _body(msg, "plain") or "",
        "html": _body(msg, "html"),
    }


def _body(msg: email.message.EmailMessage, subtype: str) -> str | None:
    part = msg.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    try:
        content = part.get_content()  # undoes base64/quoted-printable and the declared charset
    except (LookupError, ValueError):  # unknown or lying charset: best effort
        content = (part.get_payload(decode=True) or b"").decode("utf-8", errors="replace")
    return content.replace("\r\n", "\n")  # SMTP wire line endings are not part of the text


class Mailbox:
    """The newest `max_messages` in memory, optionally mirrored to a JSON-lines file.

    Past the cap by a tenth, the oldest are dropped in one go (from memory), and once the store
    holds twice the cap it is rewritten with its newest lines: each costs a little once per
    many messages, rather than some on every one."""

    def __init__(self, store: pathlib.Path | None = None, max_messages: int = MAX_MESSAGES) -> None:
        self.store = store
        self.max_messages = max_messages
        self.messages: list[dict[str, Any]] = []
        self._file = None
        self._flush_pending = False
        self._store_lines = 0
        if store is not None:
            store.parent.mkdir(parents=True, exist_ok=True)
            store.touch()
            for line in self._compact().decode("utf-8", errors="replace").splitlines():
                try:
                    self.messages.append(json.loads(line))
                except json.JSONDecodeError:
                    pass  # a torn last line after a crash
        self._by_id = {m["id"]: m for m in self.messages}
        self._next_id = max(self._by_id, default=0) + 1

    def add(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> dict[str, Any]:
        message = {
            "id": self._next_id,
            "received_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"),
            "mail_from": mail_from,
            "rcpt_tos": rcpt_tos,
            **parse_message(raw),
        }
        self._next_id += 1
        self.messages.append(message)
        self._by_id[message["id"]] = message
        if len(self.messages) > self.max_messages + self.max_messages // 10:
            dropped = len(self.messages) - self.max_messages
            for old in self.messages[:dropped]:
                del self._by_id[old["id"]]
            del self.messages[:dropped]
        if self._file is not None:
            self._file.write(json.dumps(message, ensure_ascii=False) + "\n")
            self._store_lines += 1
            if self._store_lines >= 2 * self.max_messages:
                self._compact()
            self._schedule_flush()
        return message

    def _compact(self) -> bytes:
        """Keep the store's newest `max_messages` lines, copied as they are (no message is
        encoded again): when it holds more, it is rewritten through a new file that replaces
        the old at once. Returns the lines kept, which is also how the store is loaded."""
        assert self.store is not None
        if self._file is not None:
            self._file.close()
        data = self.store.read_bytes()
        start = len(data)
        for _ in range(self.max_messages + 1):   # the last line ends with a newline
            start = data.rfind(b"\n", 0, start)
            if start < 0:
                break
        kept = data[start + 1:]
        if len(kept) < len(data):
            temporary = self.store.with_name(self.store.name + ".compacting")
            temporary.write_bytes(kept)
            temporary.replace(self.store)
        self._store_lines = kept.count(b"\n")
        self._file = self.store.open("a", encoding="utf-8")
        return kept

    def _schedule_flush(self) -> None:
        """Flush the store soon, once for a burst of messages rather than once per message."""
        if self._flush_pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # used without a loop (a script, a test): write through
            self.flush()
            return
        self._flush_pending = True
        loop.call_later(FLUSH_AFTER_S, self.flush)

    def flush(self) -> None:
        self._flush_pending = False
        if self._file is not None and not self._file.closed:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def get(self, message_id: int) -> dict[str, Any] | None:
        return self._by_id.get(message_id)

    def since(self, last_id: int, limit: int | None = None) -> list[dict[str, Any]]:
        """The messages with an id above `last_id`, oldest first, at most `limit` (ids grow
        with the list, so a binary search finds where they start)."""
        start = bisect.bisect_right(self.messages, last_id, key=lambda m: m["id"])
        return self.messages[start:None if limit is None else start + limit]

    def stats(self) -> dict[str, Any]:
        last = self.messages[-1] if self.messages else None
        return {"count": len(self.messages), "last_id": last["id"] if last else None,
                "last_received_at": last["received_at"] if last else None}

    def clear(self) -> None:
        self.messages.clear()
        self._by_id.clear()
        self._next_id = 1
        if self._file is not None:
            self._file.truncate(0)  # append mode: the next write starts at the new end
            self._file.flush()
            self._store_lines = 0


class _SmtpHandler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self.box.add(envelope.mail_from or "", list(envelope.rcpt_tos), raw)
        return "250 OK: caught, not delivered"


def _accept_any_login(server, session, envelope, mechanism, auth_data) -> AuthResult:
    return AuthResult(success=True)


def create_app(box: Mailbox) -> FastAPI:
    # Handlers are async on purpose: they share the mailbox with the SMTP side on one loop, no threads.
    app = FastAPI(title="devstack mailcatcher", docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # JSONResponse directly: the messages are plain JSON already, and validating thousands of
    # them against a response model on every poll would cost more than the SMTP side.
    @app.get("/api/messages")
    async def list_messages(since: int | None = Query(None, ge=0),
                            limit: int | None = Query(None, ge=1)) -> JSONResponse:
        if since is None and limit is None:
            return JSONResponse(box.messages)
        return JSONResponse(box.since(since or 0, limit))

    @app.get("/api/stats")
    async def stats() -> dict[str, Any]:
        return box.stats()

    @app.get("/api/messages/{message_id}")
    async def get_message(message_id: int) -> dict[str, Any]:
        message = box.get(message_id)
        if message is None:
            raise HTTPException(status_code=404, detail="no such message")
        return message

    @app.delete("/api/messages")
    async def clear_messages() -> dict[str, str]:
        box.clear()
        return {"status": "cleared"}

    @app.get("/", response_class=HTMLResponse)
    async def index() -> str:
        rows = "".join(
            f"<tr><td>{html.escape(m['received_at'])}</td><td>{html.escape(', '.join(m['rcpt_tos']))}</td>"
            f"<td><a href='/api/messages/{m['id']}'>{html.escape(m['subject'] or '(no subject)')}</a></td></tr>"
            for m in reversed(box.messages[-HTML_NEWEST:])
        )
        return (
            "<!doctype html><meta charset='utf-8'><title>mailcatcher</title>"
            f"<h1>Caught mail ({len(box.messages)} kept, the newest {HTML_NEWEST} listed)</h1>"
            f"<table border='1' cellpadding='4'><tr><th>Received (UTC)</th><th>To</th><th>Subject</th></tr>{rows}</table>"
        )

    return app


async def serve(box: Mailbox, smtp_port: int, server: uvicorn.Server) -> None:
    loop = asyncio.get_running_loop()
    handler = _SmtpHandler(box)
    smtp = await loop.create_server(
        lambda: SMTP(handler, hostname="mailcatcher.local", enable_SMTPUTF8=True, auth_require_tls=False,
                     authenticator=_accept_any_login, loop=loop),
        HOST, smtp_port,
    )
    print(f"mailcatcher: smtp://{HOST}:{smtp_port} http://{HOST}:{server.config.port}", file=sys.stderr, flush=True)
    try:
        await server.serve()
    finally:
        smtp.close()
        await smtp.wait_closed()
        box.close()


def _loop_factory():
    """uvloop when installed (uvicorn[standard] brings it): a third less CPU per SMTP exchange."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local SMTP sink with a JSON API")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--store", type=pathlib.Path, default=None, help="JSON-lines file that survives restarts")
    parser.add_argument("--max-messages", type=int, default=MAX_MESSAGES, help="How many of the newest to keep")
    args = parser.parse_args(argv)

    # aiosmtpd 1.4 trips over its own deprecation on every successful AUTH; drop that noise.
    logging.getLogger("mail.log").addFilter(lambda record: "login_data is deprecated" not in record.getMessage())
    box = Mailbox(args.store, args.max_messages)
    server = uvicorn.Server(uvicorn.Config(create_app(box), host=HOST, port=args.http_port, log_level="warning"))

    # uvicorn swaps in its own handlers while serving, then restores these and re-raises the
    # signal it caught; these handlers make that a no-op, so SIGTERM/SIGINT end with exit code 0.
    def request_stop(signum: int, frame: object) -> None:
        server.should_exit = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    # A full collection of this heap took up to 530 ms under load, with every SMTP exchange
    # waiting: a pause a real mail server would not add to the platform's measured latency.
    settle_after_start()
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(serve(box, args.smtp_port, server))
    except OSError as exc:  # typically the SMTP port is taken; uvicorn reports its own bind errors
        print(f"mailcatcher: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
