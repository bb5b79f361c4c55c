"""notify's handlers: remember how to reach the citizen, owe them a message when something
happens, and send what is owed.

Sending is a side effect outside the platform, so it never runs inside a database transaction:
`dispatch_due` claims due deliveries with a lease in one short transaction, then composes and
sends each outside any transaction, and settles each in a transaction of its own. A delivery
that cannot be composed (a template or contact that fails) is given up alone, with its reason;
it never rolls back, and so never re-sends, another.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from opentelemetry import propagate, trace
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from backbone import metrics
from backbone.errors import is_transient
from backbone.pii import PiiCipher
from contracts.events import CitizenContactProvidedV2, ComplaintAssignedV1, NotificationSentV1
from notify.adapters.deliveries import NotifyUnitOfWork
from notify.adapters.mailer import Email, Mailer
from notify.domain.delivery import Delivery, DueDelivery
from notify.domain.messages import render, retry_delay

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
_FACTS = uuid.UUID("6f0a4c7e-2b1d-4c57-9a5e-3d8f1b2c4e6a")
Clock = Callable[[], datetime]
UowFactory = Callable[[], NotifyUnitOfWork]


async def on_contact_provided(event: CitizenContactProvidedV2, uow: NotifyUnitOfWork) -> None:
    """Kept as it came: sealed (intake sealed it with the shared key), opened only to send."""
    await uow.deliveries.save_contact(event.complaint_id, event.tracking_number,
                                      event.sealed_contact.encode(), event.has_email,
                                      event.language)


async def on_complaint_assigned(event: ComplaintAssignedV1, uow: NotifyUnitOfWork) -> None:
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


async def dispatch_due(uow_factory: UowFactory, mailer: Mailer, cipher: PiiCipher, clock: Clock,
                       *, max_attempts: int, limit: int, lease: timedelta = timedelta(seconds=60),
                       concurrency: int = 1) -> int:
    """Claim what is due, send it, settle each; returns how many deliveries were claimed."""
    async with uow_factory() as uow:
        due = await uow.deliveries.claim_due(clock(), limit, lease)
    if not due:
        return 0
    gate = asyncio.Semaphore(concurrency)

    async def one(item: DueDelivery) -> None:
        async with gate:
            await _deliver(item, uow_factory, mailer, cipher, clock, max_attempts)

    await asyncio.gather(*(one(item) for item in due))
    return len(due)


def _compose(item: DueDelivery, cipher: PiiCipher) -> Email | None:
    """The e-mail for a delivery, or None when the citizen gave no address."""
    delivery = item.delivery
    contact = cipher.open(item.sealed_contact)
    if not contact.get("email"):
        return None
    message = render(delivery.template, item.language, {**delivery.context, "name": contact.get("name")})
    return Email(
        to=contact["email"], subject=message.subject, body=message.body,
        message_id=delivery.message_id,
        headers={"X-Lapor-Tracking-Number": delivery.context["tracking_number"],
                 "X-Lapor-Delivery-Id": str(delivery.id)},
    )


async def _deliver(item: DueDelivery, uow_factory: UowFactory, mailer: Mailer, cipher: PiiCipher,
                   clock: Clock, max_attempts: int) -> None:
    delivery = item.delivery
    parent = propagate.extract({"traceparent": delivery.traceparent} if delivery.traceparent else {})
    with tracer.start_as_current_span("notify deliver", context=parent, attributes={
            "notify.channel": delivery.channel, "notify.template": delivery.template}):
        try:
            email = _compose(item, cipher)
        except Exception as exc:  # a broken template or contact: this one only, never again
            reason = f"cannot compose: {type(exc).__name__}"
            await _settle(uow_factory, lambda uow: uow.deliveries.give_up(delivery.id, "failed", reason))
            _count(delivery, "failed")
            log.error("delivery cannot be composed", extra={"delivery_id": str(delivery.id),
                                                             "error": reason})
            return
        if email is None:
            await _settle(uow_factory, lambda uow: uow.deliveries.give_up(
                delivery.id, "skipped", "the citizen gave no e-mail address"))
            _count(delivery, "skipped")
            return
        try:
            await mailer.send(email)
        except Exception as exc:  # refused or unreachable: try again later, up to the limit
            attempts = delivery.attempts + 1
            error = f"{type(exc).__name__}: {exc}"[:500]
            if attempts >= max_attempts:
                await _settle(uow_factory, lambda uow: uow.deliveries.give_up(delivery.id, "failed", error))
            else:
                await _settle(uow_factory, lambda uow: uow.deliveries.reschedule(
                    delivery.id, clock() + retry_delay(attempts), error))
            _count(delivery, "failed" if attempts >= max_attempts else "retry")
            log.warning("delivery failed", extra={"delivery_id": str(delivery.id), "attempts": attempts,
                                                  "given_up": attempts >= max_attempts,
                                                  "error": type(exc).__name__})
            return
        now = clock()

        async def sent(uow: NotifyUnitOfWork) -> None:
            if await uow.deliveries.mark_sent(delivery.id, now):
                await uow.outbox.record(NotificationSentV1(
                    complaint_id=delivery.complaint_id, occurred_at=now,
                    tracking_number=delivery.context["tracking_number"], channel="email",
                    template=delivery.template, language="en" if item.language == "en" else "id",
                    about_event_id=delivery.about_event_id,
                ))

        await _settle(uow_factory, sent)
        _count(delivery, "sent")
        log.info("citizen notified", extra={"delivery_id": str(delivery.id), "channel": "email"})


async def _settle(uow_factory: UowFactory, change, patience: float = 20.0) -> None:
    """Record the outcome in a transaction of its own, retrying a database that is away for a
    while; if it stays away the lease runs out and this one delivery is tried again."""
    async for attempt in AsyncRetrying(stop=stop_after_delay(patience), reraise=True,
                                       wait=wait_exponential(multiplier=0.1, max=2),
                                       retry=retry_if_exception(is_transient)):
        with attempt:
            async with uow_factory() as uow:
                await change(uow)


def _count(delivery: Delivery, outcome: str) -> None:
    metrics.DELIVERIES.labels("notify", delivery.channel, outcome).inc()
