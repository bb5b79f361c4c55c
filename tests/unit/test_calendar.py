"""Working-day arithmetic: the table across 2025 and 2026 with the joint decrees' national
holidays and cuti bersama, written by hand from the decrees (SKB 3 Menteri 2024 for 2025, with
18 August 2025 added by a later decision; SKB 2025 for 2026), not from the `holidays` package;
in all three time zones; the day-0 rule; and the calendar files as shipped."""

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from sla.calendar_registry import FixedCalendars, load_calendar_files
from sla.domain.calendar import WorkingCalendar, deadline
from sla.domain.calendar_spec import CalendarSpec, DayChange, build_calendar

pytestmark = pytest.mark.unit

D = date
DECREE_2025 = {
    # national holidays
    D(2025, 1, 1), D(2025, 1, 27), D(2025, 1, 29), D(2025, 3, 29), D(2025, 3, 31), D(2025, 4, 1),
    D(2025, 4, 18), D(2025, 4, 20), D(2025, 5, 1), D(2025, 5, 12), D(2025, 5, 29), D(2025, 6, 1),
    D(2025, 6, 6), D(2025, 6, 27), D(2025, 8, 17), D(2025, 9, 5), D(2025, 12, 25),
    # cuti bersama
    D(2025, 1, 28), D(2025, 3, 28), D(2025, 4, 2), D(2025, 4, 3), D(2025, 4, 4), D(2025, 4, 7),
    D(2025, 5, 13), D(2025, 5, 30), D(2025, 6, 9), D(2025, 8, 18), D(2025, 12, 26),
}
DECREE_2026 = {
    D(2026, 1, 1), D(2026, 1, 16), D(2026, 2, 17), D(2026, 3, 19), D(2026, 3, 21), D(2026, 3, 22),
    D(2026, 4, 3), D(2026, 4, 5), D(2026, 5, 1), D(2026, 5, 14), D(2026, 5, 27), D(2026, 5, 31),
    D(2026, 6, 1), D(2026, 6, 16), D(2026, 8, 17), D(2026, 8, 25), D(2026, 12, 25),
    D(2026, 2, 16), D(2026, 3, 18), D(2026, 3, 20), D(2026, 3, 23), D(2026, 3, 24),
    D(2026, 5, 15), D(2026, 5, 28), D(2026, 12, 24),
}
ZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
FILES = {"WIB": "kota-bandung", "WITA": "kota-makassar", "WIT": "kota-jayapura"}

# (local start, working days, expected due date): the same local times in every zone
TABLE = [
    ("2025-01-24 10:00", 3, D(2025, 2, 3)),    # Isra Mikraj Mon, Imlek cuti Tue and Imlek Wed
    ("2025-03-27 09:00", 1, D(2025, 4, 8)),    # Nyepi cuti, Lebaran 31 Mar - 7 Apr
    ("2025-03-28 09:00", 0, D(2025, 4, 8)),    # a start on cuti bersama: day 0 is 8 Apr
    ("2025-05-09 14:00", 3, D(2025, 5, 16)),   # Waisak 12 and cuti 13 May
    ("2025-05-28 08:00", 2, D(2025, 6, 3)),    # Ascension 29 and cuti 30 May
    ("2025-06-05 08:00", 2, D(2025, 6, 11)),   # Iduladha 6 Jun and cuti 9 Jun
    ("2025-08-15 16:55", 1, D(2025, 8, 19)),   # 17 Aug on a Sunday (no second day), 18 Aug cuti
    ("2025-12-23 09:00", 3, D(2025, 12, 30)),  # Christmas 25 and cuti 26 Dec
    ("2025-12-31 23:30", 1, D(2026, 1, 2)),    # New Year
    ("2026-01-15 09:00", 1, D(2026, 1, 19)),   # Isra Mikraj Fri 16 Jan
    ("2026-02-13 09:00", 1, D(2026, 2, 18)),   # Imlek cuti 16 and Imlek 17 Feb
    ("2026-03-17 09:00", 3, D(2026, 3, 27)),   # Nyepi 18-19, Lebaran 20-24 Mar
    ("2026-03-21 10:00", 0, D(2026, 3, 25)),   # a start on Idulfitri (Saturday): day 0 is 25 Mar
    ("2026-03-21 10:00", 3, D(2026, 3, 30)),
    ("2026-05-13 09:00", 5, D(2026, 5, 22)),   # Ascension 14, cuti 15 May
    ("2026-05-26 09:00", 3, D(2026, 6, 3)),    # Iduladha 27, cuti 28, Waisak 31 (Sun), Pancasila 1 Jun
    ("2026-06-15 09:00", 1, D(2026, 6, 17)),   # 1 Muharram 16 Jun
    ("2026-08-14 15:00", 5, D(2026, 8, 24)),   # Independence Day Mon 17 Aug
    ("2026-08-24 09:00", 1, D(2026, 8, 26)),   # Maulid 25 Aug
    ("2026-11-20 16:55", 5, D(2026, 11, 27)),  # an ordinary Friday afternoon
    ("2026-11-21 09:00", 3, D(2026, 11, 26)),  # a Saturday start: Monday is day 0
    ("2026-12-23 09:00", 2, D(2026, 12, 29)),  # cuti 24, Christmas 25 Dec
    ("2026-10-01 09:00", 60, D(2026, 12, 28)), # 60 working days, over cuti 24 and Christmas 25
]


