"""A message owed to a citizen, and what the dispatcher needs to send it.

One delivery per (fact, recipient, channel): a fact told twice never owes a second message. The
recipient is a complaint whose citizen is written to: the complaint the fact is about, or a
duplicate merged into it (its reporter follows that complaint from then on). A delivery is
`pending` until it is `sent`, `skipped` (no address to write to) or `failed` (given up, or it can
never be composed); `attempts` and `next_attempt_at` carry the retry schedule and, while a
dispatcher holds it, the lease.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Delivery:
    id: uuid.UUID
    complaint_id: uuid.UUID          # what the message is about
    recipient_id: uuid.UUID          # whose citizen receives it: complaint_id, or a follower
    about_event_id: uuid.UUID        # the fact (see notify.domain.facts)
    fact_at: datetime
    channel: str
    template: str
    context: dict[str, Any]
    traceparent: str | None = None
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None

    @property
    def message_id(self) -> str:
        """The same for every attempt, so a receiving system can drop a repeat."""
        return f"<{self.id}@lapor.notify>"

    @property
    def to_follower(self) -> bool:
        """Written to the reporter of a duplicate merged into the complaint, not its own."""
        return self.recipient_id != self.complaint_id


@dataclass(frozen=True)
class DueDelivery:
    """A claimed delivery with its recipient's sealed contact, language and tracking number."""

    delivery: Delivery
    sealed_contact: bytes
    language: str
    recipient_tracking_number: str
