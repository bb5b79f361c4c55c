"""intake's handlers: one per command or event, the only place domain meets adapters.

Each runs inside the unit of work it is given; the caller commits. Events the complaint
recorded go to the outbox in that same transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from backbone.errors import PermanentError
from backbone.pii import PiiCipher
from contracts.events import (
    ComplaintAssignedV1, ComplaintFoundNotOursV1, ComplaintSentToTriageV1, NotificationSentV1,
    NotificationFailedV1,
    SlaAutoCloseDueV1, SlaClockPausedV1, SlaClockResumedV1, SlaClockStartedV1,
)
from contracts.lifecycle import Action, Role, Status, TransitionNotAllowed, check_role
from intake.adapters.blobs import BlobStore
from intake.adapters.open311 import Open311Request
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.actions import ActionRefused, TakeAction
from intake.domain.actors import Actor
from intake.domain.attachments import Attachment, Limits as AttachmentLimits, clean
from intake.domain.commands import SubmitComplaint
from intake.domain.complaint import Complaint, Reporter
from intake.domain.queries import ComplaintQuery
from intake.domain.tokens import AccessTokens, hash_key, hash_token

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)


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
                           idempotency_key: str | None = None, *,
                           also_carried: str = "") -> Receipt:
    """File a complaint; with an idempotency key, a retry returns the first receipt instead.
    `also_carried`: what the request held beyond the command (an Open311 POST's attribute
    answers, media_url, ...), so a retry must match that too."""
    key_hash = hash_key(idempotency_key) if idempotency_key is not None else None
    if key_hash is not None:   # a plain submission has no fingerprint to keep or compare
        request_hash = hashlib.sha256((cmd.fingerprint() + also_carried).encode()).hexdigest()
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
        frontend=cmd.frontend,
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


async def _apply_system(uow: IntakeUnitOfWork, complaint_id: uuid.UUID, cmd: TakeAction,
                        service: str, at: datetime, complaint: Complaint | None = None) -> None:
    """Another service's decision, applied if the complaint still accepts it. A person may have
    acted first (an operator disposed it by hand while routing was deciding): then the decision
    is stale, and dropping it is right; dead-lettering or retrying it would not help.
    `complaint`: already loaded by the caller (who checked more than the lifecycle does)."""
    complaint = complaint or await _load(uow, complaint_id)
    try:
        complaint.take(cmd, Actor.system(service), at)
    except (TransitionNotAllowed, ActionRefused) as exc:
        log.info("stale decision ignored", extra={
            "tracking_number": complaint.tracking_number, "action": cmd.action.value,
            "status": complaint.status.value, "why": type(exc).__name__})
        return
    await _save(uow, complaint)


async def _save(uow: IntakeUnitOfWork, *complaints: Complaint) -> None:
    for complaint in complaints:
        await uow.complaints.save(complaint)
        for event in complaint.events:
            await uow.outbox.record(event)
        complaint.events.clear()


async def on_complaint_assigned(event: ComplaintAssignedV1, uow: IntakeUnitOfWork) -> None:
    await _apply_system(uow, event.complaint_id, TakeAction(
        Action.ASSIGN, opd_id=event.opd_id, opd_name=event.opd_name,
        confidence=event.confidence, reason=event.reason,
        category=event.classified.category if event.classified else None,
        report_type=event.classified.report_type if event.classified else None),
        "routing", event.occurred_at)


async def on_complaint_found_not_ours(event: ComplaintFoundNotOursV1, uow: IntakeUnitOfWork) -> None:
    await _apply_system(uow, event.complaint_id, TakeAction(
        Action.MARK_NOT_OURS, responsible=event.responsible, reason=event.reason),
        "routing", event.occurred_at)


async def on_complaint_sent_to_triage(event: ComplaintSentToTriageV1, uow: IntakeUnitOfWork) -> None:
    await _apply_system(uow, event.complaint_id, TakeAction(
        Action.SEND_TO_TRIAGE, reason=event.reason), "routing", event.occurred_at)


async def on_sla_clock_started(event: SlaClockStartedV1, uow: IntakeUnitOfWork) -> None:
    """A deadline set: on the citizen's timeline, unless it is the clock of an OPD the
    complaint has since left, or older than a clock of its kind already shown."""
    complaint = await _load(uow, event.complaint_id)
    if _not_for_its_opd(event, complaint):
        return  # the clock of an OPD the complaint has since left
    if complaint.set_deadline(event.clock, event.due_at, event.occurred_at,
                              started_at=event.started_at, clock_id=event.clock_id):
        await uow.complaints.save(complaint)


async def on_sla_clock_paused(event: SlaClockPausedV1, uow: IntakeUnitOfWork) -> None:
    """A deadline waits for the citizen: the timeline says so (it will move)."""
    complaint = await _load(uow, event.complaint_id)
    if _not_for_its_opd(event, complaint):
        return
    if complaint.pause_deadline(event.clock, event.occurred_at, clock_id=event.clock_id):
        await uow.complaints.save(complaint)


async def on_sla_clock_resumed(event: SlaClockResumedV1, uow: IntakeUnitOfWork) -> None:
    """A deadline runs again, moved by the wait: the timeline shows the new one."""
    complaint = await _load(uow, event.complaint_id)
    if _not_for_its_opd(event, complaint):
        return
    if complaint.move_deadline(event.clock, event.due_at, event.occurred_at,
                               clock_id=event.clock_id):
        await uow.complaints.save(complaint)


async def on_sla_auto_close_due(event: SlaAutoCloseDueV1, uow: IntakeUnitOfWork) -> None:
    """The citizen stayed silent after the last follow-up: closed through the lifecycle (role
    system, actor "sla") if it still waits for the citizen and nothing happened since the
    clock started. A reply or a newer follow-up since, another status, or a replay: ignored,
    quietly (retrying or dead-lettering could never make it apply)."""
    complaint = await _load(uow, event.complaint_id)
    if complaint.status not in (Status.FOLLOWED_UP, Status.RESOLVED):
        return
    if not complaint.auto_close_is_current(event.clock_id):
        log.info("stale auto-close ignored", extra={
            "tracking_number": complaint.tracking_number, "status": complaint.status.value})
        return
    await _apply_system(uow, event.complaint_id, TakeAction(Action.AUTO_CLOSE), "sla",
                        event.occurred_at, complaint)


def _not_for_its_opd(event: SlaClockStartedV1 | SlaClockPausedV1 | SlaClockResumedV1,
                     complaint: Complaint) -> bool:
    return event.clock == "first_response" and event.opd_id != complaint.assigned_opd_id


async def on_notification_sent(event: NotificationSentV1, uow: IntakeUnitOfWork) -> None:
    """The citizen's own messages go on their timeline; staff and front-end ones are notify's
    audit log only."""
    if event.audience != "citizen":
        return
    complaint = await _load(uow, event.complaint_id)
    complaint.record_notification(event.channel, event.occurred_at, template=event.template,
                                  fell_back_from=event.fell_back_from)
    await uow.complaints.save(complaint)


async def on_notification_failed(event: NotificationFailedV1, uow: IntakeUnitOfWork) -> None:
    """A message the citizen will not get: the timeline says so, so staff know to call."""
    if event.audience != "citizen":
        return
    complaint = await _load(uow, event.complaint_id)
    complaint.record_notification_failure(event.channels_tried, event.error_class,
                                          event.occurred_at, template=event.template)
    await uow.complaints.save(complaint)


# ---- people acting through the HTTP API


class NotFound(Exception):
    """No such complaint for this caller: one answer for "does not exist", "wrong access
    token" and "another OPD's", so sequential tracking numbers reveal nothing."""