def decree_calendar(tz: str) -> WorkingCalendar:
    return WorkingCalendar(tz, DECREE_2025 | DECREE_2026)


@pytest.mark.parametrize("zone", sorted(ZONES))
@pytest.mark.parametrize("start, days, due", TABLE)
def test_the_decrees_table_in_every_zone(zone, start, days, due):
    tz = ZoneInfo(ZONES[zone])
    begun = datetime.fromisoformat(start).replace(tzinfo=tz)
    expected = datetime.combine(due, time(23, 59, 59), tzinfo=tz)
    assert decree_calendar(ZONES[zone]).deadline(begun, days) == expected
    # the shipped calendars (holidays package + files) agree with the decrees
    shipped = build_calendar(next(s for s in load_calendar_files() if s.jurisdiction == FILES[zone]))
    assert shipped.deadline(begun, days) == expected


def test_the_shipped_calendars_know_every_decreed_day_off_in_2025_and_2026():
    for spec in load_calendar_files():
        cal = build_calendar(spec)
        off = {d for d in DECREE_2025 | DECREE_2026 if d.weekday() < 5}
        assert {d for d in off if cal.is_working_day(d)} == set(), spec.jurisdiction
        day, working = D(2025, 1, 1), set()
        while day <= D(2026, 12, 31):
            if day.weekday() < 5 and day not in DECREE_2025 | DECREE_2026:
                working.add(day)
            day += timedelta(days=1)
        assert {d for d in working if not cal.is_working_day(d)} == set(), spec.jurisdiction


def test_the_local_day_counts_not_the_utc_one():
    # Friday 20 Nov 2026 16:30 UTC is Friday 23:30 WIB, Saturday 00:30 WITA and 01:30 WIT
    start = datetime(2026, 11, 20, 16, 30, tzinfo=timezone.utc)
    assert deadline(start, 1, "Asia/Jakarta").isoformat() == "2026-11-23T23:59:59+07:00"
    assert deadline(start, 1, "Asia/Makassar").isoformat() == "2026-11-24T23:59:59+08:00"
    assert deadline(start, 1, "Asia/Jayapura").isoformat() == "2026-11-24T23:59:59+09:00"


def test_a_later_decree_moves_adds_and_removes_days():
    spec = CalendarSpec(jurisdiction="kota-x", timezone="Asia/Makassar", changes=(
        DayChange(op="move", date=D(2026, 5, 27), to=D(2026, 5, 26), decree="SKB revisi"),
        DayChange(op="add", date=D(2026, 9, 25), name="Hari jadi kota", kind="local"),
        DayChange(op="remove", date=D(2026, 12, 24), note="cuti bersama dibatalkan"),
    ))
    cal = build_calendar(spec)
    assert cal.is_working_day(D(2026, 5, 27)) and not cal.is_working_day(D(2026, 5, 26))
    assert "Adha" in cal.non_working_reason(D(2026, 5, 26))   # the day keeps its name
    assert cal.non_working_reason(D(2026, 9, 25)) == "Hari jadi kota"
    assert cal.is_working_day(D(2026, 12, 24))
    assert cal.non_working_reason(D(2026, 11, 21)) == "Sabtu"


async def test_an_unknown_jurisdiction_gets_the_national_calendar():
    cal = await FixedCalendars().calendar("kabupaten-entah")
    assert cal.timezone == "Asia/Jakarta" and not cal.is_working_day(D(2026, 8, 17))
    assert (await FixedCalendars().calendar("kota-jayapura")).timezone == "Asia/Jayapura"


def test_working_time_with_office_hours_and_without():
    christmas = {D(2026, 12, 24): "cuti", D(2026, 12, 25): "Natal"}
    office = WorkingCalendar("Asia/Jakarta", christmas,
                             office_hours={d: (time(7, 30), time(16)) for d in range(5)})
    wib = ZoneInfo("Asia/Jakarta")
    a = datetime(2026, 12, 23, 12, tzinfo=wib)
    b = datetime(2026, 12, 28, 9, tzinfo=wib)
    assert office.working_seconds(a, b) == (4 + 1.5) * 3600          # Wed 12-16, Mon 7:30-9
    assert office.add_working_seconds(a, 4 * 3600) == datetime(2026, 12, 23, 16, tzinfo=wib)
    assert office.add_working_seconds(a, 5 * 3600) == datetime(2026, 12, 28, 8, 30, tzinfo=wib)
    # a deadline that ends with a day's working time is that day's 23:59:59
    assert office.deadline_after(a, 4 * 3600) == datetime(2026, 12, 23, 23, 59, 59, tzinfo=wib)
    assert office.next_alert_time(datetime(2026, 12, 23, 20, tzinfo=wib)) == \
        datetime(2026, 12, 28, 7, 30, tzinfo=wib)
    whole = WorkingCalendar("Asia/Jakarta", christmas)
    assert whole.working_seconds(a, b) == (12 + 9) * 3600            # Wed 12-24, Mon 0-9
    assert whole.next_alert_time(datetime(2026, 12, 23, 20, tzinfo=wib)) == \
        datetime(2026, 12, 28, 8, tzinfo=wib)
