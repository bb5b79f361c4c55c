"""A message owed to a citizen, and what the dispatcher needs to send it.

One delivery per (fact, channel): a fact told twice never owes a second message. A delivery is
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
    complaint_id: uuid.UUID
    about_event_id: uuid.UUID
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


@dataclass(frozen=True)
class DueDelivery:
    """A claimed delivery with the citizen's sealed contact and language."""

    delivery: Delivery
    sealed_contact: bytes
    language: str
