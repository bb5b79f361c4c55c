"""intake's handlers: one per command or event, the only place domain meets adapters.

Each runs inside the unit of work it is given; the caller commits. Events the complaint
recorded go to the outbox in that same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from backbone.consumer import PermanentError
from contracts.events import (
    ComplaintAssignedV1, ComplaintSentToTriageV1, NotificationSentV1, SlaClockStartedV1,
)
from intake.domain.commands import SubmitComplaint
from intake.domain.complaint import Complaint, Reporter

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Receipt:
    """What the citizen gets back, once: the token is never stored in clear, never shown again."""

    complaint: Complaint
    access_token: str
    replayed: bool = False


class IdempotencyKeyReused(Exception):
    """The same Idempotency-Key came with a different request: a client bug, not a retry."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def submit_complaint(cmd: SubmitComplaint, uow, clock: Clock, default_jurisdiction: str,
                           idempotency_key: str | None = None) -> Receipt:
    """File a complaint; with an idempotency key, a retry returns the first receipt instead."""
    request_hash = hashlib.sha256(cmd.model_dump_json().encode()).hexdigest()
    if idempotency_key is not None:
        await uow.complaints.lock_idempotency_key(idempotency_key)
        previous = await uow.complaints.find_idempotent(idempotency_key)
        if previous is not None:
            previous_hash, complaint_id, token = previous
            if previous_hash != request_hash:
                raise IdempotencyKeyReused(idempotency_key)
            return Receipt(complaint=await uow.complaints.get(complaint_id), access_token=token,
                           replayed=True)
    token = secrets.token_urlsafe(32)
    reporter = Reporter(**cmd.reporter.model_dump()) if cmd.reporter else None
    complaint = Complaint.submit(
        id=uuid.uuid4(), tracking_number=await uow.complaints.next_tracking_number(),
        jurisdiction=cmd.jurisdiction or default_jurisdiction, channel=cmd.channel,
        title=cmd.title, description=cmd.description, category=cmd.category,
        location=cmd.location, anonymous=cmd.anonymous, confidential=cmd.confidential,
        language=cmd.language, reporter=reporter, access_token_hash=hash_token(token),
        now=clock(),
    )
    await uow.complaints.add(complaint)
    if idempotency_key is not None:
        await uow.complaints.remember_idempotent(idempotency_key, request_hash, complaint.id, token)
    for event in complaint.events:
        await uow.outbox.record(event)
    return Receipt(complaint=complaint, access_token=token)


async def _load(uow, complaint_id: uuid.UUID) -> Complaint:
    complaint = await uow.complaints.get(complaint_id)
    if complaint is None:
        raise PermanentError(f"no complaint {complaint_id}")
    return complaint


async def on_complaint_assigned(event: ComplaintAssignedV1, uow) -> None:
    complaint = await _load(uow, event.complaint_id)
    complaint.assign(event.opd_id, event.opd_name, event.occurred_at)
    await uow.complaints.save(complaint)


async def on_complaint_sent_to_triage(event: ComplaintSentToTriageV1, uow) -> None:
    complaint = await _load(uow, event.complaint_id)
    complaint.send_to_triage(event.reason, event.occurred_at)
    await uow.complaints.save(complaint)


async def on_sla_clock_started(event: SlaClockStartedV1, uow) -> None:
    if event.clock != "first_response":
        return
    complaint = await _load(uow, event.complaint_id)
    complaint.set_first_response_deadline(event.due_at, event.occurred_at)
    await uow.complaints.save(complaint)


async def on_notification_sent(event: NotificationSentV1, uow) -> None:
    complaint = await _load(uow, event.complaint_id)
    complaint.record_notification(event.channel, event.occurred_at)
    await uow.complaints.save(complaint)
