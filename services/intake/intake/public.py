"""The public transparency view for front ends such as a city's "lapor" portal: anyone may list
and search the complaints that are not rahasia, and read one complaint's public timeline.

No caller, no personal data: no reporter identity (an anonim reporter is shown as anonymous, any
other as a citizen), no street address or coordinates of an anonim report, text redacted of phone
numbers, e-mail addresses and NIKs, staff named by their OPD only. A rahasia report is a 404,
as an unknown tracking number is. Answers may be cached briefly by proxies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field

from contracts.lifecycle import Status
from intake import handlers
from intake.domain.complaint import Complaint
from intake.domain.public import public_timeline, redact
from intake.domain.queries import ComplaintQuery
from intake.schemas import Opd, Problem

router = APIRouter(prefix="/v1/public", tags=["public"])

CACHE = "public, max-age=30"
_PROBLEM = {"content": {"application/problem+json": {
    "schema": {"$ref": "#/components/schemas/Problem"}}}, "model": Problem}


class PublicLocation(BaseModel):
    kecamatan: str | None = None
    kelurahan: str | None = None
    address: str | None = Field(default=None, description="Only when the reporter is not anonim")
    lat: float | None = None
    lon: float | None = None


class PublicComplaint(BaseModel):
    tracking_number: str
    title: str
    description: str = Field(description="Phone numbers, e-mail addresses and NIKs masked")
    category: str | None = None
    jurisdiction: str
    channel: str
    status: str
    assigned_opd: Opd | None = None
    location: PublicLocation | None = None
    reporter: str = Field(description="'anonim' for an anonymous report, else 'pelapor'")
    submitted_at: datetime
    updated_at: datetime
    url: str


class PublicStep(BaseModel):
    at: datetime
    action: str
    status: str = Field(description="The status after this step")
    by: str = Field(description="An OPD's id, or a role: operator, system, pelapor, anonim")
    note: str | None = Field(default=None, description="Staff notes only, redacted")


class PublicComplaintDetail(PublicComplaint):
    merged_into: str | None = Field(default=None, description="The public complaint this one "
                                                              "was merged into, if any")
    timeline: list[PublicStep]


class PublicPage(BaseModel):
    items: list[PublicComplaint]
    page: int
    page_size: int
    has_more: bool
    next: str | None = None


@router.get("/complaints", response_model=PublicPage,
            summary="Public: list and search complaints that are not rahasia",
            responses={422: {"description": "Bad parameters", **_PROBLEM},
                       429: {"description": "Rate limit spent", **_PROBLEM}})
async def list_public(
    request: Request, response: Response,
    q: Annotated[str | None, Query(max_length=200, description="Words in the title or description "
                                                                "(each word a prefix, all required)")] = None,
    category: Annotated[str | None, Query(max_length=80)] = None,
    opd: Annotated[str | None, Query(max_length=80, description="The assigned OPD's id")] = None,
    status: Annotated[list[Status] | None, Query(description="One or more statuses")] = None,
    kecamatan: Annotated[str | None, Query(max_length=120)] = None,
    jurisdiction: Annotated[str | None, Query(max_length=80)] = None,
    submitted_from: Annotated[datetime | None, Query(description="At or after (ISO 8601)")] = None,
    submitted_to: Annotated[datetime | None, Query(description="Before (ISO 8601)")] = None,
    sort: Annotated[str, Query(pattern="^(newest|oldest)$")] = "newest",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> PublicPage:
    from intake.api import _aware   # one rule for naive times, shared with the staff list
    query = ComplaintQuery(
        text=q, category=category, opd_id=opd, statuses=tuple(status or ()), kecamatan=kecamatan,
        jurisdiction=jurisdiction, submitted_from=_aware(submitted_from),
        submitted_to=_aware(submitted_to), sort=sort, page=page, page_size=page_size,  # type: ignore[arg-type]
        public=True)
    state = request.app.state
    async with state.runtime.unit_of_work() as uow:
        found = await handlers.list_public(query, uow, state.clock)
    base = state.settings.public_base_url
    next_url = None
    if len(found) > page_size:
        rest = "&".join(f"{k}={v}" for k, v in request.query_params.multi_items() if k != "page")
        next_url = f"{base}/v1/public/complaints?{rest + '&' if rest else ''}page={page + 1}"
    response.headers["Cache-Control"] = CACHE
    return PublicPage(items=[_public(c, base) for c in found[:page_size]], page=page,
                      page_size=page_size, has_more=next_url is not None, next=next_url)


@router.get("/complaints/{tracking_number}", response_model=PublicComplaintDetail,
            summary="Public: one complaint and its public timeline",
            responses={404: {"description": "No public complaint with this number", **_PROBLEM},
                       429: {"description": "Rate limit spent", **_PROBLEM}})
async def read_public(
    tracking_number: Annotated[str, Path(pattern=r"^[0-9]{1,20}$")],
    request: Request, response: Response,
) -> PublicComplaintDetail:
    state = request.app.state
    async with state.runtime.unit_of_work() as uow:
        try:
            complaint, survivor = await handlers.read_public(tracking_number, uow)
        except handlers.NotFound:
            raise HTTPException(404, "No public complaint with this tracking number") from None
    response.headers["Cache-Control"] = CACHE
    base = state.settings.public_base_url
    steps = [PublicStep(at=s.at, action=s.action, status=s.status, by=s.by, note=s.note)
             for s in public_timeline(complaint)]
    return PublicComplaintDetail(
        **_public(complaint, base).model_dump(), timeline=steps,
        merged_into=survivor.tracking_number if survivor else None)


def _public(c: Complaint, base: str) -> PublicComplaint:
    loc = None
    if c.location is not None:
        loc = PublicLocation(kecamatan=c.location.kecamatan, kelurahan=c.location.kelurahan)
        if not c.anonymous:
            loc.address = redact(c.location.address) if c.location.address else None
            loc.lat, loc.lon = c.location.lat, c.location.lon
    return PublicComplaint(
        tracking_number=c.tracking_number, title=redact(c.title), description=redact(c.description),
        category=c.category, jurisdiction=c.jurisdiction, channel=c.channel, status=c.status.value,
        assigned_opd=Opd(id=c.assigned_opd_id, name=c.assigned_opd_name or c.assigned_opd_id)
        if c.assigned_opd_id else None,
        location=loc, reporter="anonim" if c.anonymous else "pelapor",
        submitted_at=c.submitted_at, updated_at=c.updated_at or c.submitted_at,
        url=f"{base}/v1/public/complaints/{c.tracking_number}")
