"""Channels behind one interface: a `Transport` sends one `Outbound` message and returns a
`Receipt`, or raises `notify.domain.retry.SendFailed` with the error's class (transient,
permanent, unreachable). Which transport serves which channel is configuration
(`notify.adapters.channels.registry`): e-mail over SMTP; SMS and WhatsApp through the generic
HTTP gateway, Twilio, or the outbound channel topic for adapters outside the platform; webhooks
signed per Standard Webhooks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from contracts.events import Event


@dataclass(frozen=True)
class Outbound:
    delivery_id: uuid.UUID
    message_id: str              # the same on every attempt: Message-ID, Idempotency-Key, webhook-id
    channel: str                 # email, sms, whatsapp, webhook
    to: str                      # e-mail address, E.164 number, or URL
    text: str
    subject: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    payload: dict[str, Any] | None = None       # webhooks: the JSON body
    secret: str | None = None                   # webhooks: the endpoint's whsec_ secret
    complaint_id: uuid.UUID | None = None
    tracking_number: str | None = None
    template: str = ""
    language: str = "id"


@dataclass(frozen=True)
class Receipt:
    transport: str               # smtp, gateway, twilio, topic, http
    provider_ref: str | None = None
    handoff: Event | None = None  # the topic transport: a command recorded when the send settles


class Transport(Protocol):
    name: str

    async def send(self, message: Outbound) -> Receipt:
        """Hand the message over; raise SendFailed if it was not taken."""

    async def close(self) -> None: ...
