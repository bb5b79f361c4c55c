"""An OPD's own queue: everything waiting on it (intake forces the OPD from the token, so no one
sees another OPD's queue), overdue first, then what sla has warned about, then by deadline."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from console.adapters.platform import Unavailable
from console.domain.queue import ordered
from contracts.lifecycle import WITH_OPD
from console.pages.common import render
from console.session import Session, opd_session

router = APIRouter()
WAITING_ON_OPD = sorted(s.value for s in WITH_OPD)   # what the lifecycle says an OPD holds


@router.get("/queue")
async def queue(request: Request, session: Annotated[Session, Depends(opd_session)]) -> Response:
    platform = request.app.state.platform
    found = await platform.complaints(session.token, status=WAITING_ON_OPD, sort="due",
                                      page_size=100)
    try:
        risky = await platform.clocks(session.token, status="at_risk", limit=200)
        at_risk = {c["tracking_number"] for c in risky["items"]}
    except Unavailable:     # the queue still shows, ordered by intake's deadlines
        at_risk = set()
    items = ordered(found["items"], at_risk, datetime.now(timezone.utc))
    return await render(request, "queue.html", session, title_key="queue.title", items=items,
                        has_more=found.get("has_more"))
