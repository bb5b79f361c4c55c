"""intake's HTTP API for citizens' front ends, OPD staff and operators (native JSON).

A receipt is returned only after the complaint and its events are committed; the access token
is shown once and stored hashed. Every later step of a complaint's life is one route, `POST
/v1/complaints/{tracking_number}/actions`, checked against the lifecycle in contracts: the
caller's role (403), the status (409 naming the status and what is allowed), and this
complaint (409 saying why). A complaint the caller may not see is a 404, whatever the reason.
"""

from __future__ import annotations

import dataclasses

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Path, Query, Request, Response

from contracts.lifecycle import (
    WITH_OPD, Role, RoleNotAllowed, Status, TransitionNotAllowed, allowed_actions,
)
from intake import attachments_api, handlers
from intake.auth import current_caller
from intake.domain.actions import ActionRefused
from intake.domain.actors import Actor
from intake.domain.complaint import Complaint, HistoryEntry
from intake.domain.queries import ComplaintQuery
from intake.handlers import Caller
from intake.open311.mapping import api_key_digest
from backbone.problems import problem
from intake.schemas import (
    ActionRequest, AttachmentView, ComplaintPage, Problem, ComplaintReceipt, ComplaintSummary, ComplaintView, HistoryItem,
    MergedInto, Opd, ReporterView, SubmitComplaintRequest,
)

router = APIRouter(prefix="/v1", tags=["complaints"])
TrackingNumber = Annotated[str, Path(pattern=r"^[0-9]{1,20}$", description="The numeric tracking number")]
CallerDep = Annotated[Caller, Depends(current_caller)]

_PROBLEM = {"content": {"application/problem+json": {
    "schema": {"$ref": "#/components/schemas/Problem"}}}, "model": Problem}
_ERRORS = {
    401: {"description": "No token, or a staff token that is expired, badly signed or for "
                         "another audience", **_PROBLEM},
    404: {"description": "No such complaint for this caller (unknown, wrong access token, or "
                         "not assigned to the caller's OPD)", **_PROBLEM},
    422: {"description": "The request is not valid; the problem lists the fields", **_PROBLEM},
    429: {"description": "Rate limit spent; see Retry-After", **_PROBLEM},
    503: {"description": "The database is away; see Retry-After", **_PROBLEM},
}


async def submit(
    body: SubmitComplaintRequest, request: Request, response: Response,
    idempotency_key: Annotated[str | None, Header(
        min_length=8, max_length=255,
        description="Any unique string; a retry with the same key and body returns the first "
                    "receipt instead of filing the complaint twice")] = None,
) -> ComplaintReceipt:
    receipt, headers = await _submit(body, request, idempotency_key)
    response.headers.update(headers)
    return receipt


async def _submit(body: SubmitComplaintRequest, request: Request, idempotency_key: str | None,
                  files: list[handlers.StoredFile] | tuple = ()) -> tuple[ComplaintReceipt, dict[str, str]]:
    """File the complaint and, from a multipart submission, its files (already cleaned and in
    the blob store) in one transaction. A replay returns the first receipt and adds nothing."""
    state = request.app.state
    headers: dict[str, str] = {}
    try:
        async with state.runtime.unit_of_work() as uow:
            cmd = body.to_command()
            api_key = request.headers.get("x-api-key")
            if api_key is not None:   # a registered front end: its webhooks hear of this one
                key = await uow.open311.key_by_digest(api_key_digest(api_key))
                if key is None:
                    raise HTTPException(403, "X-Api-Key is not a valid front-end key")
                cmd = dataclasses.replace(cmd, frontend=key.name)
            receipt = await handlers.submit_complaint(cmd, uow, state.submit_deps,
                                                     idempotency_key)
            if files and not receipt.replayed:
                await handlers.record_attachments(receipt.complaint, list(files), Actor.citizen(),
                                                  uow, state.attach_deps, history_action="submit")
    except handlers.IdempotencyKeyReused:
        raise HTTPException(422, "This Idempotency-Key was already used for a different request")
    if receipt.replayed:
        headers["Idempotent-Replayed"] = "true"
    c = receipt.complaint
    url = f"{state.settings.public_base_url}/v1/complaints/{c.tracking_number}"
    headers["Location"] = url
    return ComplaintReceipt(complaint_id=str(c.id), tracking_number=c.tracking_number,
                            access_token=receipt.access_token, status=c.status.value,
                            submitted_at=c.submitted_at, status_url=url), headers


