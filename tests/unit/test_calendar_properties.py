"""Properties of working-day arithmetic, on the shipped calendars of all three time zones (with
and without office hours): adding N then M working days equals adding N+M; the result is a
working day; a later start never gets an earlier deadline; working time adds up; a resumed
deadline never comes before the pause's; alerts are delivered only in a working day's window."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from sla.calendar_registry import load_calendar_files
from sla.domain.calendar_spec import build_calendar

pytestmark = pytest.mark.unit

CALENDARS = [build_calendar(spec) for spec in load_calendar_files()]
calendars = st.sampled_from(CALENDARS)
moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31),
                       timezones=st.just(timezone.utc))
days = st.integers(min_value=0, max_value=70)
hours = st.floats(min_value=0, max_value=400, allow_nan=False)
FAST = settings(max_examples=150, deadline=None)


@FAST
@given(calendars, moments, days, days)
def test_adding_n_then_m_is_adding_n_plus_m(cal, start, n, m):
    day = cal.local_date(start)
    assert cal.add_working_days(cal.add_working_days(day, n), m) == cal.add_working_days(day, n + m)


@FAST
@given(calendars, moments, days)
def test_the_deadline_is_the_end_of_a_working_day_never_before_the_start(cal, start, n):
    due = cal.deadline(start, n)
    local = due.astimezone(cal.zone)
    assert cal.is_working_day(local.date())
    assert (local.hour, local.minute, local.second) == (23, 59, 59)
    assert due > start


@FAST
@given(calendars, moments, moments, days)
def test_a_later_start_never_gets_an_earlier_deadline(cal, a, b, n):
    early, late = sorted((a, b))
    assert cal.deadline(early, n) <= cal.deadline(late, n)
    assert cal.deadline(early, n) <= cal.deadline(early, n + 1)


@FAST
@given(calendars, moments, hours)
def test_working_time_added_is_working_time_measured(cal, start, h):
    seconds = h * 3600
    end = cal.add_working_seconds(start, seconds)
    assert end >= start
    assert cal.working_seconds(start, end) == pytest.approx(seconds, abs=1e-3)


@FAST
@given(calendars, moments, hours)
def test_a_resumed_deadline_keeps_at_least_the_time_that_was_left(cal, start, h):
    due = cal.deadline_after(start, h * 3600)
    assert cal.working_seconds(start, due + timedelta(seconds=1)) >= h * 3600 - 1e-3
    if h > 0:   # (a deadline at a day's end is 23:59:59, the second before midnight)
        assert due >= cal.add_working_seconds(start, h * 3600) - timedelta(seconds=1)


@FAST
@given(calendars, moments)
def test_alerts_are_delivered_only_in_a_working_days_window(cal, t):
    at = cal.next_alert_time(t)
    window = cal.alert_window(cal.local_date(at))
    assert at >= t and window is not None and window[0] <= at < window[1]
