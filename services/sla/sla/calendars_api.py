"""HTTP API of working-day calendars: deadlines for front ends ("your complaint will be
verified by ..."), each jurisdiction's days off, and operators' changes when a later decree
moves, adds or removes a day, with their history. Routes only translate: the arithmetic is
`WorkingCalendar`'s, the versions the registry's (`request.app.state.calendars`).

`GET /v1/calendars/{jurisdiction}/deadline?start=<ISO 8601>&working_days=<N>` answers
`{"deadline": "2026-03-27T23:59:59+07:00", ...}`: the end (23:59:59 local) of the N-th working
day after the local day of `start`, counting from the next working day when `start` falls on a
day off. `start` is read liberally: `Z` or any offset, fractional seconds, a `+` that arrived as
a space (an unencoded query string), a date alone (that day's 00:00 in the jurisdiction's
time). A date-time without an offset is refused (400, saying why) rather than guessed: the
same wall-clock time is three different instants in WIB, WITA and WIT, and a front end that
forgot the offset should learn it, not get a deadline a day off near midnight.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from backbone.problems import ProblemError
from backbone.staff_auth import StaffIdentity, operator_caller, require_jurisdiction
from sla.calendar_registry import CalendarRegistry, CalendarVersion, FixedCalendars, StaleVersion
from sla.domain.calendar_spec import CalendarSpec, DayChange, build_calendar

JurisdictionId = Annotated[str, Path(pattern=r"^(\*|[a-z0-9]+(?:-[a-z0-9]+)*)$", max_length=60)]
MAX_WORKING_DAYS = 1000
MAX_RANGE_DAYS = 800
YEARS = (2000, 2100)
_UNENCODED_PLUS = re.compile(r"^(.+T?\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?) (\d{2}(?::?\d{2})?)$")


class Deadline(BaseModel):
    deadline: str = Field(description="ISO 8601 with the jurisdiction's offset")
    jurisdiction: str
    timezone: str
    start: str = Field(description="The start as understood, ISO 8601")
    working_days: int
    day_zero: date = Field(description="The working day counted as day 0")
    calendar_version: int
    uses_national: bool = Field(description="The jurisdiction has no calendar of its own")


class CalendarView(BaseModel):
    jurisdiction: str
    timezone: str
    version: int
    source: str = Field(description="file or api (an operator's change)")
    changed_at: datetime | None = None
    calendar: dict
    uses_national: bool = Field(default=False, description="No calendar of its own")


class CalendarHistoryEntry(CalendarView):
    changed_by: str | None = None
    note: str | None = None


class DayOff(BaseModel):
    date: date
    reason: str


class DayChangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    change: DayChange
    note: str = Field(min_length=3, max_length=500, description="Why (for the history)")
    based_on_version: int | None = Field(
        default=None, ge=0, description="The version this change was made on: 409 if another "
                                        "change came first")


class CalendarChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    calendar: CalendarSpec
    note: str = Field(min_length=3, max_length=500)
    based_on_version: int | None = Field(default=None, ge=0)


Store = CalendarRegistry | FixedCalendars


def _registry(request: Request) -> Store:
    return request.app.state.calendars


async def _operator(request: Request) -> StaffIdentity:
    return await operator_caller(request)


Registry = Annotated[Store, Depends(_registry)]
Operator = Annotated[StaffIdentity, Depends(_operator)]


def _bad(field: str, message: str, status: int = 400) -> ProblemError:
    slug = "bad-request" if status == 400 else "unprocessable"
    title = "A parameter is not valid" if status == 400 else "The change cannot be applied"
    return ProblemError(status, slug, title, f"{field}: {message}",
                        errors=[{"field": field, "message": message}])


def parse_start(raw: str, zone) -> datetime:
    """ISO 8601 with an offset (`Z`, `+07:00`, `+0700`, a `+` turned into a space); a date
    alone is that day's 00:00 in `zone`."""
    text = raw.strip()
    unencoded = _UNENCODED_PLUS.match(text)
    if unencoded:
        text = f"{unencoded[1]}+{unencoded[2]}"
    if text[-1:] in ("z", "Z"):
        text = text[:-1] + "+00:00"
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=zone)
        moment = datetime.fromisoformat(text.replace(",", "."))
    except ValueError:
        raise _bad("start", "not an ISO 8601 date or date-time, e.g. 2026-03-17T09:00:00+07:00 "
                            "or 2026-03-17") from None
    if moment.tzinfo is None:
        raise _bad("start", "give the offset (e.g. +07:00 or Z): the same local time is a "
                            "different instant in WIB, WITA and WIT")
    return moment


def _working_days(raw: str) -> int:
    if not re.fullmatch(r"\s*[0-9]{1,4}\s*", raw) or int(raw) > MAX_WORKING_DAYS:
        raise _bad("working_days", f"a whole number from 0 to {MAX_WORKING_DAYS}")
    return int(raw)


def _view(found: CalendarVersion, asked: str) -> CalendarView:
    return CalendarView(jurisdiction=asked, timezone=found.spec.timezone, version=found.version,
                        source=found.source, changed_at=found.created_at,
                        calendar=found.spec.model_dump(mode="json", exclude_none=True),
                        uses_national=found.jurisdiction != asked)


def _entry(found: CalendarVersion) -> CalendarHistoryEntry:
    return CalendarHistoryEntry(**_view(found, found.jurisdiction).model_dump(),
                                changed_by=found.actor, note=found.note)