class StaffOnly(Exception):
    """Lists are for staff; a citizen follows a complaint by its tracking number."""


@dataclass(frozen=True)
class Caller:
    """Who is asking: a staff member (from a verified token) or a citizen holding a token
    that only its complaint can confirm."""

    actor: Actor
    citizen_token: str | None = None


def may_see(complaint: Complaint, caller: Caller) -> bool:
    actor = caller.actor
    if actor.role is Role.CITIZEN:
        return caller.citizen_token is not None and hmac.compare_digest(
            complaint.access_token_hash, hash_token(caller.citizen_token))
    if actor.role is Role.OPD:   # OPD ids repeat across cities: a token naming one keeps to it
        return (actor.opd_id is not None and complaint.assigned_opd_id == actor.opd_id
                and actor.jurisdiction in (None, complaint.jurisdiction))
    if actor.role is Role.OPERATOR:
        return actor.jurisdiction is None or actor.jurisdiction == complaint.jurisdiction
    return False


async def read_complaint(tracking_number: str, caller: Caller,
                         uow: IntakeUnitOfWork) -> tuple[Complaint, Complaint | None]:
    """The complaint with its timeline, and, for a merged duplicate, the complaint it follows."""
    complaint = await uow.complaints.get_by_tracking_number(tracking_number)
    if complaint is None or not may_see(complaint, caller):
        raise NotFound()
    survivor = None
    if complaint.merged_into_tracking_number is not None:
        survivor = await uow.complaints.get_by_tracking_number(complaint.merged_into_tracking_number)
    return complaint, survivor


