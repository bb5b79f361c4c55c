"""The operators' list of open duplicate candidates routing found: each pair side by side, to
merge the later complaint into the earlier one (intake's `merge`; routing marks the pair merged
when it hears of it) or to dismiss the pair (routing's own route)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from console.adapters.platform import NotFound
from console.pages.common import render
from console.session import Session, operator_session

router = APIRouter()


@router.get("/duplicates")
async def duplicates(request: Request, session: Annotated[Session, Depends(operator_session)],
                     page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
    platform = request.app.state.platform
    found = await platform.open_duplicates(session.token, page)

    async def titled(number: str) -> dict:
        try:
            c = await platform.complaint(session.token, number)
            return {"title": c["title"], "status": c["status"]}
        except NotFound:
            return {"title": "", "status": ""}

    numbers = sorted({n for p in found["items"]
                      for n in (p["complaint"]["tracking_number"], p["candidate"]["tracking_number"])})
    known = dict(zip(numbers, await asyncio.gather(*(titled(n) for n in numbers))))
    return await render(request, "duplicates.html", session, title_key="dup.title",
                        pairs=found["items"], known=known, page=page,
                        has_more=page * found["page_size"] < found["total"])