def calendars_router() -> APIRouter:
    router = APIRouter(prefix="/v1/calendars", tags=["calendars"])

    @router.get("", response_model=list[CalendarView],
                summary="Every calendar of its own, and the national one ('*') (public)")
    async def list_calendars(registry: Registry) -> list[CalendarView]:
        return [_view(v, v.jurisdiction) for v in await registry.all()]

    @router.get("/{jurisdiction}", response_model=CalendarView,
                summary="A jurisdiction's calendar in force (public)")
    async def get_calendar(jurisdiction: JurisdictionId, registry: Registry) -> CalendarView:
        found, _ = await registry.in_force(jurisdiction)
        return _view(found, jurisdiction)

    @router.get("/{jurisdiction}/deadline", response_model=Deadline,
                summary="N working days after a moment, in the jurisdiction's calendar (public)")
    async def get_deadline(
        jurisdiction: JurisdictionId, registry: Registry,
        start: Annotated[str, Query(min_length=1, max_length=64,
                                    description="ISO 8601 with offset, or a date")],
        working_days: Annotated[str, Query(max_length=8, description="0 to 1000")],
    ) -> Deadline:
        n = _working_days(working_days)
        found, cal = await registry.in_force(jurisdiction)
        moment = parse_start(start, cal.zone)
        if not YEARS[0] <= moment.year <= YEARS[1]:
            raise _bad("start", f"a year from {YEARS[0]} to {YEARS[1]}")
        due = cal.deadline(moment, n)
        return Deadline(deadline=due.isoformat(), jurisdiction=jurisdiction,
                        timezone=cal.timezone, start=moment.isoformat(), working_days=n,
                        day_zero=cal.day_zero(cal.local_date(moment)),
                        calendar_version=found.version,
                        uses_national=found.jurisdiction != jurisdiction)

    @router.get("/{jurisdiction}/non-working-days", response_model=list[DayOff],
                summary="Holidays and cuti bersama in a range, weekends on request (public)")
    async def non_working_days(
        jurisdiction: JurisdictionId, registry: Registry,
        from_: Annotated[date, Query(alias="from")], to: Annotated[date, Query()],
        weekends: bool = False,
    ) -> list[DayOff]:
        if to < from_:
            raise _bad("to", "on or after from")
        if to - from_ > timedelta(days=MAX_RANGE_DAYS):
            raise _bad("to", f"at most {MAX_RANGE_DAYS} days after from")
        cal = await registry.calendar(jurisdiction)
        return [DayOff(date=d, reason=r) for d, r in cal.non_working_days(from_, to)
                if weekends or d in cal.non_working]

    @router.post("/{jurisdiction}/days", response_model=CalendarHistoryEntry, status_code=201,
                 summary="Add, move or remove a day by decree (operators): a new version")
    async def change_day(jurisdiction: JurisdictionId, body: DayChangeRequest,
                         registry: Registry, who: Operator) -> CalendarHistoryEntry:
        require_jurisdiction(who, jurisdiction)
        found, cal = await registry.in_force(jurisdiction)
        _check_based_on(found, body.based_on_version)
        change = body.change
        if change.op in ("remove", "move") and change.date not in cal.non_working:
            raise _bad("change.date", f"{change.date} is not a holiday or cuti bersama in this "
                                      "calendar", status=422)
        # the first change of a jurisdiction on the national calendar starts its own from it
        spec = found.spec.model_copy(update={"jurisdiction": jurisdiction}).with_change(change)
        return await _save(registry, spec, who, body.note, body.based_on_version, found)

    @router.put("/{jurisdiction}", response_model=CalendarHistoryEntry,
                summary="Replace a jurisdiction's calendar (operators): a new version")
    async def put_calendar(jurisdiction: JurisdictionId, body: CalendarChange,
                           registry: Registry, who: Operator) -> CalendarHistoryEntry:
        require_jurisdiction(who, jurisdiction)
        if body.calendar.jurisdiction != jurisdiction:
            raise _bad("calendar.jurisdiction", f"must be {jurisdiction!r}, as in the path",
                       status=422)
        found, _ = await registry.in_force(jurisdiction)
        _check_based_on(found, body.based_on_version)
        return await _save(registry, body.calendar, who, body.note, body.based_on_version, found)

    @router.get("/{jurisdiction}/history", response_model=list[CalendarHistoryEntry],
                summary="Every version of a jurisdiction's calendar, newest first (operators)")
    async def calendar_history(jurisdiction: JurisdictionId, registry: Registry,
                               who: Operator) -> list[CalendarHistoryEntry]:
        require_jurisdiction(who, jurisdiction)
        return [_entry(v) for v in await registry.history(jurisdiction)]

    return router


async def _save(registry: Store, spec: CalendarSpec, who: StaffIdentity, note: str,
                based_on: int | None, found: CalendarVersion) -> CalendarHistoryEntry:
    build_calendar(spec)   # a change that cannot be built is refused before it is stored
    # still on the national calendar, it was based on the national version (checked already);
    # on its own, the store checks again in the transaction that saves it
    expected = based_on if found.jurisdiction == spec.jurisdiction else None
    try:
        saved = await registry.change(spec, actor=who.subject, note=note,
                                      expected_version=expected)
    except StaleVersion:
        raise _stale(based_on, None) from None
    return _entry(saved)


def _check_based_on(found: CalendarVersion, based_on: int | None) -> None:
    if based_on is not None and based_on != found.version:
        raise _stale(based_on, found.version)


def _stale(based_on: int | None, newest: int | None) -> ProblemError:
    return ProblemError(409, "conflict", "The calendar changed meanwhile",
                        f"version {based_on} is no longer the newest"
                        + (f" ({newest} is)" if newest is not None else "")
                        + ": read it again and redo the change on it")


router = calendars_router()