async def take_action(tracking_number: str, cmd: TakeAction, caller: Caller,
                      uow: IntakeUnitOfWork, clock: Clock) -> Complaint:
    """One action by a person: found and visible (else NotFound), allowed for the role (else
    RoleNotAllowed), by the status (else TransitionNotAllowed) and by this complaint (else
    ActionRefused); then the change, its history and its event, in the caller's transaction."""
    complaint = await uow.complaints.get_by_tracking_number(tracking_number, lock=True)
    if complaint is None or not may_see(complaint, caller):
        raise NotFound()
    check_role(caller.actor.role, cmd.action)
    target = None
    if cmd.action is Action.MERGE and cmd.into is not None:
        target = await uow.complaints.get_by_tracking_number(cmd.into, lock=True)
        if target is None or not may_see(target, caller):
            raise ActionRefused(f"no complaint {cmd.into} to merge into")
    complaint.take(cmd, caller.actor, clock(), target)
    await _save(uow, complaint, *([target] if target is not None else []))
    return complaint


async def list_complaints(query: ComplaintQuery, caller: Caller, uow: IntakeUnitOfWork,
                          clock: Clock) -> list[Complaint]:
    """Staff only; an OPD sees its own queue whatever it asks, an operator of one jurisdiction
    only that jurisdiction."""
    actor = caller.actor
    if actor.role is Role.OPD:
        query = replace(query, opd_id=actor.opd_id, jurisdiction=actor.jurisdiction or query.jurisdiction)
    elif actor.role is Role.OPERATOR:
        if actor.jurisdiction is not None:
            query = replace(query, jurisdiction=actor.jurisdiction)
    else:
        raise StaffOnly()
    return await uow.complaints.search(query, clock())


# ---- the public transparency view (no caller: anyone may read what is public)


async def list_public(query: ComplaintQuery, uow: IntakeUnitOfWork, clock: Clock) -> list[Complaint]:
    """Non-rahasia complaints only, whatever the query says."""
    return await uow.complaints.search(replace(query, public=True, overdue=None), clock())


async def read_public(tracking_number: str, uow: IntakeUnitOfWork) -> tuple[Complaint, Complaint | None]:
    """One public complaint with its timeline, and the public complaint a merged one follows.
    A rahasia report is NotFound, as an unknown number is."""
    complaint = await uow.complaints.get_by_tracking_number(tracking_number)
    if complaint is None or complaint.confidential:
        raise NotFound()
    survivor = None
    if complaint.merged_into_tracking_number is not None:
        survivor = await uow.complaints.get_by_tracking_number(complaint.merged_into_tracking_number)
        if survivor is not None and survivor.confidential:
            survivor = None
    return complaint, survivor


# ---- attachments


class TooManyAttachments(Exception):
    """The complaint would hold more files than the limit allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"a complaint holds at most {limit} attachments")
        self.limit = limit


@dataclass(frozen=True)
class AttachDeps:
    """What attaching needs besides the unit of work: the blob store, the limits, time."""

    blobs: BlobStore
    limits: AttachmentLimits
    clock: Clock


@dataclass(frozen=True)
class StoredFile:
    """A cleaned file whose bytes are already in the blob store at `sha256`."""

    content_type: str
    size: int
    sha256: str
    filename: str | None


async def store_files(uploads: list[tuple[bytes, str | None, str | None]],
                      deps: AttachDeps) -> list[StoredFile]:
    """Judge and clean each (bytes, declared type, file name), refusing the whole request at
    the first bad file (AttachmentRefused), then put the cleaned bytes in the blob store.
    Runs BEFORE the transaction that records the rows: a blob is content-addressed, so one
    whose row never commits is an orphan to sweep, never a wrong file. Decoding and
    re-encoding images is CPU work, done in a thread so the event loop keeps serving."""
    cleaned = [await asyncio.to_thread(clean, data, declared, name, deps.limits)
               for data, declared, name in uploads]
    stored = []
    for c in cleaned:
        address = await deps.blobs.put(c.data, c.content_type)
        stored.append(StoredFile(c.content_type, len(c.data), address, c.filename))
    return stored


async def record_attachments(complaint: Complaint, files: list[StoredFile], actor: Actor,
                             uow: IntakeUnitOfWork, deps: AttachDeps, *, note: str | None = None,
                             history_action: str | None = None) -> list[Attachment]:
    """The rows for files already stored, in the caller's transaction; an anonymous report
    keeps no file name (a name like `IMG_siti_rahayu.jpg` would unmask its author)."""
    if await uow.attachments.count_for(complaint.id) + len(files) > deps.limits.per_complaint:
        raise TooManyAttachments(deps.limits.per_complaint)
    at = deps.clock()
    added = []
    for f in files:
        attachment = Attachment(
            id=uuid.uuid4(), complaint_id=complaint.id, sha256=f.sha256,
            content_type=f.content_type, size=f.size, uploaded_at=at,
            uploaded_by_role=actor.role.value, uploaded_by=actor.name,
            filename=None if complaint.anonymous else f.filename, note=note,
            history_action=history_action)
        await uow.attachments.add(attachment)
        added.append(attachment)
    return added


async def check_may_attach(tracking_number: str, caller: Caller, uow: IntakeUnitOfWork,
                           deps: AttachDeps, count: int) -> None:
    """Cheap checks before any file is decoded or stored: visible (else NotFound), room left
    (else TooManyAttachments)."""
    complaint = await uow.complaints.get_by_tracking_number(tracking_number)
    if complaint is None or not may_see(complaint, caller):
        raise NotFound()
    if await uow.attachments.count_for(complaint.id) + count > deps.limits.per_complaint:
        raise TooManyAttachments(deps.limits.per_complaint)


async def add_attachments(tracking_number: str, files: list[StoredFile], caller: Caller,
                          uow: IntakeUnitOfWork, deps: AttachDeps,
                          note: str | None = None) -> tuple[Complaint, list[Attachment]]:
    """Files added later (a photo of the repaired road, more evidence from the citizen): by
    whoever may read the complaint. Not a lifecycle action: the status does not move."""
    complaint = await uow.complaints.get_by_tracking_number(tracking_number, lock=True)
    if complaint is None or not may_see(complaint, caller):
        raise NotFound()
    await record_attachments(complaint, files, caller.actor, uow, deps, note=note)
    return complaint, await uow.attachments.list_for(complaint.id)


async def read_attachment(tracking_number: str, attachment_id: uuid.UUID, caller: Caller,
                          uow: IntakeUnitOfWork) -> Attachment:
    """One attachment's row, for a caller who may read the complaint; NotFound otherwise."""
    complaint = await uow.complaints.get_by_tracking_number(tracking_number)
    if complaint is None or not may_see(complaint, caller):
        raise NotFound()
    attachment = await uow.attachments.get(complaint.id, attachment_id)
    if attachment is None:
        raise NotFound()
    return attachment


