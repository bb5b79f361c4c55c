"""HTTP API of working-day calendars: deadlines for front ends ("your complaint will be
verified by ..."), each jurisdiction's days off, and operators' changes when a later decree
moves, adds or removes a day, with their history.

`GET /v1/calendars/{jurisdiction}/deadline?start=<ISO 8601>&working_days=<N>` answers
`{"deadline": "2026-03-27T23:59:59+07:00", ...}`: the end (23:59:59 local) of the N-th working
day after the local day of `start`, counting from the next working day when `start` falls on a
day off. `start` needs an offset (`Z`, `+07:00`; a `+` that arrived as a space in an unencoded
query string is understood); a date alone means that day's start in the jurisdiction's time.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from backbone.problems import ProblemError
from backbone.staff_auth import StaffIdentity, operator_caller, require_jurisdiction
from sla.calendar_registry import CalendarRegistry, CalendarVersion
from sla.domain.calendar_spec import CalendarSpec, DayChange, build_calendar
from sla.versioned import DEFAULT, StaleVersion

router = APIRouter(prefix="/v1/calendars", tags=["calendars"])
JurisdictionId = Annotated[str, Path(pattern=r"^(\*|[a-z0-9]+(?:-[a-z0-9]+)*)$", max_length=60)]
MAX_WORKING_DAYS = 1000
MAX_RANGE_DAYS = 800


class Deadline(BaseModel):
    deadline: str = Field(description="ISO 8601 with the jurisdiction's offset")
    jurisdiction: str
    timezone: str
    start: str
    working_days: int
    day_zero: date = Field(description="The working day counted as day 0")
    calendar_version: int


class CalendarView(BaseModel):
    jurisdiction: str
    version: int
    source: str
    changed_by: str | None = None
    changed_at: datetime | None = None
    note: str | None = None
    calendar: dict
    uses_national: bool = Field(default=False, description="No calendar of its own")


class DayOff(BaseModel):
    date: date
    reason: str


class DayChangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    change: DayChange
    note: str = Field(min_length=3, max_length=500)
    based_on_version: int | None = Field(default=None, ge=0)


class CalendarChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    calendar: CalendarSpec
    note: str = Field(min_length=3, max_length=500)
    based_on_version: int | None = Field(default=None, ge=0)


def _registry(request: Request) -> CalendarRegistry:
    return request.app.state.calendars


async def _operator(request: Request) -> StaffIdentity:
    return await operator_caller(request)


Registry = Annotated[CalendarRegistry, Depends(_registry)]
Operator = Annotated[StaffIdentity, Depends(_operator)]


def _bad(field: str, message: str) -> ProblemError:
    return ProblemError(400, "bad-request", "A parameter is not valid", f"{field}: {message}",
                        errors=[{"field": field, "message": message}])


def parse_start(raw: str, zone) -> datetime:
    """ISO 8601 with an offset; a date alone is that day's 00:00 local."""
    text = raw.strip()
    unencoded = re.match(r"^(.*:.*) (\d{2}(?::?\d{2})?)$", text)
    if unencoded:                            # '+07:00' sent unencoded arrives as ' 07:00'
        text = f"{unencoded[1]}+{unencoded[2]}"
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=zone)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _bad("start", "not an ISO 8601 date-time, e.g. 2026-03-17T09:00:00+07:00") from None
    if moment.tzinfo is None:
        raise _bad("start", "give the offset (e.g. +07:00 or Z): a local time alone is ambiguous "
                            "across WIB, WITA and WIT")
    return moment


async def _in_force(registry: CalendarRegistry, jurisdiction: str) -> CalendarVersion:
    return registry.cached(jurisdiction) or await registry.current(jurisdiction) or \
        await registry.current(DEFAULT)


def _view(found: CalendarVersion, asked: str) -> CalendarView:
    return CalendarView(jurisdiction=asked, version=found.version, source=found.source,
                        changed_by=found.actor, changed_at=found.created_at, note=found.note,
                        calendar=found.spec.model_dump(mode="json", exclude_none=True),
                        uses_national=found.jurisdiction != asked)


@router.get("", response_model=list[CalendarView], summary="Every calendar (public)")
async def list_calendars(registry: Registry) -> list[CalendarView]:
    return [_view(v, v.jurisdiction) for v in await registry.all()]


