"""Working-day arithmetic in a jurisdiction's local time. Pure: no I/O, no clock.

Working days are Monday to Friday (Perpres 21/2023) minus the calendar's non-working dates
(national holidays and cuti bersama, see `calendar_spec`). "N working days after T" is the end
(23:59:59 local) of the N-th working day after the local day of T; a T on a non-working day
counts from the next working day, which is day 0. So a complaint disposed at 16:55 on a Friday
loses no time to the weekend, and one sent on Saturday has until the end of Wednesday for 3.

Working time (for warnings, pauses and the per-OPD figures) is the office hours of working days
when the jurisdiction has them, else the whole of each working day. Alerts are delivered only
in the alert window of a working day: the office hours, else `alert_hours` (08:00 to 16:00).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_DAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
_END_OF_DAY = time(23, 59, 59)
# Less working time than this left in a day counts as none (a deadline ends with the day).
_DAY_END_SLACK = 60.0


class WorkingCalendar:
    """One jurisdiction's calendar: its zone, non-working dates and optional office hours."""

    def __init__(self, timezone: str, non_working: Mapping[date, str] | Collection[date] = (), *,
                 office_hours: Mapping[int, tuple[time, time]] | None = None,
                 alert_hours: tuple[time, time] = (time(8), time(16)),
                 jurisdiction: str | None = None, version: int = 0) -> None:
        self.timezone = timezone
        self.zone = ZoneInfo(timezone)
        self.non_working: dict[date, str] = (
            dict(non_working) if isinstance(non_working, Mapping)
            else {d: "Hari libur" for d in non_working})
        self.office_hours = dict(office_hours) if office_hours else None
        self.alert_hours = alert_hours
        self.jurisdiction = jurisdiction
        self.version = version

    # ---- days

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.non_working

    def non_working_reason(self, day: date) -> str | None:
        if day in self.non_working:
            return self.non_working[day]
        return _DAY_NAMES[day.weekday()] if day.weekday() >= 5 else None

    def non_working_days(self, start: date, end: date) -> list[tuple[date, str]]:
        """Every non-working day in [start, end], with why."""
        found, day = [], start
        while day <= end:
            reason = self.non_working_reason(day)
            if reason:
                found.append((day, reason))
            day += timedelta(days=1)
        return found

    def day_zero(self, day: date) -> date:
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, n: int) -> date:
        """The N-th working day after `day` (day 0 is `day`, or the next working day)."""
        if n < 0:
            raise ValueError("working days must not be negative")
        current = self.day_zero(day)
        while n:
            current += timedelta(days=1)
            if self.is_working_day(current):
                n -= 1
        return current

    def local_date(self, moment: datetime) -> date:
        if moment.tzinfo is None:
            raise ValueError("a moment must be timezone-aware")
        return moment.astimezone(self.zone).date()

    def end_of_day(self, day: date) -> datetime:
        return datetime.combine(day, _END_OF_DAY, tzinfo=self.zone)

    def deadline(self, start: datetime, n: int) -> datetime:
        """23:59:59 local of the N-th working day after the local day of `start`."""
        return self.end_of_day(self.add_working_days(self.local_date(start), n))

    # ---- working time

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        """The working time of `day`, or None on a non-working day."""
        if not self.is_working_day(day):
            return None
        if self.office_hours is not None:
            hours = self.office_hours.get(day.weekday())
            if hours is None:
                return None
            return (datetime.combine(day, hours[0], tzinfo=self.zone),
                    datetime.combine(day, hours[1], tzinfo=self.zone))
        return (datetime.combine(day, time(0), tzinfo=self.zone),
                datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone))

    def working_seconds(self, a: datetime, b: datetime) -> float:
        """Working time in [a, b), in seconds."""
        if b <= a:
            return 0.0
        total, day, last = 0.0, self.local_date(a), self.local_date(b)
        while day <= last:
            window = self._window(day)
            if window is not None:
                lo, hi = max(a, window[0]), min(b, window[1])
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total

    def add_working_seconds(self, t: datetime, seconds: float) -> datetime:
        """The earliest moment by which `seconds` of working time have passed since `t`."""
        if seconds <= 0:
            return t
        day = self.local_date(t)
        for _ in range(366 * 20):
            window = self._window(day)
            if window is not None and window[1] > t:
                begin = max(t, window[0])
                available = (window[1] - begin).total_seconds()
                if seconds <= available:
                    return begin + timedelta(seconds=seconds)
                seconds -= available
            day += timedelta(days=1)
        raise ValueError("no working time for twenty years: is every day a holiday?")

    def deadline_after(self, t: datetime, seconds: float) -> datetime:
        """A deadline `seconds` of working time after `t` (a resumed clock's): ending with a
        day's working time, it is that day's 23:59:59, as a deadline in working days is."""
        end = self.add_working_seconds(t, seconds)
        local = end.astimezone(self.zone)
        if seconds > 0 and local.time() == time(0) and end > t:
            before = self._window(local.date() - timedelta(days=1))
            if before is not None and before[1] == end:   # it used up the day before: that day's end
                return self.end_of_day(local.date() - timedelta(days=1))
        midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=self.zone)
        if self.working_seconds(end, midnight) < _DAY_END_SLACK:
            return self.end_of_day(local.date())
        return end

    # ---- when alerts may be delivered

    def alert_window(self, day: date) -> tuple[datetime, datetime] | None:
        if not self.is_working_day(day):
            return None
        if self.office_hours is not None:
            return self._window(day)
        return (datetime.combine(day, self.alert_hours[0], tzinfo=self.zone),
                datetime.combine(day, self.alert_hours[1], tzinfo=self.zone))

    def next_alert_time(self, t: datetime) -> datetime:
        """`t` when it falls in a working day's alert window, else the window's next opening:
        never at night, never on a day off."""
        day = self.local_date(t)
        for _ in range(366 * 20):
            window = self.alert_window(day)
            if window is not None and t < window[1]:
                return max(t, window[0])
            day += timedelta(days=1)
        raise ValueError("no working day for twenty years")


# ---- the plain functions of the first issue, kept for callers that hold no calendar

def is_working_day(day: date, non_working: Collection[date] = ()) -> bool:
    return day.weekday() < 5 and day not in non_working


def add_working_days(start: date, days: int, non_working: Collection[date] = ()) -> date:
    return WorkingCalendar("UTC", non_working).add_working_days(start, days)


def deadline(start: datetime, working_days: int, tz: str,
             non_working: Collection[date] = ()) -> datetime:
    return WorkingCalendar(tz, non_working).deadline(start, working_days)
