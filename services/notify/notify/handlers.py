"""notify's handlers: remember how to reach people and how they want to hear, and owe them a
message when something happens. Sending is `notify.dispatch`'s job, outside any transaction.

Who hears what (each message kind is in `notify.domain.catalog`):
- the citizen, on every change they care about: received (unless a channel answer already gave
  them the tracking number; said with the assignment when that follows within seconds),
  disposed, followed up, more information asked, resolved, auto-close coming, closed and, a
  while later, the rating request (cancelled if they rate first), merged, archived, not the
  city's. The reporters of duplicates merged into a complaint hear its news too. A front end
  that registered a webhook hears of the complaints it submitted;
- OPD staff: a complaint disposed to their OPD, and a deadline of theirs drawing near;
- operators: breaches and escalations (one message each, or a daily digest if they chose
  one); escalation levels also reach the OPD's staff or head, or the Inspektorat.
A message about a complaint is one delivery per (fact, recipient), ids derived from the fact
and the recipient, so a replay owes nothing new.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from opentelemetry import propagate

from backbone.pii import PiiCipher
from backbone.reads import Read
from contracts.events import (
    ChannelMessageHandledV1, CitizenContactProvidedV2, ComplaintArchivedV1, ComplaintClosedV1,
    ComplaintDisposedV1, ComplaintFollowedUpV1, ComplaintMarkedNotOursV1, ComplaintMergedV1,
    ComplaintPostponedV1, ComplaintRatedV1, ComplaintResolvedV1, ComplaintSubmittedV1, Event,
    SendChannelMessageV1, SlaBreachedV1, SlaEscalatedV1, SlaWarningIssuedV1,
)
from notify.adapters.uow import NotifyUnitOfWork
from notify.domain.channel_texts import answer_id, render_answer, template_for
from notify.domain.delivery import Audience, Contact, Profile
from notify.domain.facts import Fact

log = logging.getLogger(__name__)

# Complaints that came in on a channel were answered there with their tracking number.
_ANSWERED_ON_CHANNEL = ("sms", "whatsapp", "social")


class Owing:
    """The handlers, with the settings they need.

    `rating_delay`: how long after a close the citizen is asked to rate (so the rating request
    does not arrive in the same minute as the close).

    `receipt_hold`: how long the citizen's receipt waits, from when notify hears of the
    complaint, for the assignment. Most complaints are routed within a second of being
    submitted; the front end showed the tracking number at once, so one message saying
    "received, with this number, and forwarded to that OPD" is kinder than two in the same
    minute, and halves what is sent. If the assignment comes while the receipt still waits
    (not yet claimed by a dispatcher), the receipt is cancelled and the assignment says both;
    a complaint that waits for an operator (triage) or a slow router gets its receipt when the
    hold ends. Zero sends every receipt at once. Front ends' webhooks are never held: a system
    wants each fact as it happens."""

    def __init__(self, rating_delay: timedelta = timedelta(hours=1), *,
                 receipt_hold: timedelta = timedelta(0),
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.rating_delay = rating_delay
        self.receipt_hold = receipt_hold
        self._clock = clock

    def subscribe(self, consumer: Any) -> None:
        for event_type, handler in (
                (CitizenContactProvidedV2, on_contact_provided),
                (ComplaintSubmittedV1, self.on_complaint_submitted),
                (ComplaintDisposedV1, self.on_complaint_disposed),
                (ComplaintFollowedUpV1, on_complaint_followed_up),
                (ComplaintPostponedV1, on_complaint_postponed),
                (ComplaintResolvedV1, on_complaint_resolved),
                (ComplaintClosedV1, self.on_complaint_closed),
                (ComplaintRatedV1, on_complaint_rated),
                (ComplaintMergedV1, on_complaint_merged),
                (ComplaintArchivedV1, on_complaint_archived),
                (ComplaintMarkedNotOursV1, on_complaint_marked_not_ours),
                (SlaWarningIssuedV1, on_sla_warning),
                (SlaBreachedV1, on_sla_breached),
                (SlaEscalatedV1, on_sla_escalated)):
            consumer.on(event_type, handler)
        consumer.lock_ahead(lock_ahead)
        consumer.read_ahead(read_ahead)

    async def on_complaint_submitted(self, event: ComplaintSubmittedV1,
                                     uow: NotifyUnitOfWork) -> None:
        """Where the complaint came from, whether its reporter is anonymous, and which front
        end sent it; then the receipt with the tracking number (held a little for the
        citizen, see `receipt_hold`)."""
        profile = Profile(event.complaint_id, event.tracking_number, event.jurisdiction,
                          event.channel, event.anonymous, event.frontend, event.title)
        await uow.contacts.save_profile(profile, event.occurred_at)
        fact = _fact(event, "complaint_received", title=event.title)
        await _owe_webhooks(uow, fact, profile)
        if event.channel not in _ANSWERED_ON_CHANNEL:
            if self.receipt_hold:
                fact = replace(fact, not_before=self._clock() + self.receipt_hold)
            await owe_citizen(uow, fact, webhooks=False, profile=profile)

    async def on_complaint_disposed(self, event: ComplaintDisposedV1,
                                    uow: NotifyUnitOfWork) -> None:
        """With an OPD now: routing's assignment, an operator's disposal, or a reassignment. The
        OPD's staff hear of it too. A receipt still held is said here instead."""
        profile = await uow.contacts.profile(event.complaint_id)
        fact = _fact(event, "complaint_assigned", opd_name=event.opd_name)
        told = fact
        if self.receipt_hold and await uow.deliveries.cancel(
                event.complaint_id, "complaint_received", "said with the assignment",
                audience="citizen"):
            told = fact.with_context(received=True, title=profile.title if profile else None)
        await owe_citizen(uow, told, webhooks=False)
        await _owe_webhooks(uow, fact, profile)
        await uow.contacts.assigned(event.complaint_id, event.opd_id, event.opd_name)
        await owe_staff(uow, _fact(event, "opd_complaint_assigned", opd_name=event.opd_name,
                                   title=profile.title if profile else "", category=event.category,
                                   due_at=None),
                        event.jurisdiction, "opd_staff", event.opd_id)

    async def on_complaint_closed(self, event: ComplaintClosedV1, uow: NotifyUnitOfWork) -> None:
        """Closed (by the citizen, or automatically after no reply); the rating request
        follows a while later, as a fact of its own."""
        await owe_citizen(uow, _fact(event, "complaint_closed", auto=event.action == "auto_close"))
        await owe_citizen(uow, _fact(event, "rating_requested", second=True,
                                     not_before=event.occurred_at + self.rating_delay),
                          webhooks=False)