# ---- Open311 (GeoReport v2 and mySociety's servicerequestupdates), see intake/open311/


@dataclass(frozen=True)
class Open311Receipt:
    """What an Open311 POST answers: the complaint and the front end's lookup token; on a
    retry with the same Idempotency-Key, the first ones again."""

    complaint: Complaint
    token: str
    replayed: bool = False


def open311_idempotency_key(api_key_id: uuid.UUID, key: str) -> str:
    """A front end's Idempotency-Key, scoped to that front end: two front ends never share a
    key, and no key sent to the native API can stand for one (a header value holds no NUL)."""
    return f"open311\x00{api_key_id}\x00{key}"


async def submit_open311(cmd: SubmitComplaint, extra: "Open311Request", uow: IntakeUnitOfWork,
                         deps: SubmitDeps, idempotency_key: str | None = None) -> Open311Receipt:
    """File a complaint from an Open311 front end and record what only Open311 carries (the
    front end's key, the token, attribute answers, media_url, ...) in the same transaction.
    `extra.complaint_id` is filled in here. With an `Idempotency-Key` (GeoReport v2 has no
    retry rule of its own), a front end that lost the answer and posts again gets the first
    service request back instead of filing the complaint twice."""
    if idempotency_key is None:
        receipt = await submit_complaint(cmd, uow, deps)
    else:
        receipt = await submit_complaint(
            cmd, uow, deps, open311_idempotency_key(extra.api_key_id, idempotency_key),
            also_carried=extra.fingerprint())
    if receipt.replayed:
        first = await uow.open311.request_for(receipt.complaint.id)
        if first is None or first.api_key_id != extra.api_key_id:
            raise IdempotencyKeyReused()
        return Open311Receipt(receipt.complaint, first.token, replayed=True)
    await uow.open311.add_request(replace(extra, complaint_id=receipt.complaint.id))
    return Open311Receipt(receipt.complaint, extra.token)


async def post_open311_update(tracking_number: str, api_key_id: uuid.UUID, cmd: TakeAction,
                              uow: IntakeUnitOfWork, clock: Clock) -> tuple[Complaint, int]:
    """A reporter's update through the front end that submitted the complaint (NotFound for
    any other front end, as for an unknown number): the citizen's action, then the id of the
    history entry it wrote (the update_id)."""
    complaint = await uow.complaints.get_by_tracking_number(tracking_number, lock=True)
    if complaint is None:
        raise NotFound()
    submitted = await uow.open311.request_for(complaint.id)
    if submitted is None or submitted.api_key_id != api_key_id:
        raise NotFound()
    complaint.take(cmd, Actor.citizen(), clock())
    await _save(uow, complaint)
    await uow.complaints.flush()    # the new entry is written, so its id is the one read
    return complaint, await uow.open311.last_update_id(complaint.id) or 0

