"""intake's handlers: one per command or event, the only place domain meets adapters.

Each runs inside the unit of work it is given; the caller commits. Events the complaint
recorded go to the outbox in that same transaction.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from backbone.errors import PermanentError
from backbone.pii import PiiCipher
from contracts.events import (
    ComplaintAssignedV1, ComplaintSentToTriageV1, NotificationSentV1, SlaClockStartedV1,
)
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.commands import SubmitComplaint
from intake.domain.complaint import Complaint, Reporter
from intake.domain.tokens import AccessTokens, hash_key, hash_token

Clock = Callable[[], datetime]
__all__ = ["IdempotencyKeyReused", "Receipt", "hash_token", "submit_complaint"]


@dataclass(frozen=True)
class Receipt:
    """What the citizen gets back, once: the token is never stored in clear, never shown again."""

    complaint: Complaint
    access_token: str
    replayed: bool = False


class IdempotencyKeyReused(Exception):
    """The same Idempotency-Key came with a different request: a client bug, not a retry."""


@dataclass(frozen=True)
class SubmitDeps:
    """What a submission needs besides the unit of work: time, keys, defaults."""

    clock: Clock
    cipher: PiiCipher
    tokens: AccessTokens
    default_jurisdiction: str


async def submit_complaint(cmd: SubmitComplaint, uow: IntakeUnitOfWork, deps: SubmitDeps,
                           idempotency_key: str | None = None) -> Receipt:
    """File a complaint; with an idempotency key, a retry returns the first receipt instead."""
    request_hash = hashlib.sha256(cmd.fingerprint().encode()).hexdigest()
    key_hash = hash_key(idempotency_key) if idempotency_key is not None else None
    if key_hash is not None:
        await uow.complaints.lock_idempotency_key(key_hash)
        previous = await uow.complaints.find_idempotent(key_hash)
        if previous is not None:
            previous_hash, complaint_id = previous
            if previous_hash != request_hash:
                raise IdempotencyKeyReused()
            return Receipt(complaint=await uow.complaints.get(complaint_id), replayed=True,
                           access_token=deps.tokens.for_idempotent(complaint_id, key_hash))
    complaint_id = uuid.uuid4()
    token = (deps.tokens.for_idempotent(complaint_id, key_hash) if key_hash is not None
             else deps.tokens.random())
    reporter = cmd.reporter
    complaint = Complaint.submit(
        id=complaint_id, tracking_number=await uow.complaints.next_tracking_number(),
        jurisdiction=cmd.jurisdiction or deps.default_jurisdiction, channel=cmd.channel,
        title=cmd.title, description=cmd.description, category=cmd.category,
        location=cmd.location, anonymous=cmd.anonymous, confidential=cmd.confidential,
        language=cmd.language, reporter=reporter, access_token_hash=hash_token(token),
        now=deps.clock(),
        sealed_contact=deps.cipher.seal((reporter or Reporter()).contact()).decode(),
    )
    await uow.complaints.add(complaint)
    if key_hash is not None:
        await uow.complaints.remember_idempotent(key_hash, request_hash, complaint.id)
    for event in complaint.events:
        await uow.outbox.record(event)
    return Receipt(complaint=complaint, access_token=token)


async def _load(uow: IntakeUnitOfWork, complaint_id: uuid.UUID) -> Complaint:
    complaint = await uow.complaints.get(complaint_id)
    if complaint is None:
        raise PermanentError(f"no complaint {complaint_id}")
    return complaint


async def on_complaint_assigned(event: ComplaintAssignedV1, uow: IntakeUnitOfWork) -> None:
    complaint = await _load(uow, event.complaint_id)
    complaint.assign(event.opd_id, event.opd_name, event.occurred_at)
    await uow.complaints.save(complaint)


async def on_complaint_sent_to_triage(event: ComplaintSentToTriageV1, uow: IntakeUnitOfWork) -> None:
    complaint = await _load(uow, event.complaint_id)
    complaint.send_to_triage(event.reason, event.occurred_at)
    await uow.complaints.save(complaint)


async def on_sla_clock_started(event: SlaClockStartedV1, uow: IntakeUnitOfWork) -> None:
    if event.clock != "first_response":
        return
    complaint = await _load(uow, event.complaint_id)
    complaint.set_first_response_deadline(event.due_at, event.occurred_at)
    await uow.complaints.save(complaint)


async def on_notification_sent(event: NotificationSentV1, uow: IntakeUnitOfWork) -> None:
    complaint = await _load(uow, event.complaint_id)
    complaint.record_notification(event.channel, event.occurred_at)
    await uow.complaints.save(complaint)
