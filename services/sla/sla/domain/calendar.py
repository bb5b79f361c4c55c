"""Working-day arithmetic in the jurisdiction's local time.

Working days are Monday to Friday (Perpres 21/2023) minus the given non-working dates; the full
national-holiday and cuti bersama calendar arrives in a later issue as that set. A deadline of
N working days falls at the end (23:59:59 local) of the N-th working day after the start day,
so a complaint disposed at 16:55 on a Friday loses no time to the weekend.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def is_working_day(day: date, non_working: Collection[date] = ()) -> bool:
    return day.weekday() < 5 and day not in non_working


def add_working_days(start: date, days: int, non_working: Collection[date] = ()) -> date:
    """The date `days` working days after `start` (start itself never counts)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current, non_working):
            remaining -= 1
    return current


def deadline(start: datetime, working_days: int, tz: str,
             non_working: Collection[date] = ()) -> datetime:
    """End of the N-th working day after `start`, in `tz`, returned as an aware datetime."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    zone = ZoneInfo(tz)
    local_day = start.astimezone(zone).date()
    due_day = add_working_days(local_day, working_days, non_working)
    return datetime.combine(due_day, time(23, 59, 59), tzinfo=zone)
