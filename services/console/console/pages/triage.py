"""The operators' triage queue: what routing was not sure enough to send, oldest first, each with
routing's candidates, the words that drove its read and its reason, and one button per
suggested OPD that disposes it there (intake's `assign`). Routing's records of the page's items
come in one call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from console.pages.common import render
from console.session import Session, operator_session

router = APIRouter()


@router.get("/triage")
async def triage(request: Request, session: Annotated[Session, Depends(operator_session)],
                 page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
    platform = request.app.state.platform
    found = await platform.complaints(session.token, status="triage", sort="oldest", page=page,
                                      page_size=request.app.state.settings.page_size)
    records = await platform.routings(session.token, [c["tracking_number"] for c in found["items"]])
    directory = request.app.state.directory
    places = {j: await directory.place(j) for j in {c["jurisdiction"] for c in found["items"]}}
    items = [{**c, "routing": records.get(c["tracking_number"]), "place": places[c["jurisdiction"]],
              "suggested": _suggested(records.get(c["tracking_number"]),
                                      places[c["jurisdiction"]].opd_names)}
             for c in found["items"]]
    return await render(request, "triage.html", session, title_key="triage.title",
                        items=items, found=found, page=page)


def _suggested(record: dict | None, names: dict[str, str]) -> list[tuple[str, str]]:
    """The OPDs routing suggests, best first, with their names; none twice."""
    if not record:
        return []
    latest = record["latest"]
    seen: dict[str, str] = {}
    for opd in latest["suggestions"]:
        seen.setdefault(opd, names.get(opd, opd))
    for candidate in latest["candidates"]:
        if candidate.get("opd_id"):
            seen.setdefault(candidate["opd_id"], candidate.get("opd_name") or candidate["opd_id"])
    return list(seen.items())[:4]
