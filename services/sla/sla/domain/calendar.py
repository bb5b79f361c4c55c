"""Working-day arithmetic in a jurisdiction's local time. Pure: no I/O, no clock.

Working days are Monday to Friday (Perpres 21/2023) minus the calendar's non-working dates
(national holidays and cuti bersama, see `calendar_spec`). "N working days after T" is the end
(23:59:59 local) of the N-th working day after the local day of T; a T on a non-working day
counts from the next working day, which is day 0. So a complaint disposed at 16:55 on a Friday
loses no time to the weekend, and one sent on Saturday has until the end of Wednesday for 3.

Working time (for warnings, pauses and the per-OPD figures) is the office hours of working days
when the jurisdiction has them, else the whole of each working day, measured on the local wall
clock (WIB, WITA and WIT have had no daylight saving since 1964). Alerts are delivered only in
the alert window of a working day: the office hours, else `alert_hours` (08:00 to 16:00).

Why it is fast: clocks ask for deadlines per event and a benchmark gives a million clocks theirs,
so nothing here walks day by day. Weekdays are numbered consecutively ("weekday ranks": Monday
1 January of year 1 is 0, the Friday after it 4, the next Monday 5), which makes the weeks
closed-form arithmetic; the holidays that fall on weekdays are a sorted list of ranks, so the
working days or working time before any day is that arithmetic minus one `bisect`, and its
inverse (the day in which an amount is reached) is a short fixed-point iteration over the same
list. Working time is counted in integer microseconds, so adding and measuring agree exactly.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Collection, Mapping
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import accumulate
from types import MappingProxyType
from zoneinfo import ZoneInfo

_DAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
_END_OF_DAY = time(23, 59, 59)
_US = 1_000_000                      # microseconds in a second
_WHOLE_DAY = (0, 86_400 * _US)
# Less working time than this left in a day counts as none (a deadline ends with the day).
_DAY_END_SLACK = 60 * _US


def _rank(ordinal: int) -> int:
    """The weekday rank of the day, or of the Monday after it when it falls on a weekend."""
    weeks, day = divmod(ordinal - 1, 7)
    return 5 * weeks + min(day, 5)


def _date(rank: int) -> date:
    weeks, day = divmod(rank, 5)
    return date.fromordinal(1 + 7 * weeks + day)


def _micros(moment: time) -> int:
    return ((moment.hour * 60 + moment.minute) * 60 + moment.second) * _US + moment.microsecond


class _Ledger:
    """A quantity accumulated over weekday ranks: weekday w weighs `lengths[w]` (1 to count
    days, the working microseconds of its window to measure time), a closed rank weighs 0."""

    __slots__ = ("_week", "_prefix", "_closed", "_closed_prefix")

    def __init__(self, lengths: tuple[int, ...], closed: list[int]) -> None:
        self._week = sum(lengths)
        if self._week <= 0:
            raise ValueError("a working week needs some working time")
        self._prefix = list(accumulate(lengths, initial=0))
        self._closed = closed
        self._closed_prefix = list(accumulate((lengths[r % 5] for r in closed), initial=0))

    def before(self, rank: int) -> int:
        """The amount accumulated by the ranks below `rank`."""
        weeks, day = divmod(rank, 5)
        return (weeks * self._week + self._prefix[day]
                - self._closed_prefix[bisect_left(self._closed, rank)])

    def reaching(self, amount: int, below: int = -1) -> int:
        """The smallest rank r with before(r + 1) >= amount > 0: the day in which `amount` is
        reached. Iterating from below converges on it (each step adds the closed days the
        previous guess covered; the steps only grow, and never past the answer); `below`, a rank
        known to come before the answer, saves the steps over the closed days before it."""
        rank = below
        while True:
            covered = self._closed_prefix[bisect_right(self._closed, rank)]
            following = self._open_reaching(amount + covered)
            if following == rank:
                return rank
            rank = following

    def _open_reaching(self, amount: int) -> int:
        """As `reaching`, ignoring closed days."""
        weeks = -(-amount // self._week) - 1           # whole weeks strictly below `amount`
        day = bisect_left(self._prefix, amount - weeks * self._week, 1)
        return 5 * weeks + day - 1


class WorkingCalendar:
    """One jurisdiction's calendar: its zone, non-working dates and optional office hours.
    Immutable; build it once per calendar version and share it."""

    __slots__ = ("timezone", "zone", "non_working", "office_hours", "alert_hours",
                 "jurisdiction", "version", "_windows", "_closed", "_days", "_time")

    def __init__(self, timezone: str, non_working: Mapping[date, str] | Collection[date] = (), *,
                 office_hours: Mapping[int, tuple[time, time]] | None = None,
                 alert_hours: tuple[time, time] = (time(8), time(16)),
                 jurisdiction: str | None = None, version: int = 0) -> None:
        self.timezone = timezone
        self.zone = ZoneInfo(timezone)
        days = (dict(non_working) if isinstance(non_working, Mapping)
                else dict.fromkeys(non_working, "Hari libur"))
        self.non_working: Mapping[date, str] = MappingProxyType(days)
        for start, end in [alert_hours, *(office_hours or {}).values()]:
            if end <= start:
                raise ValueError(f"hours must end after they start: {start}-{end}")
        if office_hours and not set(office_hours) <= set(range(5)):
            raise ValueError("office hours are for weekdays 0 (Monday) to 4 (Friday)")
        self.office_hours = MappingProxyType(dict(office_hours)) if office_hours else None
        self.alert_hours = alert_hours
        self.jurisdiction = jurisdiction
        self.version = version
        self._windows = tuple(
            _WHOLE_DAY if self.office_hours is None
            else tuple(map(_micros, self.office_hours[w])) if w in self.office_hours else (0, 0)
            for w in range(5))
        # a holiday on a weekend is not a second day off: only weekdays close a rank
        self._closed = sorted(_rank(d.toordinal()) for d in days if d.weekday() < 5)
        self._days = _Ledger((1,) * 5, self._closed)
        self._time = _Ledger(tuple(end - start for start, end in self._windows), self._closed)

    def __repr__(self) -> str:
        return (f"WorkingCalendar({self.timezone!r}, jurisdiction={self.jurisdiction!r}, "
                f"version={self.version}, {len(self.non_working)} days off)")

    # ---- days

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.non_working

    def non_working_reason(self, day: date) -> str | None:
        """Why `day` is off ("Sabtu", "Minggu", the holiday's name), or None on a working day."""
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
        """`day` when it is a working day, else the next working day."""
        return self.add_working_days(day, 0)

    def add_working_days(self, day: date, n: int) -> date:
        """The N-th working day after `day` (day 0 is `day`, or the next working day)."""
        if n < 0:
            raise ValueError("working days must not be negative")
        if n == 0 and self.is_working_day(day):
            return day
        rank = _rank(day.toordinal())
        first = self._days.before(rank)                      # working days before day 0
        return _date(self._days.reaching(first + n + 1, below=rank - 1))

    def local_date(self, moment: datetime) -> date:
        return self._local(moment).date()

    def end_of_day(self, day: date) -> datetime:
        return datetime.combine(day, _END_OF_DAY, tzinfo=self.zone)

    def deadline(self, start: datetime, n: int) -> datetime:
        """23:59:59 local of the N-th working day after the local day of `start`."""
        return self.end_of_day(self.add_working_days(self.local_date(start), n))

    # ---- working time

    def working_seconds(self, a: datetime, b: datetime) -> float:
        """Working time in [a, b), in seconds (0 when b <= a)."""
        if b <= a:
            return 0.0
        return (self._position(b)[0] - self._position(a)[0]) / _US

    def add_working_seconds(self, t: datetime, seconds: float) -> datetime:
        """The earliest moment by which `seconds` of working time have passed since `t`."""
        step = round(seconds * _US)
        if step <= 0:
            return t
        position, rank = self._position(t)
        moment, _ = self._reach(position + step, rank - 1)
        return moment

    def deadline_after(self, t: datetime, seconds: float) -> datetime:
        """A deadline `seconds` of working time after `t` (a resumed clock's): when it leaves
        less than a minute of its day's working time, it is that day's 23:59:59, as a deadline
        in working days is; otherwise the moment itself."""
        step = round(seconds * _US)
        if step <= 0:
            moment, local = t, self._local(t)
            day, left = local.date(), self._left_in_day(local)
        else:
            position, rank = self._position(t)
            moment, (day, left) = self._reach(position + step, rank - 1)
        return self.end_of_day(day) if left < _DAY_END_SLACK else moment

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("a moment must be timezone-aware")
        return moment.astimezone(self.zone)

    def _position(self, moment: datetime) -> tuple[int, int]:
        """Working microseconds before `moment` since the start of the era, and the weekday
        rank of its local day (of the Monday after, on a weekend)."""
        local = self._local(moment)
        weeks, weekday = divmod(local.toordinal() - 1, 7)
        if weekday >= 5:
            return self._time.before(5 * weeks + 5), 5 * weeks + 5
        rank = 5 * weeks + weekday
        before = self._time.before(rank)
        if local.date() in self.non_working:
            return before, rank
        start, end = self._windows[weekday]
        return before + min(max(_micros(local.time()), start), end) - start, rank

    def _left_in_day(self, local: datetime) -> int:
        if not self.is_working_day(local.date()):
            return 0
        start, end = self._windows[local.weekday()]
        return end - min(max(_micros(local.time()), start), end)

    def _reach(self, position: int, below: int) -> tuple[datetime, tuple[date, int]]:
        """The earliest moment at `position`, with its working day and the time left in it."""
        rank = self._time.reaching(position, below)
        start, end = self._windows[rank % 5]
        within = position - self._time.before(rank)
        day = _date(rank)
        moment = datetime.combine(day, time(0), tzinfo=self.zone) + \
            timedelta(microseconds=start + within)
        return moment, (day, end - start - within)

    # ---- when alerts may be delivered

    def alert_window(self, day: date) -> tuple[datetime, datetime] | None:
        """When alerts may be delivered on `day` (None on a day off)."""
        if not self.is_working_day(day):
            return None
        if self.office_hours is not None:
            hours = self.office_hours.get(day.weekday())
            if hours is None:
                return None
        else:
            hours = self.alert_hours
        return (datetime.combine(day, hours[0], tzinfo=self.zone),
                datetime.combine(day, hours[1], tzinfo=self.zone))

    def next_alert_time(self, t: datetime) -> datetime:
        """`t` when it falls in a working day's alert window, else the window's next opening:
        never at night, never on a day off."""
        day = self.local_date(t)
        window = self.alert_window(day)
        if window is not None and t < window[1]:
            return max(t, window[0])
        for _ in range(5 * 366):   # (only weekdays without office hours are ever skipped)
            day = self.day_zero(day + timedelta(days=1))
            window = self.alert_window(day)
            if window is not None:
                return window[0]
        raise ValueError("no alert window on any working day for five years")


# ---- the plain functions of the first issue, kept for callers that hold no calendar

@lru_cache(maxsize=64)
def _plain(tz: str, non_working: frozenset[date]) -> WorkingCalendar:
    return WorkingCalendar(tz, non_working)


def is_working_day(day: date, non_working: Collection[date] = ()) -> bool:
    return day.weekday() < 5 and day not in non_working


def add_working_days(start: date, days: int, non_working: Collection[date] = ()) -> date:
    """The N-th working day after `start` (a `start` on a day off counts from the next working
    day, which is day 0)."""
    return _plain("UTC", frozenset(non_working)).add_working_days(start, days)


def deadline(start: datetime, working_days: int, tz: str,
             non_working: Collection[date] = ()) -> datetime:
    """23:59:59 in `tz` of the N-th working day after the local day of `start`."""
    return _plain(tz, frozenset(non_working)).deadline(start, working_days)