# What a later fact makes unnecessary: a held receipt (said with the assignment instead), a
# rating request (the citizen rated first).
CANCELLABLE = ("complaint_received", "rating_requested")


async def lock_ahead(complaint_ids: list[uuid.UUID], uow: NotifyUnitOfWork) -> None:
    """Before a consumer batch reads who follows its complaints: a merge into one of them
    waits for this batch, or this batch for it (`notify.adapters.merges`)."""
    await uow.merges.share(complaint_ids)


def read_ahead(complaint_ids: list[uuid.UUID], uow: NotifyUnitOfWork) -> list[Read]:
    """Before a consumer batch: what its handlers will ask of its complaints (profiles, OPDs,
    whether anything was merged into them, what they may cancel), read with the batch's inbox
    claim in one statement rather than some queries per event."""
    return [*uow.contacts.reads_ahead(complaint_ids), *uow.merges.reads_ahead(complaint_ids),
            *uow.deliveries.cancellable_ahead(complaint_ids, CANCELLABLE)]


# ---- what notify remembers


async def on_contact_provided(event: CitizenContactProvidedV2, uow: NotifyUnitOfWork) -> None:
    """Kept as it came: sealed (intake sealed it with the shared key), opened only to send."""
    await uow.contacts.save_contact(event.complaint_id, Contact(
        event.sealed_contact.encode(), event.language, event.tracking_number,
        event.has_email, event.has_phone), event.access_token_hash)


# ---- citizens (and their front ends)


async def on_complaint_followed_up(event: ComplaintFollowedUpV1, uow: NotifyUnitOfWork) -> None:
    """The OPD's answer, which the citizen may reply to or confirm."""
    await owe_citizen(uow, _fact(event, "complaint_followed_up", note=event.note, opd_name=None))


async def on_complaint_resolved(event: ComplaintResolvedV1, uow: NotifyUnitOfWork) -> None:
    """Resolved, with evidence; the citizen confirms (closes) or replies."""
    await owe_citizen(uow, _fact(event, "complaint_resolved", evidence=event.evidence,
                                 note=event.note, opd_name=None))


async def on_complaint_postponed(event: ComplaintPostponedV1, uow: NotifyUnitOfWork) -> None:
    """The operator's question; the complaint waits for the citizen's answer."""
    await owe_citizen(uow, _fact(event, "complaint_postponed", note=event.note))


async def on_complaint_rated(event: ComplaintRatedV1, uow: NotifyUnitOfWork) -> None:
    """Rated already: a rating request still waiting would only annoy."""
    await uow.deliveries.cancel(event.complaint_id, "rating_requested", "rated already")


async def on_complaint_archived(event: ComplaintArchivedV1, uow: NotifyUnitOfWork) -> None:
    await owe_citizen(uow, _fact(event, "complaint_archived", reason=event.reason, note=event.note))


async def on_complaint_marked_not_ours(event: ComplaintMarkedNotOursV1,
                                       uow: NotifyUnitOfWork) -> None:
    await owe_citizen(uow, _fact(event, "complaint_not_ours", responsible=event.responsible))


async def on_complaint_merged(event: ComplaintMergedV1, uow: NotifyUnitOfWork) -> None:
    """The duplicate's reporter is told where their report went, and from now on follows the
    complaint it was merged into. Whoever followed the duplicate now follows the target too,
    and the catch-up reads the target's news: both wait here for batches still writing news
    of either."""
    await uow.merges.hold(event.complaint_id, event.into_complaint_id)
    await uow.merges.link(event.complaint_id, event.into_complaint_id, event.occurred_at)
    await owe_citizen(uow, _fact(event, "complaint_merged",
                                 into_tracking_number=event.into_tracking_number))
    await _catch_up(uow, event)


