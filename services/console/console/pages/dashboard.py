"""Each OPD's record over a chosen period, at a glance: complaints received, the share answered
on time, the median time to a first response, open breaches and the average rating, as bar
charts and a table, and the same figures as sla's CSV. OPD staff see their own OPD's line (sla
scopes the figures by the token); operators every OPD of their jurisdiction."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from console.directory import Place
from console.domain.charts import MEASURES, chart
from console.pages.common import render
from console.session import Session, current_session

router = APIRouter()
SignedIn = Annotated[Session, Depends(current_session)]
Jurisdiction = Annotated[str | None, Query(pattern=r"^[a-z0-9-]{1,60}$")]
DEFAULT_DAYS = 30


def _period(zone, from_: date | None, to: date | None) -> tuple[date, date]:
    """[from, to], both days included as people say it; sla's `to` is the day after."""
    today = datetime.now(zone).date()
    to = to or today
    from_ = from_ or to - timedelta(days=DEFAULT_DAYS - 1)
    if from_ > to:
        from_, to = to, from_
    return from_, to


async def _scope(request: Request, session: Session, jurisdiction: str | None,
                 from_: date | None, to: date | None) -> tuple[Place, date, date]:
    """Whose figures and which days: the token's jurisdiction (else the one asked, else the
    default), over the period in that jurisdiction's own days."""
    where = session.who.jurisdiction or jurisdiction or request.app.state.settings.default_jurisdiction
    place = await request.app.state.directory.place(where)
    return (place, *_period(ZoneInfo(place.timezone), from_, to))


@router.get("/dashboard")
async def dashboard(request: Request, session: SignedIn, jurisdiction: Jurisdiction = None,
                    from_: Annotated[date | None, Query(alias="from")] = None,
                    to: Annotated[date | None, Query()] = None) -> Response:
    place, start, end = await _scope(request, session, jurisdiction, from_, to)
    figures = await request.app.state.platform.figures(session.token, place.id, start,
                                                       end + timedelta(days=1))
    rows = figures["opds"]
    names = place.opd_names
    return await render(
        request, "dashboard.html", session, title_key="dash.title", place=place,
        places=await request.app.state.directory.jurisdictions(), start=start, end=end, rows=rows, names=names,
        charts=[chart(key, rows, names) for key in MEASURES])


@router.get("/dashboard.csv")
async def dashboard_csv(request: Request, session: SignedIn, jurisdiction: Jurisdiction = None,
                        from_: Annotated[date | None, Query(alias="from")] = None,
                        to: Annotated[date | None, Query()] = None) -> Response:
    place, start, end = await _scope(request, session, jurisdiction, from_, to)
    content, disposition = await request.app.state.platform.figures_csv(
        session.token, place.id, start, end + timedelta(days=1))
    return Response(content, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": disposition or f'attachment; filename="kinerja-{place.id}.csv"',
        "Cache-Control": "private, no-store"})
