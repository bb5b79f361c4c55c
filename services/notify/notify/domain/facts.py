"""What happened to a complaint that citizens must hear of, and the deliveries it owes.

Ids are derived, never drawn: a fact's from the event it comes from, a delivery's from its fact,
recipient and channel. So a replayed event, or a merge read after the news it should have
fanned out, owes nothing that is already owed, and a delivery keeps one Message-ID however
often it is attempted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.events import Event
from notify.domain.delivery import Delivery

_FACTS = uuid.UUID("6f0a4c7e-2b1d-4c57-9a5e-3d8f1b2c4e6a")


def fact_id(event: Event) -> uuid.UUID:
    """One id per fact: the same event read twice (or replayed with a new envelope) gives it."""
    return uuid.uuid5(_FACTS, f"{event.complaint_id}:{event.event_type}:{event.occurred_at.isoformat()}")


@dataclass(frozen=True)
class Fact:
    id: uuid.UUID
    complaint_id: uuid.UUID
    occurred_at: datetime
    template: str
    context: dict[str, Any]
    traceparent: str | None = None

    @classmethod
    def of(cls, event: Event, template: str, context: dict[str, Any],
           traceparent: str | None = None) -> "Fact":
        return cls(fact_id(event), event.complaint_id, event.occurred_at, template, context,
                   traceparent)

    def delivery_to(self, recipient: uuid.UUID, channel: str = "email") -> Delivery:
        return Delivery(
            id=uuid.uuid5(self.id, f"{recipient}:{channel}"), complaint_id=self.complaint_id,
            recipient_id=recipient, about_event_id=self.id, fact_at=self.occurred_at,
            channel=channel, template=self.template, context=self.context,
            traceparent=self.traceparent,
        )