# ---- deadlines: citizens, OPD staff, operators


async def on_sla_warning(event: SlaWarningIssuedV1, uow: NotifyUnitOfWork) -> None:
    """An auto-close drawing near tells the citizen; an OPD's own deadline tells its staff."""
    if event.clock == "auto_close":
        await owe_citizen(uow, _fact(event, "auto_close_coming", due_at=event.due_at.isoformat()))
    elif event.clock in ("first_response", "resolution") and event.opd_id:
        jurisdiction = await _jurisdiction(uow, event)
        if jurisdiction:
            opd_name = await uow.contacts.opd_name(event.complaint_id, event.opd_id)
            await owe_staff(uow, _fact(event, "opd_deadline_warning", opd_name=opd_name,
                                       clock=event.clock, due_at=event.due_at.isoformat(),
                                       hours_left=round(event.working_seconds_left / 3600)),
                            jurisdiction, "opd_staff", event.opd_id)


async def on_sla_breached(event: SlaBreachedV1, uow: NotifyUnitOfWork) -> None:
    jurisdiction = await _jurisdiction(uow, event)
    if jurisdiction:
        await owe_staff(uow, _fact(event, "operator_sla_breached", opd_id=event.opd_id,
                                   opd_name=await _opd_name(uow, event), clock=event.clock,
                                   due_at=event.due_at.isoformat()),
                        jurisdiction, "operator", None)


# Who an escalation level reaches besides the operators.
_LEVEL_ROLE = {"opd_admin": "opd_staff", "opd_head": "opd_head", "inspektorat": "inspektorat"}


async def on_sla_escalated(event: SlaEscalatedV1, uow: NotifyUnitOfWork) -> None:
    jurisdiction = await _jurisdiction(uow, event)
    if not jurisdiction:
        return
    fact = _fact(event, "operator_sla_escalated", opd_id=event.opd_id,
                 opd_name=await _opd_name(uow, event),
                 clock=event.clock, due_at=event.due_at.isoformat(), level=event.level,
                 step=event.step)
    await owe_staff(uow, fact, jurisdiction, "operator", None)
    role = _LEVEL_ROLE.get(event.level)
    if role is not None:
        await owe_staff(uow, fact, jurisdiction, role, None if role == "inspektorat" else event.opd_id)


# ---- owing


def _fact(event: Event, template: str, *, second: bool = False, not_before=None,
          **context: Any) -> Fact:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return Fact.of(event, template, context, carrier.get("traceparent"), second=second,
                   not_before=not_before)


async def owe_citizen(uow: NotifyUnitOfWork, fact: Fact, *, webhooks: bool = True,
                      profile: Profile | None = None) -> None:
    """`profile`: the complaint's, when the caller has it already (saves a read)."""
    for recipient in await _recipients(uow, fact.complaint_id, fact):
        await uow.deliveries.add(fact.delivery_to(recipient))
    if webhooks:
        await _owe_webhooks(uow, fact, profile)


async def _owe_webhooks(uow: NotifyUnitOfWork, fact: Fact, profile: Profile | None = None) -> None:
    """The front end that submitted the complaint, on each endpoint it registered."""
    profile = profile or await uow.contacts.profile(fact.complaint_id)
    if profile is None or not profile.frontend:
        return
    for endpoint in await uow.directory.webhooks_for(profile.frontend):
        await uow.deliveries.add(fact.delivery_to(endpoint.id, "frontend"))


async def owe_staff(uow: NotifyUnitOfWork, fact: Fact, jurisdiction: str, role: str,
                    opd_id: str | None) -> None:
    """Every active address of that role (and OPD); operators who chose a digest get it held."""
    audience: Audience = "operator" if role in ("operator", "inspektorat") else "opd"
    for address in await uow.directory.staff_for(jurisdiction, role, opd_id):
        await uow.deliveries.add(fact.delivery_to(address.id, audience,
                                                  held=address.digest and role == "operator"))


async def _opd_name(uow: NotifyUnitOfWork, event: Any) -> str | None:
    return await uow.contacts.opd_name(event.complaint_id, event.opd_id) if event.opd_id else None


async def _jurisdiction(uow: NotifyUnitOfWork, event: Any) -> str | None:
    if getattr(event, "jurisdiction", None):
        return event.jurisdiction
    profile = await uow.contacts.profile(event.complaint_id)
    return profile.jurisdiction if profile else None


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
        await uow.merges.hold(subject)


# ---- channels: answers to citizens who wrote by SMS, WhatsApp or social media


def channel_answers(cipher: PiiCipher):
    """The handler for intake's `ChannelMessageHandledV1`, with the key that opens the sender.

    The answer is a command on the outbound channel topic, recorded in the outbox in the same
    transaction as the inbox claim: a redelivered fact answers nothing twice, and the adapter
    outside the platform does the sending (and dedupes on the answer's stable message id)."""
    async def on_channel_message_handled(event: ChannelMessageHandledV1,
                                         uow: NotifyUnitOfWork) -> None:  # noqa: D401
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
