"""Sending e-mail: the `Mailer` interface, over SMTP (aiosmtplib) and in memory."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
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
    def __init__(self, host: str, port: int, sender: str, *, username: str | None = None,
                 password: str | None = None, starttls: bool = False, timeout: float = 10) -> None:
        self._host, self._port, self._sender = host, port, sender
        self._username, self._password = username, password
        self._starttls, self._timeout = starttls, timeout

    async def send(self, email: Email) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Message-ID"] = email.message_id
        for name, value in email.headers.items():
            message[name] = value
        message.set_content(email.body, charset="utf-8")
        await aiosmtplib.send(
            message, hostname=self._host, port=self._port, username=self._username,
            password=self._password, start_tls=self._starttls, timeout=self._timeout,
        )


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
