"""The delivery log: every message owed about a complaint, to whom (by audience, never by
address), on which channels it was tried, each attempt and how it ended. For audit by
operators; the citizen sees the same about their own complaint with their access token (their
timeline in intake shows what was sent). Operators may send a failed delivery again."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Request
from pydantic import BaseModel

from backbone.staff_auth import InvalidStaffToken, StaffIdentity
from contracts.lifecycle import Role
from notify import citizen_access
from notify.directory_api import operator

router = APIRouter(prefix="/v1", tags=["deliveries"])
TrackingNumber = Annotated[str, Path(pattern=r"^[1-9][0-9]{0,19}$")]
_PROBLEM = {"content": {"application/problem+json": {}}}


class AttemptView(BaseModel):
    at: datetime
    channel: str
    outcome: str
    transport: str | None
    error_class: str | None
    detail: str | None


class DeliveryView(BaseModel):
    id: uuid.UUID
    about_event_id: uuid.UUID
    fact_at: datetime
    audience: str
    template: str
    status: str
    channels: list[str]
    channel: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    log: list[AttemptView]


async def _caller(request: Request, tracking_number: str, authorization: str | None):
    """An operator, or the citizen of this complaint with its access token."""
    token = citizen_access.bearer(authorization, "token")
    found = await citizen_access.find(request, tracking_number)
    if token.count(".") == 2:   # a JWT: staff
        try:
            who = await request.app.state.staff_tokens.verify(token)
        except InvalidStaffToken as exc:
            raise HTTPException(401, str(exc)) from None
        if who.role is not Role.OPERATOR:
            raise HTTPException(403, "Operators only")
        profile = found[3] if found else None
        if profile is not None and who.jurisdiction not in (None, profile.jurisdiction):
            raise HTTPException(404, "No such complaint")
    else:
        citizen_access.check(found, token)
    if found is None:
        raise HTTPException(404, "No such complaint")
    return found[0]


@router.get("/complaints/{tracking_number}/deliveries", response_model=list[DeliveryView],
            summary="The delivery log of a complaint (operators, or the citizen with the access token)",
            responses={401: {"description": "No token", **_PROBLEM},
                       404: {"description": "Unknown, or not yours", **_PROBLEM}})
async def deliveries_of(tracking_number: TrackingNumber, request: Request,
                        authorization: Annotated[str | None, Header()] = None) -> list[DeliveryView]:
    complaint_id = await _caller(request, tracking_number, authorization)
    async with request.app.state.runtime.unit_of_work() as uow:
        found = await uow.deliveries.of_complaint(complaint_id)
    return [DeliveryView(
        id=d.id, about_event_id=d.about_event_id, fact_at=d.fact_at, audience=d.audience,
        template=d.template, status=d.status, channels=list(d.channels), channel=d.channel,
        attempts=d.attempts, next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
        last_error=d.last_error,
        log=[AttemptView(at=a.at, channel=a.channel, outcome=a.outcome, transport=a.transport,
                         error_class=a.error_class, detail=a.detail) for a in attempts])
        for d, attempts in found]


@router.post("/deliveries/{delivery_id}/retry", status_code=202,
             summary="Send a failed or skipped delivery again, from its first channel",
             responses={401: {"description": "No staff token", **_PROBLEM},
                        403: {"description": "Operators only", **_PROBLEM},
                        404: {"description": "No failed delivery with this id", **_PROBLEM}})
async def retry(delivery_id: uuid.UUID, request: Request,
                who: Annotated[StaffIdentity, Depends(operator)]) -> dict:
    async with request.app.state.runtime.unit_of_work() as uow:
        d = await uow.deliveries.get(delivery_id)
        if d is None or (who.jurisdiction is not None and d.jurisdiction not in (None, who.jurisdiction)):
            raise HTTPException(404, "No failed delivery with this id")
        if not await uow.deliveries.requeue(delivery_id, datetime.now(timezone.utc)):
            raise HTTPException(404, "No failed delivery with this id")
    return {"id": str(delivery_id), "status": "pending"}
