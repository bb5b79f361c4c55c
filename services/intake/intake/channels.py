"""intake's handler for citizens' messages from SMS, WhatsApp and social-media adapters.

One message, one transaction: the adapter's message id is claimed (a repeat stops here and
changes nothing, not even a second answer), the message becomes a new complaint or a reply or
added information on the complaint it names (through the same doors as the HTTP API, so the
history and events are the same), and the answer for the citizen is recorded in the outbox
(`ChannelMessageHandled.v1`, the sender sealed) for notify to word and send back.

The sender's address is never kept in clear: intake remembers a keyed hash of it per complaint,
which is how "is this the same sender" is answered; the phone of an SMS or WhatsApp citizen is
also their reporter contact, sealed as any other. Nothing personal is logged.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from backbone.pii import PiiCipher
from contracts.events import PHONE_CHANNELS, ChannelMessageHandledV1, ChannelMessageReceivedV1
from contracts.lifecycle import TransitionNotAllowed
from intake import handlers
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.actions import ActionRefused, TakeAction
from intake.domain.actors import Actor
from intake.domain.channel_messages import (
    FollowUp, Reference, SenderHashes, derive_title, describe, find_reference, follow_up,
    national_phone, new_complaint_refusal,
)
from intake.domain.commands import SubmitComplaint
from intake.domain.complaint import Complaint, Reporter

log = logging.getLogger(__name__)

# The complaint's channel, in the set every service knows (web, mobile, sms, whatsapp, social, ...).
_COMPLAINT_CHANNEL = {"sms": "sms", "whatsapp": "whatsapp"}


@dataclass(frozen=True)
class ChannelDeps:
    submit: handlers.SubmitDeps
    senders: SenderHashes

    @property
    def cipher(self) -> PiiCipher:
        return self.submit.cipher


@dataclass(frozen=True)
class _Handled:
    outcome: str
    tracking_number: str | None = None
    complaint_id: uuid.UUID | None = None
    reason: str | None = None
    detail: str | None = None

    @classmethod
    def refused(cls, why: FollowUp, tracking_number: str | None = None,
                complaint_id: uuid.UUID | None = None) -> "_Handled":
        return cls("refused", tracking_number, complaint_id, why.refusal, why.detail)


async def on_channel_message(event: ChannelMessageReceivedV1, uow: IntakeUnitOfWork,
                             deps: ChannelDeps) -> None:
    """A citizen's message: a new complaint, a reply, added information, or a refusal; each
    answered once."""
    store = uow.channel_messages
    if not await store.claim(event.adapter, event.message_id, event.channel, event.received_at):
        log.info("channel message already handled", extra={
            "adapter": event.adapter, "channel": event.channel})
        return
    sender_hash = deps.senders.of(event.channel, event.sender)
    reference = find_reference(event.text)
    if reference is not None:
        handled = await _follow_up(event, reference, sender_hash, uow, deps)
    else:
        handled = await _new_complaint(event, sender_hash, uow, deps)
    await store.settle(event.adapter, event.message_id, handled.outcome, handled.complaint_id)
    await uow.outbox.record(ChannelMessageHandledV1(
        complaint_id=handled.complaint_id, occurred_at=deps.submit.clock(),
        adapter=event.adapter, channel=event.channel, in_reply_to=event.message_id,
        outcome=handled.outcome, tracking_number=handled.tracking_number,
        reason=handled.reason, detail=handled.detail, language=event.language,
        sealed_sender=deps.cipher.seal({"channel": event.channel,
                                        "address": event.sender}).decode(),
        sender_ref=sender_hash,
    ))
    log.info("channel message handled", extra={
        "adapter": event.adapter, "channel": event.channel, "outcome": handled.outcome,
        "reason": handled.reason, "tracking_number": handled.tracking_number})


async def _new_complaint(event: ChannelMessageReceivedV1, sender_hash: str,
                         uow: IntakeUnitOfWork, deps: ChannelDeps) -> _Handled:
    refusal = new_complaint_refusal(event.text)
    if refusal is not None:
        return _Handled.refused(refusal)
    phone = event.sender if event.channel in PHONE_CHANNELS else None
    receipt = await handlers.submit_complaint(SubmitComplaint(
        title=derive_title(event.text),
        description=describe(event.text, [m.url for m in event.media]),
        channel=_COMPLAINT_CHANNEL.get(event.channel, "social"),  # type: ignore[arg-type]
        jurisdiction=event.jurisdiction, language=event.language,
        reporter=Reporter(phone=phone) if phone else None,
    ), uow, deps.submit)
    complaint = receipt.complaint
    await uow.channel_messages.remember_sender(complaint.id, sender_hash, event.channel,
                                               complaint.submitted_at)
    return _Handled("created", complaint.tracking_number, complaint.id)


async def _follow_up(event: ChannelMessageReceivedV1, reference: Reference, sender_hash: str,
                     uow: IntakeUnitOfWork, deps: ChannelDeps) -> _Handled:
    complaint = await uow.complaints.get_by_tracking_number(reference.tracking_number, lock=True)
    same = complaint is not None and await _same_sender(complaint, event, sender_hash, uow)
    decision = follow_up(complaint.status if complaint is not None else None, same, reference.note)
    if decision.action is None:
        # Only the sender of the complaint learns anything about it, even its id.
        return _Handled.refused(decision, reference.tracking_number,
                                complaint.id if same and complaint is not None else None)
    assert complaint is not None
    try:
        complaint.take(TakeAction(decision.action, note=reference.note), Actor.citizen(),
                       deps.submit.clock())
    except (TransitionNotAllowed, ActionRefused) as exc:
        return _Handled.refused(FollowUp(refusal="not_awaiting_reply", detail=str(exc)),
                                complaint.tracking_number, complaint.id)
    await uow.complaints.save(complaint)
    for fact in complaint.events:
        await uow.outbox.record(fact)
    complaint.events.clear()
    outcome = "info_added" if decision.action.value == "provide_info" else "replied"
    return _Handled(outcome, complaint.tracking_number, complaint.id)


async def _same_sender(complaint: Complaint, event: ChannelMessageReceivedV1, sender_hash: str,
                       uow: IntakeUnitOfWork) -> bool:
    """The address that sent the complaint by channel, or the phone given as its contact (a
    citizen who reported on the web may answer by SMS)."""
    if await uow.channel_messages.is_sender(complaint.id, sender_hash):
        return True
    phone = complaint.reporter.phone if complaint.reporter is not None else None
    return event.channel in PHONE_CHANNELS and national_phone(phone) == event.sender


def subscriber(submit: handlers.SubmitDeps, sender_secret: bytes):
    """The consumer's handler for `ChannelMessageReceivedV1`, with what it needs bound."""
    deps = ChannelDeps(submit=submit, senders=SenderHashes(sender_secret))

    async def handle(event: ChannelMessageReceivedV1, uow: IntakeUnitOfWork) -> None:
        await on_channel_message(event, uow, deps)

    return handle
