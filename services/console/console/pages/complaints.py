"""Any complaint: the search with its filters, the detail (facts, reporter when the services
show one, attachments, timeline, routing's decision and duplicates for operators) and the
actions intake allows this person now, each one form posted back here and passed to intake's
one action route with the person's token."""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime, time
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from console.adapters.platform import NotFound, Refused
from contracts.lifecycle import Status
from console.domain.action_forms import ARCHIVE_REASONS, BadForm, body_of, forms_for
from console.pages.common import render, words_for
from console.pages.signin import _safe_next
from console.session import Session, check_csrf, current_session

router = APIRouter()
SignedIn = Annotated[Session, Depends(current_session)]
TrackingNumber = Annotated[str, Path(pattern=r"^[0-9]{1,20}$")]
STATUSES = tuple(s.value for s in Status)


@router.get("/complaints")
async def search(
    request: Request, session: SignedIn,
    q: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(max_length=30)] = None,
    opd: Annotated[str | None, Query(max_length=80)] = None,
    category: Annotated[str | None, Query(max_length=80)] = None,
    overdue: Annotated[str | None, Query(max_length=5)] = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Annotated[date | None, Query()] = None,
    sort: Annotated[str, Query(pattern="^(newest|oldest|due)$")] = "newest",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    t = await words_for(request, session)
    place = await request.app.state.directory.place(session.who.jurisdiction)
    params = {"q": q, "status": status if status in STATUSES else None,
              "opd": opd if session.is_operator else None, "category": category,
              "overdue": "true" if overdue else None, "sort": sort, "page": page,
              "page_size": request.app.state.settings.page_size,
              "submitted_from": _local(from_, t.zone), "submitted_to": _local(to, t.zone)}
    found = await request.app.state.platform.complaints(session.token, **params)
    shown = {k: v for k, v in {"q": q, "status": status, "opd": opd, "category": category,
                               "overdue": overdue, "from": from_, "to": to, "sort": sort}.items() if v}
    return await render(request, "complaints.html", session, title_key="complaints.title",
                        found=found, filters=shown, statuses=STATUSES, opds=place.opds,
                        page=page, page_link=lambda n: "/complaints?" + urlencode({**shown, "page": n}))


def _local(day: date | None, zone) -> str | None:
    return datetime.combine(day, time(0), tzinfo=zone).isoformat() if day else None


@router.get("/complaints/{tracking_number}")
async def detail(tracking_number: TrackingNumber, request: Request, session: SignedIn) -> Response:
    return await _detail(request, session, tracking_number)


async def _detail(request: Request, session: Session, tracking_number: str, *,
                  problem: dict | None = None, status: int = 200) -> Response:
    platform = request.app.state.platform
    complaint = await platform.complaint(session.token, tracking_number)
    place = await request.app.state.directory.place(complaint["jurisdiction"])
    routing = duplicates = None
    if session.is_operator:
        records, duplicates = await asyncio.gather(
            platform.routings(session.token, [tracking_number]),
            platform.duplicates_of(session.token, tracking_number))
        routing = records.get(tracking_number)
    return await render(
        request, "complaint.html", session, title_key="detail.title", status=status,
        c=complaint, forms=forms_for(complaint["allowed_actions"]), opds=place.opds,
        opd_names=place.opd_names, archive_reasons=ARCHIVE_REASONS, routing=routing,
        duplicates=[p for p in duplicates or () if p["status"] == "open"], problem=problem)


@router.post("/complaints/{tracking_number}/act")
async def act(tracking_number: TrackingNumber, request: Request, session: SignedIn) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    check_csrf(session, form.get("csrf"))
    # The complaint's own jurisdiction names the OPDs (each form carries it); else the token's.
    where = form.get("jurisdiction", "")
    place = await request.app.state.directory.place(
        where if re.fullmatch(r"[a-z0-9-]{1,60}", where) else session.who.jurisdiction)
    target = _safe_next(form.get("next") or f"/complaints/{tracking_number}")
    try:
        body = body_of(form.get("form", ""), form, place.opd_names)
        await request.app.state.platform.act(session.token, tracking_number, body)
    except BadForm as exc:
        return await _detail(request, session, tracking_number, status=422, problem={
            "title": "error.form", "field": str(exc)})
    except NotFound:
        raise
    except Refused as exc:
        return await _detail(request, session, tracking_number, status=exc.status,
                             problem=exc.problem)
    glue = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{glue}done={form.get('form')}", 303)


@router.post("/duplicates/{pair_id}/dismiss")
async def dismiss(pair_id: Annotated[int, Path(ge=1)], request: Request, session: SignedIn) -> Response:
    form = await request.form()
    check_csrf(session, form.get("csrf"))
    await request.app.state.platform.dismiss_duplicate(session.token, pair_id)
    target = _safe_next(str(form.get("next") or "/duplicates"))
    return RedirectResponse(f"{target}{'&' if '?' in target else '?'}done=dismissed", 303)


@router.get("/complaints/{tracking_number}/attachments/{attachment_id}")
async def attachment(tracking_number: TrackingNumber,
                     attachment_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,64}$")],
                     request: Request, session: SignedIn) -> Response:
    content, kind = await request.app.state.platform.attachment(session.token, tracking_number,
                                                                attachment_id)
    return Response(content, media_type=kind, headers={
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; media-src 'self'",
        "Content-Disposition": "inline"})
