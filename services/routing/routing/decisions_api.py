"""HTTP API of routing's decision log, for operators: why a complaint went where it went, or
why it waits in triage. The triage screen shows the newest decision's candidates (each
subcategory routing weighed, its confidence and where the jurisdiction sends it), the words
that drove the read and the reason, so an operator decides in one look.

Operators only; an operator whose token names a jurisdiction sees that jurisdiction's alone
(another's is a 404, as if it did not exist). Errors are RFC 9457 problems.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from backbone.staff_auth import StaffIdentity, operator_caller
from contracts.events import RoutingCandidate
from routing.adapters.decisions import LoggedDecision

router = APIRouter(tags=["decisions"])
_PROBLEM = {"content": {"application/problem+json": {}}}


class DecisionView(BaseModel):
    decided_at: datetime
    trigger: str = Field(description="submitted, rejected, information_added, resumed, "
                                     "operator_assign, operator_reassign, ...")
    decided_by: str = Field(description="routing, or the operator who disposed by hand")
    opd_id: str | None = Field(description="Where it was sent; none: triage or not the city's")
    confidence: float
    reason: str
    category: str | None = Field(description="The subcategory the classifier read")
    explanation: list[str] = Field(description="The words that weighed most in that read")
    suggestions: list[str] = Field(description="OPD ids for the operator, best first")
    candidates: list[RoutingCandidate]


class RoutingRecord(BaseModel):
    tracking_number: str
    jurisdiction: str
    latest: DecisionView
    decisions: list[DecisionView] = Field(description="Every decision, oldest first")


class RoutingPage(BaseModel):
    items: list[RoutingRecord] = Field(description="In the order asked; unknown numbers left out")


async def operator(request: Request) -> StaffIdentity:
    return await operator_caller(request)


def _view(d: LoggedDecision) -> DecisionView:
    return DecisionView(decided_at=d.decided_at, trigger=d.trigger, decided_by=d.decided_by,
                        opd_id=d.opd_id, confidence=d.confidence, reason=d.reason,
                        category=d.category, explanation=list(d.explanation),
                        suggestions=list(d.suggestions),
                        candidates=[RoutingCandidate(**c) for c in d.candidates])


@router.get("/v1/complaints/{tracking_number}/routing", response_model=RoutingRecord,
            responses={401: {"description": "No valid staff token", **_PROBLEM},
                       403: {"description": "Not an operator", **_PROBLEM},
                       404: {"description": "Routing has decided nothing about it", **_PROBLEM}},
            summary="Why a complaint went where it went, or waits in triage (operators)")
async def complaint_routing(
    tracking_number: Annotated[str, Path(pattern=r"^[0-9]{1,20}$")], request: Request,
    who: Annotated[StaffIdentity, Depends(operator)],
) -> RoutingRecord:
    found = await _records(request, who, [tracking_number])
    if not found:
        raise HTTPException(404, f"Routing has decided nothing about {tracking_number}")
    return found[0]


@router.get("/v1/routing", response_model=RoutingPage,
            responses={401: {"description": "No valid staff token", **_PROBLEM},
                       403: {"description": "Not an operator", **_PROBLEM}},
            summary="The same for a page of complaints at once, e.g. a triage queue (operators)")
async def complaints_routing(
    request: Request, who: Annotated[StaffIdentity, Depends(operator)],
    tracking_number: Annotated[list[Annotated[str, Field(pattern=r"^[0-9]{1,20}$")]], Query(
        min_length=1, max_length=100, description="Repeat for each complaint (at most 100)")],
) -> RoutingPage:
    return RoutingPage(items=await _records(request, who, tracking_number))


async def _records(request: Request, who: StaffIdentity, numbers: list[str]) -> list[RoutingRecord]:
    """Each complaint's record, in the order asked; none for a complaint routing never decided
    on, or of another jurisdiction than the operator's."""
    async with request.app.state.runtime.unit_of_work() as uow:
        logs = await uow.decisions.history_by_numbers(numbers)
    records = []
    for number in dict.fromkeys(numbers):
        log = logs.get(number)
        if not log or (who.jurisdiction is not None and log[-1].jurisdiction != who.jurisdiction):
            continue
        views = [_view(d) for d in log]
        records.append(RoutingRecord(tracking_number=number, jurisdiction=log[-1].jurisdiction,
                                     latest=views[-1], decisions=views))
    return records
