"""Local mail catcher: an SMTP sink plus a JSON API to read back what was "sent".

Why: the notify service sends real e-mail (Indonesian text, so UTF-8 with
quoted-printable/base64 bodies and RFC 2047 subjects). In local runs and
end-to-end tests we need an SMTP server that accepts anything, delivers nothing,
and lets tests assert on the decoded result over HTTP. There is no Docker here
for MailHog/Mailpit, so this is a small stand-in built on aiosmtpd + FastAPI,
both already in the venv, running on one asyncio loop.

SMTP on 127.0.0.1:1025 (SMTPUTF8 and 8BITMIME; AUTH is offered without TLS and
any credentials are accepted). HTTP on 127.0.0.1:8025:
  GET    /api/messages       all messages, oldest first
  GET    /api/messages/{id}  one message (404 if unknown)
  DELETE /api/messages       forget everything (also truncates the store file)
  GET    /healthz            {"status": "ok"}
  GET    /                   small HTML list for humans
A message is {id, received_at, mail_from, rcpt_tos, subject, headers, text, html}:
headers maps each header name to its decoded value (repeated headers joined by
newlines), text is the decoded text/plain body ("" if none), html the decoded
text/html body or null. With --store, messages are also appended as JSON lines
to that file and reloaded on start.

Run: python deploy/local/devstack/mailcatcher.py [--smtp-port 1025] [--http-port 8025] [--store var/mail/messages.jsonl]
SIGTERM/SIGINT stop it cleanly with exit code 0.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import email
import email.message
import email.policy
import html
import json
import logging
import pathlib
import signal
import sys
from typing import Any

import uvicorn
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session
from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse

HOST = "127.0.0.1"


def parse_message(raw: bytes) -> dict[str, Any]:
    """Decode subject, headers and text/html bodies of a raw RFC 5322 message."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
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
    """Messages in memory, optionally mirrored to a JSON-lines file."""

    def __init__(self, store: pathlib.Path | None = None) -> None:
        self.store = store
        self.messages: list[dict[str, Any]] = []
        if store is not None:
            store.parent.mkdir(parents=True, exist_ok=True)
            if store.exists():
                for line in store.read_text(encoding="utf-8").splitlines():
                    try:
                        self.messages.append(json.loads(line))
                    except json.JSONDecodeError:
                        pass  # a torn last line after a crash
        self._next_id = max((m["id"] for m in self.messages), default=0) + 1

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
        if self.store is not None:
            with self.store.open("a", encoding="utf-8") as f:
                f.write(json.dumps(message, ensure_ascii=False) + "\n")
        return message

    def get(self, message_id: int) -> dict[str, Any] | None:
        return next((m for m in self.messages if m["id"] == message_id), None)

    def clear(self) -> None:
        self.messages.clear()
        if self.store is not None:
            self.store.write_text("", encoding="utf-8")


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

    @app.get("/api/messages")
    async def list_messages() -> list[dict[str, Any]]:
        return box.messages

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
            for m in reversed(box.messages)
        )
        return (
            "<!doctype html><meta charset='utf-8'><title>mailcatcher</title>"
            f"<h1>Caught mail ({len(box.messages)})</h1>"
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local SMTP sink with a JSON API")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--store", type=pathlib.Path, default=None, help="JSON-lines file that survives restarts")
    args = parser.parse_args(argv)

    # aiosmtpd 1.4 trips over its own deprecation on every successful AUTH; drop that noise.
    logging.getLogger("mail.log").addFilter(lambda record: "login_data is deprecated" not in record.getMessage())
    box = Mailbox(args.store)
    server = uvicorn.Server(uvicorn.Config(create_app(box), host=HOST, port=args.http_port, log_level="warning"))

    # uvicorn swaps in its own handlers while serving, then restores these and re-raises the
    # signal it caught; these handlers make that a no-op, so SIGTERM/SIGINT end with exit code 0.
    def request_stop(signum: int, frame: object) -> None:
        server.should_exit = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        asyncio.run(serve(box, args.smtp_port, server))
    except OSError as exc:  # typically the SMTP port is taken; uvicorn reports its own bind errors
        print(f"mailcatcher: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
