"""HTTP API of duplicate candidates, for operators: the list to work through, the pairs of one
complaint, and "not a duplicate". Merging is intake's `merge` action (the complaint's status is
intake's); routing hears `ComplaintMerged` and marks the pair merged.

Operators only (a staff JWT with role operator); an operator whose token names a jurisdiction
sees and decides that jurisdiction's pairs alone. Errors are RFC 9457 problems.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from backbone.staff_auth import StaffIdentity, operator_caller
from backbone.problems import ProblemError
from routing.adapters.duplicates import NotOpen, Pair

router = APIRouter(tags=["duplicates"])
_PROBLEM = {"content": {"application/problem+json": {}}}
_STAFF = {401: {"description": "No valid staff token", **_PROBLEM},
          403: {"description": "Not an operator of this jurisdiction", **_PROBLEM}}


class ComplaintRef(BaseModel):
    complaint_id: uuid.UUID
    tracking_number: str


class DuplicatePair(BaseModel):
    id: int
    jurisdiction: str
    complaint: ComplaintRef = Field(description="The later complaint, when the pair was found")
    candidate: ComplaintRef = Field(description="The earlier complaint it may duplicate")
    candidate_submitted_at: datetime
    similarity: float = Field(description="Estimated Jaccard similarity of the texts, 0..1")
    distance_m: float | None = Field(description="Metres apart, when both are located")
    found_at: datetime
    status: Literal["open", "merged", "dismissed"]
    decided_by: str | None = None
    decided_at: datetime | None = None


class DuplicatePage(BaseModel):
    items: list[DuplicatePair]
    page: int
    page_size: int
    total: int


async def operator(request: Request) -> StaffIdentity:
    return await operator_caller(request)


Operator = Annotated[StaffIdentity, Depends(operator)]


def _view(p: Pair) -> DuplicatePair:
    return DuplicatePair(
        id=p.id, jurisdiction=p.jurisdiction,
        complaint=ComplaintRef(complaint_id=p.complaint_id, tracking_number=p.tracking_number),
        candidate=ComplaintRef(complaint_id=p.candidate_id, tracking_number=p.candidate_tracking_number),
        candidate_submitted_at=p.candidate_submitted_at, similarity=p.similarity,
        distance_m=p.distance_m, found_at=p.found_at, status=p.status, decided_by=p.decided_by,
        decided_at=p.decided_at)


def _scope(who: StaffIdentity, jurisdiction: str | None) -> str | None:
    if who.jurisdiction is not None:
        if jurisdiction is not None and jurisdiction != who.jurisdiction:
            raise HTTPException(403, f"Your token is for jurisdiction {who.jurisdiction} only")
        return who.jurisdiction
    return jurisdiction


@router.get("/v1/duplicates", response_model=DuplicatePage, responses=_STAFF,
            summary="Duplicate candidates, newest first (operators)")
async def list_duplicates(
    request: Request, who: Operator,
    jurisdiction: Annotated[str | None, Query(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
                                              max_length=60)] = None,
    status: Literal["open", "merged", "dismissed", "all"] = "open",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> DuplicatePage:
    scope = _scope(who, jurisdiction)
    async with request.app.state.runtime.unit_of_work() as uow:
        found, total = await uow.duplicates.listing(
            scope, None if status == "all" else status, page_size, (page - 1) * page_size)
    return DuplicatePage(items=[_view(p) for p in found], page=page, page_size=page_size,
                         total=total)


@router.get("/v1/complaints/{tracking_number}/duplicates", response_model=list[DuplicatePair],
            responses=_STAFF, summary="Every duplicate pair a complaint is in (operators)")
async def complaint_duplicates(
    tracking_number: Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,40}$")],
    request: Request, who: Operator,
) -> list[DuplicatePair]:
    async with request.app.state.runtime.unit_of_work() as uow:
        found = await uow.duplicates.of_complaint(tracking_number)
    return [_view(p) for p in found
            if who.jurisdiction is None or p.jurisdiction == who.jurisdiction]


@router.post("/v1/duplicates/{pair_id}/dismiss", response_model=DuplicatePair,
             responses={**_STAFF, 404: {"description": "No such pair", **_PROBLEM},
                        409: {"description": "Merged or dismissed already", **_PROBLEM}},
             summary="Not a duplicate: the pair leaves the open list (operators)")
async def dismiss(pair_id: Annotated[int, Path(ge=1, le=2**63 - 1)], request: Request,
                  who: Operator) -> DuplicatePair:
    async with request.app.state.runtime.unit_of_work() as uow:
        found = await uow.duplicates.get(pair_id)
        if found is None or (who.jurisdiction is not None
                             and found.jurisdiction != who.jurisdiction):
            raise HTTPException(404, f"No duplicate pair {pair_id}")
        try:
            decided = await uow.duplicates.decide(pair_id, "dismissed", who.subject,
                                                  datetime.now(timezone.utc))
        except NotOpen as exc:
            raise ProblemError(409, "conflict", "The pair is decided already",
                               f"It is {exc.status}.", pair_status=exc.status) from None
    return _view(decided)
