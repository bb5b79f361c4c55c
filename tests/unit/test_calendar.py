from datetime import date, datetime, timezone

import pytest

from sla.domain.calendar import add_working_days, deadline


def test_weekends_are_skipped():
    friday = date(2026, 11, 20)
    assert add_working_days(friday, 1) == date(2026, 11, 23)   # Monday
    assert add_working_days(friday, 5) == date(2026, 11, 27)   # next Friday


def test_non_working_dates_are_skipped():
    monday = date(2026, 12, 21)
    assert add_working_days(monday, 3, non_working={date(2026, 12, 24), date(2026, 12, 25)}) == date(2026, 12, 28)


def test_deadline_is_end_of_nth_working_day_in_local_time():
    # Friday 20 Nov 2026, 23:30 WIB is 16:30 UTC: the local day counts, not the UTC one.
    start = datetime(2026, 11, 20, 16, 30, tzinfo=timezone.utc)
    due = deadline(start, 5, "Asia/Jakarta")
    assert due.isoformat() == "2026-11-27T23:59:59+07:00"


def test_time_zones_differ_by_region():
    start = datetime(2026, 11, 20, 16, 30, tzinfo=timezone.utc)  # already Saturday in WIT
    assert deadline(start, 1, "Asia/Jakarta").date() == date(2026, 11, 23)
    assert deadline(start, 1, "Asia/Jayapura").date() == date(2026, 11, 23)
    assert deadline(start, 2, "Asia/Jayapura").date() == date(2026, 11, 24)


def test_naive_start_is_refused():
    with pytest.raises(ValueError):
        deadline(datetime(2026, 11, 20, 9, 0), 5, "Asia/Jakarta")
