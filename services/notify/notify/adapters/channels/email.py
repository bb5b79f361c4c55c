"""E-mail over SMTP (STARTTLS and AUTH configurable) as a Transport, on notify's pooled
`SmtpMailer`. SMTP's own codes classify the failure: 5xx (mailbox unknown, refused) is
permanent, 4xx (greylisting, mailbox full, try later) and a lost connection are transient."""

from __future__ import annotations

import aiosmtplib

from notify.adapters.channels import Outbound, Receipt
from notify.adapters.mailer import Email, Mailer
from notify.domain.retry import SendFailed


class EmailTransport:
    name = "smtp"

    def __init__(self, mailer: Mailer) -> None:
        self._mailer = mailer

    async def send(self, message: Outbound) -> Receipt:
        email = Email(to=message.to, subject=message.subject, body=message.text,
                      message_id=message.message_id, headers=message.headers)
        try:
            await self._mailer.send(email)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            permanent = bool(codes) and all(code >= 500 for code in codes)
            raise SendFailed("permanent" if permanent else "transient",
                             f"recipient refused ({', '.join(map(str, codes))})") from None
        except aiosmtplib.SMTPResponseException as exc:
            raise SendFailed("permanent" if exc.code >= 500 else "transient",
                             f"SMTP {exc.code}", status=exc.code) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SendFailed("transient", type(exc).__name__) from None
        return Receipt("smtp")

    async def close(self) -> None:
        close = getattr(self._mailer, "close", None)
        if close is not None:
            await close()
