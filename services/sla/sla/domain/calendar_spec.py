"""A jurisdiction's calendar as a document (a file in `sla/calendars/`, or an operator's change
through the API), and how it becomes a `WorkingCalendar`.

Non-working days come from the `holidays` package (Indonesia: national holidays, and cuti
bersama in its "government" category, both from the yearly joint decree), then the document's
`changes` apply in order: a later decree moves an Islamic holiday (`move`), adds a day (`add`:
e.g. 18 August 2025, or a regional holiday) or cancels one (`remove`). A holiday on a weekend is
not a second day off: nothing is substituted.
"""

from __future__ import annotations

import json
from datetime import date, time
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sla.domain.calendar import WorkingCalendar

_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4}
YEARS = range(2020, 2041)


def _hours(value: str) -> tuple[time, time]:
    try:
        start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError:
        raise ValueError(f"{value!r}: write hours as HH:MM-HH:MM") from None
    if end <= start:
        raise ValueError(f"{value!r}: the end must come after the start")
    return start, end


class DayChange(BaseModel):
    """One decree's effect on the calendar."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    op: Literal["add", "remove", "move"]
    date: date
    to: date | None = Field(default=None, description="move: the new date")
    name: str | None = Field(default=None, max_length=200)
    kind: Literal["holiday", "cuti_bersama", "local"] = "holiday"
    decree: str | None = Field(default=None, max_length=200, description="SKB or Keppres number")
    note: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _move_needs_a_target(self) -> "DayChange":
        if (self.op == "move") != (self.to is not None):
            raise ValueError("`to` is for a move, and a move needs it")
        if self.to == self.date:
            raise ValueError("a move needs another date")
        if self.op == "add" and not self.name:
            raise ValueError("an added day needs its name")
        return self


class CalendarSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    jurisdiction: str = Field(pattern=r"^(\*|[a-z0-9]+(?:-[a-z0-9]+)*)$", max_length=60,
                              description="'*' is the national calendar")
    timezone: str = Field(description="Asia/Jakarta (WIB), Asia/Makassar (WITA), Asia/Jayapura (WIT)")
    office_hours: dict[str, str] | None = Field(
        default=None, description="Per weekday (mon..fri), e.g. '07:30-16:00'; unset: whole days")
    alert_hours: str = Field(default="08:00-16:00",
                             description="When alerts are delivered if there are no office hours")
    include_cuti_bersama: bool = True
    changes: tuple[DayChange, ...] = Field(default=(), max_length=2000,
                                           description="Later decrees, applied in order")
    note: str | None = Field(default=None, max_length=500)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("office_hours")
    @classmethod
    def _weekdays(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for day, hours in (value or {}).items():
            if day not in _WEEKDAYS:
                raise ValueError(f"office hours are for mon..fri, not {day!r}")
            _hours(hours)
        return value

    @field_validator("alert_hours")
    @classmethod
    def _alert_hours(cls, value: str) -> str:
        _hours(value)
        return value

    def with_change(self, change: DayChange) -> "CalendarSpec":
        return self.model_copy(update={"changes": (*self.changes, change)})


def national_days(include_cuti_bersama: bool) -> dict[date, str]:
    return _national(include_cuti_bersama).copy()


@lru_cache(maxsize=2)
def _national(include_cuti_bersama: bool) -> dict[date, str]:
    categories = ("public", "government") if include_cuti_bersama else ("public",)
    found = holidays.country_holidays("ID", years=YEARS, categories=categories, language="id")
    return dict(found.items())


def build_calendar(spec: CalendarSpec, version: int = 0) -> WorkingCalendar:
    """The calendar a document describes (cached: documents are few and immutable)."""
    return _build(spec.model_dump_json(), version)


@lru_cache(maxsize=256)
def _build(spec_json: str, version: int) -> WorkingCalendar:
    spec = CalendarSpec.model_validate(json.loads(spec_json))
    days = national_days(spec.include_cuti_bersama)
    for change in spec.changes:
        if change.op == "add":
            days[change.date] = change.name or "Hari libur"
        elif change.op == "remove":
            days.pop(change.date, None)
        else:
            name = days.pop(change.date, None) or change.name or "Hari libur"
            days[change.to] = change.name or name   # type: ignore[index]
    office = None
    if spec.office_hours:
        office = {_WEEKDAYS[d]: _hours(h) for d, h in spec.office_hours.items()}
    return WorkingCalendar(spec.timezone, days, office_hours=office,
                           alert_hours=_hours(spec.alert_hours),
                           jurisdiction=spec.jurisdiction, version=version)