router.add_api_route(
    "/complaints", submit, methods=["POST"], status_code=201, response_model=ComplaintReceipt,
    summary="Submit a complaint; returns its tracking number and secret access token",
    description="The complaint as application/json. With files, send multipart/form-data "
                "instead: a `complaint` part holding the same JSON and one or more `file` parts "
                "(photos, PDF, video; see POST /v1/complaints/{tracking_number}/attachments for "
                "types, limits and what is stripped). The files are recorded with the complaint, "
                "in one transaction.",
    responses={**{k: v for k, v in _ERRORS.items() if k in (422, 429, 503)},
               **{k: v for k, v in attachments_api._REFUSED.items() if k in (413, 415)}},
    openapi_extra=attachments_api.SUBMIT_MULTIPART_DOC,
    route_class_override=attachments_api.json_or_multipart(lambda: _submit))


@router.get("/complaints/{tracking_number}", response_model=ComplaintView,
            summary="A complaint's status, OPD, deadlines, timeline and what the caller may do",
            description="For the citizen (Bearer access token), OPD staff of the assigned OPD and "
                        "operators (Bearer staff JWT). Staff see the reporter's identity only "
                        "when the report is not anonymous.",
            responses={k: v for k, v in _ERRORS.items() if k in (401, 404, 429, 503)})
async def get_complaint(tracking_number: TrackingNumber, request: Request,
                        caller: CallerDep) -> ComplaintView:
    async with request.app.state.runtime.unit_of_work() as uow:
        try:
            complaint, survivor = await handlers.read_complaint(tracking_number, caller, uow)
        except handlers.NotFound:
            raise _not_found() from None
        files = await uow.attachments.list_for(complaint.id)
    return _view(complaint, caller, request.app.state.clock(), survivor,
                 attachments=attachments_api.views(
                     files, request.app.state.settings.public_base_url, complaint.tracking_number))


@router.post("/complaints/{tracking_number}/actions", response_model=ComplaintView,
             summary="Take an action on a complaint: the lifecycle's one door",
             description="The body names the action and carries its fields. Citizens: "
                         "provide_info, citizen_reply, close, rate, reopen. OPD staff of the "
                         "assigned OPD: accept, respond, reject_not_authority, resolve. "
                         "Operators: assign, reassign, postpone, resume, archive, mark_not_ours, "
                         "merge. Answers the complaint as it is after the action.",
             responses={**_ERRORS,
                        403: {"description": "The caller's role may never take this action", **_PROBLEM},
                        409: {"description": "Not now: the status does not allow it (the problem "
                                             "names the status and the allowed actions), or this "
                                             "complaint does not (reopen window over, already "
                                             "rated, OPD already rejected it, ...)", **_PROBLEM}})
async def take_action(tracking_number: TrackingNumber, request: Request, caller: CallerDep,
                      body: Annotated[ActionRequest, Body()]):
    state = request.app.state
    try:
        async with state.runtime.unit_of_work() as uow:
            complaint = await handlers.take_action(tracking_number, body.to_command(), caller,
                                                   uow, state.clock)
            files = await uow.attachments.list_for(complaint.id)
    except handlers.NotFound:
        raise _not_found() from None
    except RoleNotAllowed as exc:
        return problem(403, "forbidden", "Your role may not take this action",
                       f"A caller with role '{exc.role}' may not '{exc.action}'.",
                       role=exc.role.value, action=exc.action.value)
    except TransitionNotAllowed as exc:
        allowed = [a.value for a in allowed_actions(exc.status, caller.actor.role)]
        return problem(409, "transition-not-allowed", "Not allowed in the complaint's status",
                       f"'{exc.action}' is not allowed while the complaint is '{exc.status}'.",
                       current_status=exc.status.value, action=exc.action.value,
                       allowed_actions=allowed)
    except ActionRefused as exc:
        return problem(409, "action-refused", "Not allowed for this complaint now", str(exc),
                       action=body.action)
    return _view(complaint, caller, state.clock(), attachments=attachments_api.views(
        files, state.settings.public_base_url, complaint.tracking_number))


@router.get("/complaints", response_model=ComplaintPage,
            summary="Staff: list complaints; OPD staff get their own OPD's queue",
            description="Operators see every complaint (of their jurisdiction, when their token "
                        "names one); OPD staff see only what is assigned to their OPD, whatever "
                        "`opd` says. Citizens use their tracking number instead (403).",
            responses={**{k: v for k, v in _ERRORS.items() if k != 404},
                       403: {"description": "Citizens cannot list complaints", **_PROBLEM}})
