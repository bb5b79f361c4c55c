"""notify's handlers: remember how to reach the citizen, owe them a message when something
happens, and send what is owed (the dispatcher)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from opentelemetry import propagate, trace

from backbone.pii import PiiCipher
from contracts.events import CitizenContactProvidedV1, ComplaintAssignedV1, NotificationSentV1
from notify.adapters.deliveries import Delivery
from notify.adapters.mailer import Email, Mailer
from notify.domain.messages import render, retry_delay

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
_FACTS = uuid.UUID("6f0a4c7e-2b1d-4c57-9a5e-3d8f1b2c4e6a")


def make_on_contact_provided(cipher: PiiCipher):
    async def on_contact_provided(event: CitizenContactProvidedV1, uow) -> None:
        sealed = cipher.seal({"name": event.name, "email": event.email, "phone": event.phone})
        await uow.deliveries.save_contact(event.complaint_id, event.tracking_number, sealed,
                                          bool(event.email), event.language)

    return on_contact_provided


async def on_complaint_assigned(event: ComplaintAssignedV1, uow) -> None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    # One fact, one message: the id is derived from the fact, so a replay adds nothing.
    fact = uuid.uuid5(_FACTS, f"{event.complaint_id}:{event.event_type}:{event.occurred_at.isoformat()}")
    await uow.deliveries.add(Delivery(
        id=uuid.uuid4(), complaint_id=event.complaint_id, about_event_id=fact, channel="email",
        template="complaint_assigned",
        context={"tracking_number": event.tracking_number, "opd_name": event.opd_name},
        traceparent=carrier.get("traceparent"),
    ))


async def dispatch_due(uow, mailer: Mailer, cipher: PiiCipher, clock: Callable[[], datetime],
                       max_attempts: int, limit: int) -> int:
    """Send what is owed and due; returns how many deliveries were settled or rescheduled."""
    due = await uow.deliveries.claim_due(clock(), limit)
    for item in due:
        parent = propagate.extract({"traceparent": item.delivery.traceparent}
                                   if item.delivery.traceparent else {})
        with tracer.start_as_current_span("notify deliver", context=parent,
                                          attributes={"notify.channel": item.delivery.channel,
                                                      "notify.template": item.delivery.template}):
            await _deliver(uow, mailer, cipher, clock, max_attempts, item)
    return len(due)


async def _deliver(uow, mailer, cipher, clock, max_attempts, item) -> None:
    delivery, now = item.delivery, clock()
    contact = cipher.open(item.sealed_contact)
    if not contact.get("email"):
        await uow.deliveries.update(replace(delivery, status="skipped",
                                            last_error="the citizen gave no e-mail address"))
        return
    message = render(delivery.template, item.language, {**delivery.context, "name": contact.get("name")})
    tracking_number = delivery.context["tracking_number"]
    try:
        await mailer.send(Email(
            to=contact["email"], subject=message.subject, body=message.body,
            message_id=f"<{delivery.id}@lapor.notify>",
            headers={"X-Lapor-Tracking-Number": tracking_number,
                     "X-Lapor-Delivery-Id": str(delivery.id)},
        ))
    except Exception as exc:  # any refusal: try again later, up to the limit
        attempts = delivery.attempts + 1
        failed = attempts >= max_attempts
        await uow.deliveries.update(replace(
            delivery, attempts=attempts, status="failed" if failed else "pending",
            next_attempt_at=now + retry_delay(attempts), last_error=f"{type(exc).__name__}: {exc}"[:500],
        ))
        log.warning("delivery failed", extra={"delivery_id": str(delivery.id), "attempts": attempts,
                                              "given_up": failed, "error": type(exc).__name__})
        return
    await uow.deliveries.update(replace(delivery, status="sent", attempts=delivery.attempts + 1),
                                sent_at=now)
    await uow.outbox.record(NotificationSentV1(
        complaint_id=delivery.complaint_id, occurred_at=now, tracking_number=tracking_number,
        channel="email", template=delivery.template,
        language="en" if item.language == "en" else "id", about_event_id=delivery.about_event_id,
    ))
    log.info("citizen notified", extra={"delivery_id": str(delivery.id), "channel": "email"})