@router.get("/{jurisdiction}", response_model=CalendarView,
            summary="A jurisdiction's calendar in force (public)")
async def get_calendar(jurisdiction: JurisdictionId, registry: Registry) -> CalendarView:
    return _view(await _in_force(registry, jurisdiction), jurisdiction)


@router.get("/{jurisdiction}/deadline", response_model=Deadline,
            summary="N working days after a moment, in the jurisdiction's calendar (public)")
async def get_deadline(
    jurisdiction: JurisdictionId, registry: Registry,
    start: Annotated[str, Query(max_length=64, description="ISO 8601 with offset, or a date")],
    working_days: Annotated[str, Query(max_length=8)],
) -> Deadline:
    try:
        n = int(working_days)
    except ValueError:
        raise _bad("working_days", "a whole number of working days") from None
    if not 0 <= n <= MAX_WORKING_DAYS:
        raise _bad("working_days", f"from 0 to {MAX_WORKING_DAYS}")
    found = await _in_force(registry, jurisdiction)
    cal = await registry.calendar(jurisdiction)
    moment = parse_start(start, cal.zone)
    if not 2000 <= moment.year <= 2100:
        raise _bad("start", "a year from 2000 to 2100")
    due = cal.deadline(moment, n)
    return Deadline(deadline=due.isoformat(), jurisdiction=jurisdiction, timezone=cal.timezone,
                    start=moment.isoformat(), working_days=n,
                    day_zero=cal.day_zero(cal.local_date(moment)), calendar_version=found.version)


@router.get("/{jurisdiction}/non-working-days", response_model=list[DayOff],
            summary="Weekends, holidays and cuti bersama in a range (public)")
async def non_working_days(
    jurisdiction: JurisdictionId, registry: Registry,
    from_: Annotated[date, Query(alias="from")], to: Annotated[date, Query()],
    weekends: bool = False,
) -> list[DayOff]:
    if to < from_ or (to - from_) > timedelta(days=MAX_RANGE_DAYS):
        raise _bad("to", f"after from, at most {MAX_RANGE_DAYS} days later")
    cal = await registry.calendar(jurisdiction)
    return [DayOff(date=d, reason=r) for d, r in cal.non_working_days(from_, to)
            if weekends or d.weekday() < 5]


@router.post("/{jurisdiction}/days", response_model=CalendarView, status_code=201,
             summary="Add, move or remove a day by decree (operators): a new version")
async def change_day(jurisdiction: JurisdictionId, body: DayChangeRequest, registry: Registry,
                     who: Operator) -> CalendarView:
    require_jurisdiction(who, jurisdiction)
    base = (await _in_force(registry, jurisdiction)).spec
    if base.jurisdiction != jurisdiction:   # first change of a city on the national calendar
        base = base.model_copy(update={"jurisdiction": jurisdiction, "changes": base.changes})
    spec = base.with_change(body.change)
    return await _save(registry, spec, who, body.note, body.based_on_version, jurisdiction)


@router.put("/{jurisdiction}", response_model=CalendarView,
            summary="Replace a jurisdiction's calendar (operators): a new version")
async def put_calendar(jurisdiction: JurisdictionId, body: CalendarChange, registry: Registry,
                       who: Operator) -> CalendarView:
    require_jurisdiction(who, jurisdiction)
    if body.calendar.jurisdiction != jurisdiction:
        raise HTTPException(422, f"The calendar's jurisdiction must be {jurisdiction!r}, as in the path")
    return await _save(registry, body.calendar, who, body.note, body.based_on_version, jurisdiction)


@router.get("/{jurisdiction}/history", response_model=list[CalendarView],
            summary="Every version of a jurisdiction's calendar, newest first (operators)")
async def calendar_history(jurisdiction: JurisdictionId, registry: Registry,
                           who: Operator) -> list[CalendarView]:
    require_jurisdiction(who, jurisdiction)
    return [_view(v, jurisdiction) for v in await registry.history(jurisdiction)]


async def _save(registry, spec: CalendarSpec, who: StaffIdentity, note: str,
                based_on: int | None, jurisdiction: str) -> CalendarView:
    build_calendar(spec)   # a change that cannot be built is refused before it is stored
    try:
        saved = await registry.change(spec, actor=who.subject, note=note, expected_version=based_on)
    except StaleVersion as exc:
        raise HTTPException(409, str(exc)) from None
    return _view(saved, jurisdiction)
