"""Properties of working-day arithmetic, on the shipped calendars of all three time zones and on
random ones (random days off, random office hours, some weekdays without any): adding N then M
working days equals adding N+M; the result is a working day; nothing moves backwards; a later
start never gets an earlier deadline; working time added is working time measured, to the
microsecond; a resumed deadline ends with its day when that day's working time is used up;
alerts come at the earliest moment of a working day's window. The fast calendar (closed-form
weeks and bisect over the days off) is also checked against an obvious day-by-day model."""

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from sla.calendar_registry import load_calendar_files
from sla.domain import calendar as plain
from sla.domain.calendar import WorkingCalendar
from sla.domain.calendar_spec import build_calendar

pytestmark = pytest.mark.unit

ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")
SHIPPED = [build_calendar(spec) for spec in load_calendar_files()]
PROPERTY = settings(max_examples=200, deadline=None)
ONE_US = timedelta(microseconds=1)


@st.composite
def office_hours(draw):
    """None (whole days), or windows on some weekdays (at least one)."""
    if draw(st.booleans()):
        return None
    hours = {}
    for weekday in sorted(draw(st.sets(st.integers(0, 4), min_size=1))):
        start = draw(st.integers(0, 23 * 60 - 1))
        end = draw(st.integers(start + 1, 24 * 60 - 1))
        hours[weekday] = (time(*divmod(start, 60)), time(*divmod(end, 60)))
    return hours


@st.composite
def random_calendars(draw):
    off = draw(st.sets(st.dates(date(2024, 11, 1), date(2027, 6, 30)), max_size=80))
    # Lebaran-like runs of days off
    for first in draw(st.lists(st.dates(date(2025, 1, 1), date(2026, 12, 31)), max_size=3)):
        off |= {first + timedelta(days=i) for i in range(draw(st.integers(1, 12)))}
    return WorkingCalendar(draw(st.sampled_from(ZONES)), off, office_hours=draw(office_hours()))


calendars = st.one_of(st.sampled_from(SHIPPED), random_calendars())
moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31),
                       timezones=st.sampled_from([timezone.utc, *map(ZoneInfo, ZONES)]))
days = st.dates(date(2025, 1, 1), date(2026, 12, 31))
counts = st.integers(min_value=0, max_value=70)
seconds = st.one_of(st.floats(min_value=0, max_value=60 * 86_400, allow_nan=False),
                    st.integers(0, 300).map(float))


# ---- the obvious model: walk day by day

def working(cal: WorkingCalendar, day: date) -> bool:
    return day.weekday() < 5 and day not in cal.non_working


def model_add_working_days(cal, day, n):
    while not working(cal, day):
        day += timedelta(days=1)
    while n:
        day += timedelta(days=1)
        n -= working(cal, day)
    return day


def window(cal, day):
    """The day's working time as local wall-clock datetimes (naive), or None."""
    if not working(cal, day):
        return None
    if cal.office_hours is None:
        return datetime.combine(day, time(0)), datetime.combine(day + timedelta(days=1), time(0))
    hours = cal.office_hours.get(day.weekday())
    return (datetime.combine(day, hours[0]), datetime.combine(day, hours[1])) if hours else None


def local(cal, moment):
    return moment.astimezone(cal.zone).replace(tzinfo=None)


def model_working_seconds(cal, a, b):
    a, b = local(cal, a), local(cal, b)
    total, day = timedelta(0), a.date()
    while day <= b.date():
        found = window(cal, day)
        if found and min(b, found[1]) > max(a, found[0]):
            total += min(b, found[1]) - max(a, found[0])
        day += timedelta(days=1)
    return total / timedelta(seconds=1)


# ---- days

@PROPERTY
@given(calendars, days, counts, counts)
def test_adding_n_then_m_is_adding_n_plus_m(cal, day, n, m):
    assert cal.add_working_days(cal.add_working_days(day, n), m) == cal.add_working_days(day, n + m)


@PROPERTY
@given(calendars, days, counts)
def test_the_result_is_a_working_day_never_before_day_zero(cal, day, n):
    result = cal.add_working_days(day, n)
    assert cal.is_working_day(result)
    assert result >= cal.day_zero(day) >= day
    assert (result > cal.day_zero(day)) == (n > 0)
    assert result == model_add_working_days(cal, day, n)