async def list_complaints(
    request: Request, caller: CallerDep,
    status: Annotated[list[Status] | None, Query(description="One or more statuses")] = None,
    opd: Annotated[str | None, Query(max_length=80, description="Operators: the assigned OPD")] = None,
    category: Annotated[str | None, Query(max_length=80)] = None,
    jurisdiction: Annotated[str | None, Query(max_length=80)] = None,
    submitted_from: Annotated[datetime | None, Query(description="Submitted at or after (ISO 8601)")] = None,
    submitted_to: Annotated[datetime | None, Query(description="Submitted before (ISO 8601)")] = None,
    overdue: Annotated[bool | None, Query(description="With an OPD and past its deadline")] = None,
    q: Annotated[str | None, Query(max_length=200, description=(
        "A tracking number, or words: each must begin a word of the title or description"))] = None,
    sort: Annotated[str, Query(pattern="^(newest|oldest|due)$")] = "newest",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
):
    query = ComplaintQuery(
        statuses=tuple(status or ()), opd_id=opd, category=category, jurisdiction=jurisdiction,
        submitted_from=_aware(submitted_from), submitted_to=_aware(submitted_to), overdue=overdue,
        sort=sort, page=page, page_size=page_size, **_searched(q))  # type: ignore[arg-type]
    state = request.app.state
    try:
        async with state.runtime.unit_of_work() as uow:
            found = await handlers.list_complaints(query, caller, uow, state.clock)
    except handlers.StaffOnly:
        return problem(403, "forbidden", "Only staff can list complaints",
                       "Citizens follow their complaint with its tracking number.")
    has_more = len(found) > page_size
    base = state.settings.public_base_url
    now = state.clock()
    items = [ComplaintSummary(
        tracking_number=c.tracking_number, status=c.status.value, title=c.title,
        category=c.category, jurisdiction=c.jurisdiction, assigned_opd=_opd(c),
        submitted_at=c.submitted_at, due_at=c.due_at, overdue=_overdue(c, now),
        anonymous=c.anonymous, url=f"{base}/v1/complaints/{c.tracking_number}",
    ) for c in found[:page_size]]
    next_url = None
    if has_more:
        params = request.query_params.multi_items()
        rest = "&".join(f"{k}={v}" for k, v in params if k != "page")
        next_url = f"{base}/v1/complaints?{rest + '&' if rest else ''}page={page + 1}"
    return ComplaintPage(items=items, page=page, page_size=page_size, has_more=has_more,
                         next=next_url)


def _searched(q: str | None) -> dict:
    """`q` as the query's terms: a number alone is a tracking number, anything else words."""
    q = (q or "").strip()
    if not q:
        return {}
    if q.isdigit():
        return {"tracking_numbers": (q,)}
    return {"text": q}


def _not_found() -> HTTPException:
    return HTTPException(404, "No complaint with this tracking number for this caller")


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def _opd(c: Complaint) -> Opd | None:
    return Opd(id=c.assigned_opd_id, name=c.assigned_opd_name or c.assigned_opd_id) if c.assigned_opd_id else None


def _overdue(c: Complaint, now: datetime) -> bool:
    return c.due_at is not None and c.due_at < now and c.status in WITH_OPD


def _history(entries: list[HistoryEntry]) -> list[HistoryItem]:
    return [HistoryItem(at=h.at, action=h.action,
                        from_status=h.from_status.value if h.from_status else None,
                        status=h.status.value, actor_role=h.actor_role, actor=h.actor,
                        note=h.note, details=h.details) for h in entries]


def _view(c: Complaint, caller: Caller, now: datetime,
          survivor: Complaint | None = None, *,
          attachments: list[AttachmentView] | None = None) -> ComplaintView:
    role = caller.actor.role
    reporter = None
    if role in (Role.OPD, Role.OPERATOR) and not c.anonymous and c.reporter is not None:
        reporter = ReporterView(name=c.reporter.name, email=c.reporter.email,
                                phone=c.reporter.phone, nik=c.reporter.nik)
    return ComplaintView(
        tracking_number=c.tracking_number, status=c.status.value, title=c.title,
        description=c.description, category=c.category, channel=c.channel,
        jurisdiction=c.jurisdiction, location=c.location, anonymous=c.anonymous,
        confidential=c.confidential, submitted_at=c.submitted_at, assigned_opd=_opd(c),
        first_response_due_at=c.first_response_due_at, due_at=c.due_at,
        overdue=_overdue(c, now), rejected_by=list(c.rejected_by),
        reopen_until=c.reopen_until, rating=c.rating, rating_comment=c.rating_comment,
        merged_into=MergedInto(tracking_number=survivor.tracking_number,
                               status=survivor.status.value, assigned_opd=_opd(survivor),
                               history=_history(survivor.history)) if survivor else None,
        reporter=reporter,
        allowed_actions=[a.value for a in allowed_actions(c.status, role)],
        history=_history(c.history),
        attachments=attachments or [],
    )
