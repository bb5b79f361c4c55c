"""What happened that someone must hear of, and the deliveries it owes.

Ids are derived, never drawn: a fact's from the event it comes from (and the kind of message,
as one event may owe two: a close owes "closed" and, later, a rating request), a delivery's
from its fact and recipient. So a replayed event, or a merge read after the news it should have
fanned out, owes nothing that is already owed, and a delivery keeps one Message-ID however
often and on whichever channel it is attempted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from contracts.events import Event
from notify.domain.delivery import Audience, Delivery

_FACTS = uuid.UUID("6f0a4c7e-2b1d-4c57-9a5e-3d8f1b2c4e6a")


def fact_id(event: Event, kind: str | None = None) -> uuid.UUID:
    """One id per fact: the same event read twice (or replayed with a new envelope) gives it.
    The message kind is part of it only for the second message one event owes."""
    base = f"{event.complaint_id}:{event.event_type}:{event.occurred_at.isoformat()}"
    return uuid.uuid5(_FACTS, base if kind is None else f"{base}:{kind}")


@dataclass(frozen=True)
class Fact:
    id: uuid.UUID
    complaint_id: uuid.UUID
    occurred_at: datetime
    template: str                    # the message kind
    context: dict[str, Any]
    traceparent: str | None = None
    jurisdiction: str | None = None
    tracking_number: str | None = None
    not_before: datetime | None = None

    @classmethod
    def of(cls, event: Event, template: str, context: dict[str, Any],
           traceparent: str | None = None, *, second: bool = False,
           not_before: datetime | None = None) -> "Fact":
        return cls(fact_id(event, template if second else None), event.complaint_id,
                   event.occurred_at, template, context, traceparent,
                   getattr(event, "jurisdiction", None), getattr(event, "tracking_number", None),
                   not_before)

    def delivery_to(self, recipient: uuid.UUID, audience: Audience = "citizen", *,
                    held: bool = False) -> Delivery:
        return Delivery(
            id=uuid.uuid5(self.id, f"{audience}:{recipient}"), complaint_id=self.complaint_id,
            recipient_id=recipient, about_event_id=self.id, fact_at=self.occurred_at,
            channel="pending", template=self.template, context=self.context,
            traceparent=self.traceparent, audience=audience, jurisdiction=self.jurisdiction,
            tracking_number=self.tracking_number, status="held" if held else "pending",
            next_attempt_at=self.not_before,
        )

    def with_context(self, **more: Any) -> "Fact":
        return replace(self, context={**self.context, **more})
