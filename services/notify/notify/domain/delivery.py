"""A message owed to one recipient, and what the dispatcher needs to send it.

One delivery per (fact, recipient): a fact told twice never owes a second message, whichever
channel the message ends up on. Recipients are of four audiences: a complaint's citizen (the
recipient id is the complaint whose citizen is written to: the one the fact is about, or a
duplicate merged into it), a front end's webhook endpoint, an OPD's or an operator's registered
address. `channels` is the fallback chain, fixed at the first attempt from the recipient's
preferences; `channel_index` is the one being tried and `channel_attempts` the attempts spent on
it. Status: `pending` until `sent`, `failed` (every channel given up), `skipped` (no channel to
use), `held` (waiting for an operator's daily digest), `digested` (folded into one) or
`cancelled` (no longer worth sending, e.g. a rating request after the citizen rated).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Audience = Literal["citizen", "frontend", "opd", "operator"]


@dataclass(frozen=True)
class Delivery:
    id: uuid.UUID
    complaint_id: uuid.UUID          # what the message is about
    recipient_id: uuid.UUID          # complaint (citizen), webhook endpoint or staff address
    about_event_id: uuid.UUID        # the fact (see notify.domain.facts)
    fact_at: datetime
    channel: str                     # the channel being tried ("pending" before the first try)
    template: str                    # the message kind (notify.domain.catalog)
    context: dict[str, Any]
    traceparent: str | None = None
    status: str = "pending"
    attempts: int = 0                # on every channel
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    audience: Audience = "citizen"
    jurisdiction: str | None = None
    tracking_number: str | None = None
    channels: tuple[str, ...] = ()
    channel_index: int = 0
    channel_attempts: int = 0

    @property
    def message_id(self) -> str:
        """The same for every attempt and channel, so a receiving system can drop a repeat."""
        return f"<{self.id}@lapor.notify>"

    @property
    def to_follower(self) -> bool:
        """Written to the reporter of a duplicate merged into the complaint, not its own."""
        return self.audience == "citizen" and self.recipient_id != self.complaint_id

    @property
    def tried(self) -> list[str]:
        return list(self.channels[:self.channel_index + 1]) if self.channels else []


@dataclass(frozen=True)
class Contact:
    """A citizen's way to be reached, still sealed; opened only to send."""

    sealed: bytes
    language: str
    tracking_number: str
    has_email: bool = False
    has_phone: bool = False
    preferences: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """What notify keeps of a complaint (no personal data): where it came from and how."""

    complaint_id: uuid.UUID
    tracking_number: str
    jurisdiction: str
    channel: str                     # web, mobile, sms, whatsapp, social, open311
    anonymous: bool = False
    frontend: str | None = None
    title: str = ""


@dataclass(frozen=True)
class StaffAddress:
    """An OPD's or operators' registered address on one channel, sealed."""

    id: uuid.UUID
    jurisdiction: str
    role: str                        # opd_staff, opd_head, operator, inspektorat
    opd_id: str | None
    channel: str
    sealed_address: bytes
    language: str = "id"
    digest: bool = False
    label: str | None = None
    active: bool = True


@dataclass(frozen=True)
class WebhookEndpoint:
    id: uuid.UUID
    frontend: str
    url: str
    sealed_secret: bytes
    active: bool = True
    description: str | None = None


@dataclass(frozen=True)
class DueDelivery:
    """A claimed delivery with what composing it needs: for a citizen their contact and the
    profile of their complaint, for staff their address, for a front end its endpoint."""

    delivery: Delivery
    contact: Contact | None = None
    profile: Profile | None = None
    staff: StaffAddress | None = None
    endpoint: WebhookEndpoint | None = None
