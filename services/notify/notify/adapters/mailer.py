"""Sending e-mail: the `Mailer` interface, over SMTP (aiosmtplib) and in memory."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from email.header import Header
from email.mime.text import MIMEText
from typing import Protocol

import aiosmtplib


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str
    message_id: str
    headers: dict[str, str]


class Mailer(Protocol):
    async def send(self, email: Email) -> None:
        """Hand the message to the mail server; raise if it was not accepted."""


class SmtpMailer:
    """Sends over a few long-lived SMTP connections instead of one connection per message
    (connect, EHLO and QUIT cost more than the message). A connection the server dropped while
    idle is replaced and the message tried once more on the new one."""

    def __init__(self, host: str, port: int, sender: str, *, username: str | None = None,
                 password: str | None = None, starttls: bool = False, timeout: float = 10,
                 connections: int = 4) -> None:
        self._host, self._port, self._sender = host, port, sender
        self._username, self._password = username, password
        self._starttls, self._timeout = starttls, timeout
        self._idle: asyncio.LifoQueue[aiosmtplib.SMTP] = asyncio.LifoQueue()
        self._gate = asyncio.Semaphore(connections)

    def _message(self, email: Email) -> MIMEText:
        """A plain UTF-8 text message. Built with the compat32 classes: the modern policy parses
        every header it is given back into objects, which cost more than sending the message."""
        message = MIMEText(email.body, "plain", "utf-8")
        message["From"] = self._sender
        message["To"] = email.to
        message["Subject"] = (email.subject if email.subject.isascii() else
                              Header(email.subject, "utf-8", header_name="Subject").encode())
        message["Message-ID"] = email.message_id
        for name, value in email.headers.items():
            message[name] = value
        return message

    async def _connect(self) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(hostname=self._host, port=self._port, timeout=self._timeout,
                                 start_tls=self._starttls)
        await client.connect()
        if self._username:
            await client.login(self._username, self._password or "")
        return client

    async def send(self, email: Email) -> None:
        message = self._message(email)
        async with self._gate:
            client = self._idle.get_nowait() if not self._idle.empty() else None
            fresh = client is None
            try:
                if client is None:
                    client = await self._connect()
                try:
                    await client.send_message(message)
                except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                    if fresh:
                        raise
                    with contextlib.suppress(Exception):
                        client.close()
                    client = await self._connect()
                    await client.send_message(message)
            except BaseException:
                if client is not None:
                    with contextlib.suppress(Exception):
                        client.close()
                raise
            self._idle.put_nowait(client)

    async def close(self) -> None:
        while not self._idle.empty():
            client = self._idle.get_nowait()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.quit(), 2)


class InMemoryMailer:
    """Twin of SmtpMailer; `fail_times` makes the next sends raise, as a down server would."""

    def __init__(self) -> None:
        self.sent: list[Email] = []
        self.fail_times = 0

    async def send(self, email: Email) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("SMTP server unavailable")
        self.sent.append(email)