@PROPERTY
@given(calendars, days)
def test_day_zero_is_the_day_or_the_next_working_one(cal, day):
    zero = cal.day_zero(day)
    assert cal.is_working_day(zero)
    assert all(not cal.is_working_day(day + timedelta(days=i)) for i in range((zero - day).days))


@PROPERTY
@given(calendars, moments, counts)
def test_the_deadline_ends_a_working_day_of_its_zone(cal, start, n):
    due = cal.deadline(start, n)
    seen = due.astimezone(cal.zone)
    assert cal.is_working_day(seen.date()) and seen.time() == time(23, 59, 59)
    assert seen.date() == model_add_working_days(cal, local(cal, start).date(), n)
    assert due >= start - timedelta(seconds=1)    # (a start in a day's very last second)


@PROPERTY
@given(calendars, moments, moments, counts, counts)
def test_a_later_start_or_more_days_never_gets_an_earlier_deadline(cal, a, b, n, m):
    early, late = sorted((a, b))
    assert cal.deadline(early, n) <= cal.deadline(late, n)
    assert cal.deadline(early, min(n, m)) <= cal.deadline(early, max(n, m))


@PROPERTY
@given(st.sets(days, max_size=30), st.sampled_from(ZONES), moments, counts)
def test_the_plain_functions_agree_with_the_calendar(off, zone, start, n):
    cal = WorkingCalendar(zone, off)
    assert plain.deadline(start, n, zone, off) == cal.deadline(start, n)
    day = start.date()
    assert plain.add_working_days(day, n, off) == cal.add_working_days(day, n)
    assert plain.is_working_day(day, off) == cal.is_working_day(day)


# ---- working time

@PROPERTY
@given(calendars, moments, moments)
def test_working_time_is_what_the_day_by_day_model_measures(cal, a, b):
    assert cal.working_seconds(a, b) == pytest.approx(model_working_seconds(cal, a, b), abs=1e-6)


@PROPERTY
@given(calendars, moments, seconds)
def test_working_time_added_is_working_time_measured_at_the_earliest_moment(cal, start, s):
    end = cal.add_working_seconds(start, s)
    assert end >= start
    assert cal.working_seconds(start, end) == pytest.approx(s, abs=1e-6)
    if s >= 1e-6:
        assert end > start and cal.working_seconds(start, end - ONE_US) < s


@PROPERTY
@given(calendars, moments, seconds, seconds)
def test_adding_working_time_in_two_steps_is_adding_it_once(cal, start, s, r):
    once = cal.add_working_seconds(start, s + r)
    twice = cal.add_working_seconds(cal.add_working_seconds(start, s), r)
    assert abs(once - twice) <= 2 * ONE_US


@PROPERTY
@given(calendars, moments, seconds.filter(lambda s: s >= 1e-6))
def test_a_resumed_deadline_ends_with_its_day_when_the_days_working_time_is_used_up(cal, t, s):
    reached = cal.add_working_seconds(t, s)
    day = local(cal, reached - ONE_US).date()    # the day whose working time it reached into
    assert working(cal, day)
    midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=cal.zone)
    due = cal.deadline_after(t, s)
    if model_working_seconds(cal, reached, midnight) < 60:
        assert due == datetime.combine(day, time(23, 59, 59), tzinfo=cal.zone)
    else:
        assert due == reached
    # never less time than was left, but for the deadline's last second
    assert cal.working_seconds(t, due + timedelta(seconds=1)) >= s - 1e-6


# ---- alerts

@PROPERTY
@given(calendars, moments)
def test_alerts_come_at_the_earliest_moment_in_a_working_days_window(cal, t):
    at = cal.next_alert_time(t)
    assert at >= t
    found = cal.alert_window(cal.local_date(at))
    assert cal.is_working_day(cal.local_date(at))
    assert found is not None and found[0] <= at < found[1]
    if at > t:          # nothing earlier: no window between t and at
        assert at == found[0]
        day = cal.local_date(t)
        while day < cal.local_date(at):
            earlier = cal.alert_window(day)
            assert earlier is None or earlier[1] <= t
            day += timedelta(days=1)
