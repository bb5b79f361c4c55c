"""intake's HTTP API for citizens' front ends (native JSON). The receipt is returned only after
the complaint and its events are committed; the access token is shown once and stored hashed."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Path, Request, Response

from contracts.lifecycle import allowed_actions
from intake import handlers
from intake.domain.complaint import Complaint
from intake.domain.tokens import hash_token
from intake.schemas import (
    ComplaintReceipt, ComplaintView, HistoryItem, Opd, SubmitComplaintRequest,
)

router = APIRouter(prefix="/v1", tags=["complaints"])


@router.post("/complaints", status_code=201, response_model=ComplaintReceipt,
             summary="Submit a complaint; returns its tracking number and secret access token")
async def submit(
    body: SubmitComplaintRequest, request: Request, response: Response,
    idempotency_key: Annotated[str | None, Header(
        min_length=8, max_length=255,
        description="Any unique string; a retry with the same key and body returns the first "
                    "receipt instead of filing the complaint twice")] = None,
) -> ComplaintReceipt:
    state = request.app.state
    try:
        async with state.runtime.unit_of_work() as uow:
            receipt = await handlers.submit_complaint(body.to_command(), uow, state.submit_deps,
                                                     idempotency_key)
    except handlers.IdempotencyKeyReused:
        raise HTTPException(422, "This Idempotency-Key was already used for a different request")
    if receipt.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    c = receipt.complaint
    url = f"{state.settings.public_base_url}/v1/complaints/{c.tracking_number}"
    response.headers["Location"] = url
    return ComplaintReceipt(complaint_id=str(c.id), tracking_number=c.tracking_number,
                            access_token=receipt.access_token, status=c.status.value,
                            submitted_at=c.submitted_at, status_url=url)


def _view(c: Complaint) -> ComplaintView:
    return ComplaintView(
        tracking_number=c.tracking_number, status=c.status.value, title=c.title,
        category=c.category, channel=c.channel, submitted_at=c.submitted_at,
        assigned_opd=Opd(id=c.assigned_opd_id, name=c.assigned_opd_name or c.assigned_opd_id)
        if c.assigned_opd_id else None,
        first_response_due_at=c.first_response_due_at,
        allowed_actions=[a.value for a in allowed_actions(c.status)],
        history=[HistoryItem(at=h.at, status=h.status.value, action=h.action, actor=h.actor,
                             note=h.note) for h in c.history],
    )


@router.get("/complaints/{tracking_number}", response_model=ComplaintView,
            summary="A complaint's status, assigned OPD, deadline and history",
            responses={401: {"description": "No access token"},
                       404: {"description": "Unknown tracking number or wrong token"}})
async def get_complaint(
    tracking_number: Annotated[str, Path(pattern=r"^[0-9]{1,20}$",
                                         description="The numeric tracking number")],
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer <access token>")] = None,
) -> ComplaintView:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise HTTPException(401, "Send the access token as 'Authorization: Bearer <token>'",
                            headers={"WWW-Authenticate": "Bearer"})
    token = authorization.split(" ", 1)[1].strip()
    async with request.app.state.runtime.unit_of_work() as uow:
        complaint = await uow.complaints.get_by_tracking_number(tracking_number)
    # One answer for "no such complaint" and "wrong token": tracking numbers are sequential
    # and must not reveal which exist.
    if complaint is None or not hmac.compare_digest(
        complaint.access_token_hash, hash_token(token)
    ):
        raise HTTPException(404, "No complaint with this tracking number and access token")
    return _view(complaint)
