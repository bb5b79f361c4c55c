"""notify's handlers: remember how to reach the citizen, owe them a message when something
happens, and send what is owed.

A message about a complaint is owed to its own citizen and to the reporter of every duplicate
merged into it by then (one delivery each, ids derived from the fact and the recipient, so a
replay owes nothing new). A recipient is written to once their contact is known.

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
from typing import Any

from opentelemetry import propagate, trace
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from backbone import metrics
from backbone.errors import is_transient
from backbone.pii import PiiCipher
from contracts.events import (
    ChannelMessageHandledV1, SendChannelMessageV1,
    CitizenContactProvidedV2, ComplaintDisposedV1, ComplaintFollowedUpV1, ComplaintMergedV1,
    ComplaintPostponedV1, ComplaintResolvedV1, ComplaintTransitionV1, NotificationSentV1,
)
from notify.adapters.deliveries import NotifyUnitOfWork
from notify.adapters.mailer import Email, Mailer
from notify.domain.channel_texts import answer_id, render_answer, template_for
from notify.domain.delivery import Delivery, DueDelivery
from notify.domain.facts import Fact
from notify.domain.messages import render, retry_delay

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
Clock = Callable[[], datetime]
UowFactory = Callable[[], NotifyUnitOfWork]


async def on_contact_provided(event: CitizenContactProvidedV2, uow: NotifyUnitOfWork) -> None:
    """Kept as it came: sealed (intake sealed it with the shared key), opened only to send."""
    await uow.deliveries.save_contact(event.complaint_id, event.tracking_number,
                                      event.sealed_contact.encode(), event.has_email,
                                      event.language)


async def on_complaint_disposed(event: ComplaintDisposedV1, uow: NotifyUnitOfWork) -> None:
    """With an OPD now: routing's assignment, an operator's disposal, or a reassignment."""
    await _owe(uow, _fact(event, "complaint_assigned", opd_name=event.opd_name))


async def on_complaint_followed_up(event: ComplaintFollowedUpV1, uow: NotifyUnitOfWork) -> None:
    """The OPD's answer, which the citizen may reply to or confirm."""
    await _owe(uow, _fact(event, "complaint_followed_up", note=event.note))


async def on_complaint_resolved(event: ComplaintResolvedV1, uow: NotifyUnitOfWork) -> None:
    """Resolved, with evidence; the citizen confirms (closes) or replies."""
    await _owe(uow, _fact(event, "complaint_resolved", evidence=event.evidence, note=event.note))


async def on_complaint_postponed(event: ComplaintPostponedV1, uow: NotifyUnitOfWork) -> None:
    """The operator's question; the complaint waits for the citizen's answer."""
    await _owe(uow, _fact(event, "complaint_postponed", note=event.note))


async def on_complaint_merged(event: ComplaintMergedV1, uow: NotifyUnitOfWork) -> None:
    """The duplicate's reporter is told where their report went, and from now on follows the
    complaint it was merged into."""
    await uow.merges.link(event.complaint_id, event.into_complaint_id, event.occurred_at)
    await _owe(uow, _fact(event, "complaint_merged",
                          into_tracking_number=event.into_tracking_number))
    await _catch_up(uow, event)


def _fact(event: ComplaintTransitionV1, template: str, **context: Any) -> Fact:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return Fact.of(event, template, {"tracking_number": event.tracking_number, **context},
                   carrier.get("traceparent"))


async def _owe(uow: NotifyUnitOfWork, fact: Fact) -> None:
    for recipient in await _recipients(uow, fact.complaint_id, fact):
        await uow.deliveries.add(fact.delivery_to(recipient))


async def _recipients(uow: NotifyUnitOfWork, complaint_id: uuid.UUID, fact: Fact) -> list[uuid.UUID]:
    """`complaint_id`'s own citizen and the reporters of the duplicates merged into it before
    `fact` happened."""
    return [complaint_id, *await uow.merges.followers(complaint_id, fact.occurred_at)]


async def _catch_up(uow: NotifyUnitOfWork, merged: ComplaintMergedV1) -> None:
    """Events of different complaints travel on different partitions, so news of the target
    that happened after the merge may have been read before it. Whatever the target (and what
    it was merged into since) owed its own citizen from the merge on is owed to the duplicate's
    reporters too; what they were already owed is not added again."""
    subject, since, seen = merged.into_complaint_id, merged.occurred_at, {merged.complaint_id}
    while subject not in seen:
        seen.add(subject)
        for fact in await uow.deliveries.facts_about(subject, since):
            for recipient in await _recipients(uow, merged.complaint_id, fact):
                await uow.deliveries.add(fact.delivery_to(recipient))
        target = await uow.merges.target_of(subject)
        if target is None:
            return
        subject, since = target[0], max(since, target[1])


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
    follower_of = item.recipient_tracking_number if delivery.to_follower else None
    message = render(delivery.template, item.language,
                     {**delivery.context, "name": contact.get("name"), "follower_of": follower_of})
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
                # Told about the complaint whose citizen was written to: for a duplicate's
                # reporter that is the duplicate, whatever the message was about.
                await uow.outbox.record(NotificationSentV1(
                    complaint_id=delivery.recipient_id, occurred_at=now,
                    tracking_number=item.recipient_tracking_number, channel="email",
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


# ---- channels: answers to citizens who wrote by SMS, WhatsApp or social media


def channel_answers(cipher: PiiCipher):
    """The handler for intake's `ChannelMessageHandledV1`, with the key that opens the sender.

    The answer is a command on the outbound channel topic, recorded in the outbox in the same
    transaction as the inbox claim: a redelivered fact answers nothing twice, and the adapter
    outside the platform does the sending (and dedupes on the answer's stable message id)."""
    async def on_channel_message_handled(event: ChannelMessageHandledV1,
                                         uow: NotifyUnitOfWork) -> None:
        sender = cipher.open(event.sealed_sender.encode())
        text = render_answer(event.outcome, event.language, {
            "tracking_number": event.tracking_number, "reason": event.reason})
        await uow.outbox.record(SendChannelMessageV1(
            complaint_id=event.complaint_id, occurred_at=event.occurred_at,
            message_id=answer_id(event.adapter, event.in_reply_to), adapter=event.adapter,
            channel=event.channel, recipient=sender["address"], recipient_ref=event.sender_ref,
            text=text, in_reply_to=event.in_reply_to, tracking_number=event.tracking_number,
            template=template_for(event.outcome), language=event.language,
        ))
        log.info("channel answer owed", extra={"channel": event.channel,
                                                "outcome": event.outcome,
                                                "tracking_number": event.tracking_number})

    return on_channel_message_handled
