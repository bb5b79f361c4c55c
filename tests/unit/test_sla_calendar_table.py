"""Working-day arithmetic as a table across 2025 and 2026, in WIB, WITA and WIT.

The days off are written here by hand from the joint decrees (SKB Menteri Agama, Menteri
Ketenagakerjaan and MenPAN-RB on national holidays and cuti bersama: the one for 2025, with
18 August 2025 added by a later decision, and the one for 2026), and every expected date was
counted by hand on a wall calendar, not computed with the `holidays` package: the shipped
calendars (package + files) must agree with the decrees, and a pure `WorkingCalendar` holding
just the decree dates must agree with the same table.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from backbone import problems
from sla import calendars_api
from sla.calendar_registry import FixedCalendars, load_calendar_files
from sla.domain.calendar import WorkingCalendar
from sla.domain.calendar_spec import build_calendar

pytestmark = pytest.mark.unit
D = date

HOLIDAYS_2025 = {                 # 17 national holidays
    D(2025, 1, 1): "Tahun Baru Masehi",
    D(2025, 1, 27): "Isra Mikraj",
    D(2025, 1, 29): "Tahun Baru Imlek 2576",
    D(2025, 3, 29): "Nyepi 1947 (Sabtu)",
    D(2025, 3, 31): "Idul Fitri 1446 H",
    D(2025, 4, 1): "Idul Fitri 1446 H, hari kedua",
    D(2025, 4, 18): "Wafat Yesus Kristus",
    D(2025, 4, 20): "Paskah (Minggu)",
    D(2025, 5, 1): "Hari Buruh",
    D(2025, 5, 12): "Waisak 2569",
    D(2025, 5, 29): "Kenaikan Yesus Kristus",
    D(2025, 6, 1): "Hari Lahir Pancasila (Minggu)",
    D(2025, 6, 6): "Idul Adha 1446 H",
    D(2025, 6, 27): "1 Muharam 1447 H",
    D(2025, 8, 17): "Hari Kemerdekaan (Minggu)",
    D(2025, 9, 5): "Maulid Nabi",
    D(2025, 12, 25): "Natal",
}
CUTI_2025 = {                     # 10 by the decree, and 18 August by the later decision
    D(2025, 1, 28), D(2025, 3, 28), D(2025, 4, 2), D(2025, 4, 3), D(2025, 4, 4), D(2025, 4, 7),
    D(2025, 5, 13), D(2025, 5, 30), D(2025, 6, 9), D(2025, 12, 26),
    D(2025, 8, 18),
}
HOLIDAYS_2026 = {                 # 17 national holidays
    D(2026, 1, 1): "Tahun Baru Masehi",
    D(2026, 1, 16): "Isra Mikraj",
    D(2026, 2, 17): "Tahun Baru Imlek 2577",
    D(2026, 3, 19): "Nyepi 1948",
    D(2026, 3, 21): "Idul Fitri 1447 H (Sabtu)",
    D(2026, 3, 22): "Idul Fitri 1447 H, hari kedua (Minggu)",
    D(2026, 4, 3): "Wafat Yesus Kristus",
    D(2026, 4, 5): "Paskah (Minggu)",
    D(2026, 5, 1): "Hari Buruh",
    D(2026, 5, 14): "Kenaikan Yesus Kristus",
    D(2026, 5, 27): "Idul Adha 1447 H",
    D(2026, 5, 31): "Waisak 2570 (Minggu)",
    D(2026, 6, 1): "Hari Lahir Pancasila",
    D(2026, 6, 16): "1 Muharam 1448 H",
    D(2026, 8, 17): "Hari Kemerdekaan",
    D(2026, 8, 25): "Maulid Nabi",
    D(2026, 12, 25): "Natal",
}
CUTI_2026 = {                     # 8
    D(2026, 2, 16), D(2026, 3, 18), D(2026, 3, 20), D(2026, 3, 23), D(2026, 3, 24),
    D(2026, 5, 15), D(2026, 5, 28), D(2026, 12, 24),
}
DAYS_OFF = set(HOLIDAYS_2025) | CUTI_2025 | set(HOLIDAYS_2026) | CUTI_2026
ZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
SHIPPED = {"WIB": "kota-bandung", "WITA": "kota-makassar", "WIT": "kota-jayapura"}

# (local start, working days, due date): the same local wall-clock start in every zone
TABLE = [
    # 2025
    ("2025-01-02 08:00", 1, D(2025, 1, 3)),     # an ordinary week after New Year
    ("2025-01-24 10:00", 3, D(2025, 2, 3)),     # Isra Mikraj Mon 27, Imlek cuti 28, Imlek 29
    ("2025-01-27 09:00", 0, D(2025, 1, 30)),    # a start on Isra Mikraj: day 0 is Thu 30 Jan
    ("2025-03-24 09:00", 14, D(2025, 4, 23)),   # across Nyepi, Lebaran and Good Friday
    ("2025-03-26 13:00", 5, D(2025, 4, 11)),    # Lebaran 28 Mar - 7 Apr
    ("2025-03-27 09:00", 1, D(2025, 4, 8)),     # Nyepi cuti, Lebaran
    ("2025-03-28 09:00", 0, D(2025, 4, 8)),     # a start on cuti bersama Nyepi: day 0 is 8 Apr
    ("2025-03-29 09:00", 3, D(2025, 4, 11)),    # a start on Nyepi (Saturday)
    ("2025-04-05 11:00", 0, D(2025, 4, 8)),     # a Saturday inside Lebaran
    ("2025-04-17 09:00", 1, D(2025, 4, 21)),    # Good Friday
    ("2025-04-30 09:00", 1, D(2025, 5, 2)),     # Labour Day Thu 1 May
    ("2025-05-09 14:00", 3, D(2025, 5, 16)),    # Waisak 12 and cuti 13 May
    ("2025-05-28 08:00", 2, D(2025, 6, 3)),     # Ascension 29, cuti 30 May, Pancasila on Sunday
    ("2025-06-05 08:00", 2, D(2025, 6, 11)),    # Idul Adha 6 Jun and cuti 9 Jun
    ("2025-06-26 15:00", 1, D(2025, 6, 30)),    # 1 Muharam Fri 27 Jun
    ("2025-08-15 16:55", 1, D(2025, 8, 19)),    # 17 Aug on Sunday is no second day; 18 Aug cuti
    ("2025-08-17 09:00", 0, D(2025, 8, 19)),    # a start on Independence Day (Sunday)
    ("2025-09-04 09:00", 1, D(2025, 9, 8)),     # Maulid Fri 5 Sep
    ("2025-12-23 09:00", 3, D(2025, 12, 30)),   # Christmas 25 and cuti 26 Dec
    ("2025-12-26 10:00", 0, D(2025, 12, 29)),   # a start on cuti bersama Natal
    ("2025-12-31 23:30", 1, D(2026, 1, 2)),     # New Year
    # 2026
    ("2026-01-15 09:00", 1, D(2026, 1, 19)),    # Isra Mikraj Fri 16 Jan
    ("2026-02-13 09:00", 1, D(2026, 2, 18)),    # Imlek cuti 16 and Imlek 17 Feb
    ("2026-03-16 08:00", 10, D(2026, 4, 7)),    # Nyepi, Lebaran and Good Friday
    ("2026-03-17 09:00", 3, D(2026, 3, 27)),    # Nyepi 18-19, Lebaran 20-24 Mar
    ("2026-03-19 09:00", 0, D(2026, 3, 25)),    # a start on Nyepi
    ("2026-03-21 10:00", 0, D(2026, 3, 25)),    # a start on Idul Fitri (Saturday)
    ("2026-03-21 10:00", 3, D(2026, 3, 30)),
    ("2026-04-30 09:00", 1, D(2026, 5, 4)),     # Labour Day Fri 1 May
    ("2026-05-13 09:00", 5, D(2026, 5, 22)),    # Ascension 14, cuti 15 May
    ("2026-05-26 09:00", 3, D(2026, 6, 3)),     # Idul Adha 27, cuti 28, Waisak (Sun), Pancasila
    ("2026-06-15 09:00", 1, D(2026, 6, 17)),    # 1 Muharam Tue 16 Jun
    ("2026-08-14 15:00", 5, D(2026, 8, 24)),    # Independence Day Mon 17 Aug
    ("2026-08-24 09:00", 1, D(2026, 8, 26)),    # Maulid Tue 25 Aug
    ("2026-11-20 16:55", 5, D(2026, 11, 27)),   # an ordinary Friday afternoon
    ("2026-11-21 09:00", 3, D(2026, 11, 26)),   # a Saturday: Monday is day 0
    ("2026-11-22 23:59", 0, D(2026, 11, 23)),   # a Sunday night
    ("2026-12-23 09:00", 2, D(2026, 12, 29)),   # cuti 24, Christmas 25 Dec
    ("2026-12-24 09:00", 0, D(2026, 12, 28)),   # a start on cuti bersama Natal
    ("2026-12-25 09:00", 1, D(2026, 12, 29)),   # a start on Christmas
    ("2026-10-01 09:00", 60, D(2026, 12, 28)),  # 60 working days, over cuti 24 and Christmas 25
    ("2025-12-01 09:00", 14, D(2025, 12, 19)),  # the 14-day tier, ordinary weeks
]

# (UTC start, working days, due date in WIB, WITA, WIT): late evenings, where the local day
# differs by zone and the next local day is a day off in some of them
UTC_TABLE = [
    ("2026-11-20T16:30:00Z", 1, (D(2026, 11, 23), D(2026, 11, 24), D(2026, 11, 24))),
    ("2026-03-17T16:30:00Z", 1, (D(2026, 3, 25), D(2026, 3, 26), D(2026, 3, 26))),
    ("2025-12-31T15:30:00Z", 0, (D(2025, 12, 31), D(2025, 12, 31), D(2026, 1, 2))),
    ("2026-05-26T15:30:00Z", 1, (D(2026, 5, 29), D(2026, 5, 29), D(2026, 6, 2))),
    ("2025-08-15T15:30:00Z", 0, (D(2025, 8, 15), D(2025, 8, 15), D(2025, 8, 19))),
    ("2025-03-27T16:59:59Z", 0, (D(2025, 3, 27), D(2025, 4, 8), D(2025, 4, 8))),
    ("2026-12-23T16:59:59Z", 2, (D(2026, 12, 29), D(2026, 12, 30), D(2026, 12, 30))),
]


def decree_calendar(tz: str) -> WorkingCalendar:
    return WorkingCalendar(tz, DAYS_OFF)


def shipped(zone: str) -> WorkingCalendar:
    return build_calendar(next(s for s in load_calendar_files() if s.jurisdiction == SHIPPED[zone]))


def test_the_decrees_as_written_here():
    assert len(HOLIDAYS_2025) == 17 and len(HOLIDAYS_2026) == 17
    assert len(CUTI_2026) == 8 and len(CUTI_2025) == 11
    on_weekends = sorted(d for d in DAYS_OFF if d.weekday() >= 5)
    assert on_weekends == [D(2025, 3, 29), D(2025, 4, 20), D(2025, 6, 1), D(2025, 8, 17),
                           D(2026, 3, 21), D(2026, 3, 22), D(2026, 4, 5), D(2026, 5, 31)]


@pytest.mark.parametrize("zone", sorted(ZONES))
@pytest.mark.parametrize("start, n, due", TABLE)
def test_the_table_in_every_zone(zone, start, n, due):
    tz = ZoneInfo(ZONES[zone])
    begun = datetime.fromisoformat(start).replace(tzinfo=tz)
    expected = datetime.combine(due, time(23, 59, 59), tzinfo=tz)
    assert decree_calendar(ZONES[zone]).deadline(begun, n) == expected
    assert shipped(zone).deadline(begun, n) == expected


@pytest.mark.parametrize("start, n, dues", UTC_TABLE)
def test_the_local_day_counts_not_the_utc_one(start, n, dues):
    begun = datetime.fromisoformat(start)
    for zone, due in zip(("WIB", "WITA", "WIT"), dues):
        tz = ZoneInfo(ZONES[zone])
        expected = datetime.combine(due, time(23, 59, 59), tzinfo=tz)
        assert decree_calendar(ZONES[zone]).deadline(begun, n) == expected, zone
        assert shipped(zone).deadline(begun, n) == expected, zone


@pytest.mark.parametrize("zone", sorted(ZONES))
def test_the_shipped_calendars_know_every_decreed_day_and_no_other(zone):
    cal, day, wrong = shipped(zone), D(2025, 1, 1), []
    while day <= D(2026, 12, 31):
        if cal.is_working_day(day) != (day.weekday() < 5 and day not in DAYS_OFF):
            wrong.append(day)
        day += timedelta(days=1)
    assert wrong == []


def test_the_national_default_is_wib_and_knows_the_decrees():
    cal = build_calendar(next(s for s in load_calendar_files() if s.jurisdiction == "*"))
    assert cal.timezone == "Asia/Jakarta" and cal.office_hours is None
    begun = datetime(2026, 3, 17, 9, tzinfo=ZoneInfo("Asia/Jakarta"))
    assert cal.deadline(begun, 3).isoformat() == "2026-03-27T23:59:59+07:00"


@pytest.mark.parametrize("jurisdiction, start, n, answer", [
    ("kota-bandung", "2026-03-17T09:00:00+07:00", 3, "2026-03-27T23:59:59+07:00"),
    ("kota-makassar", "2026-03-17T09:00:00+08:00", 3, "2026-03-27T23:59:59+08:00"),
    ("kota-jayapura", "2026-03-17T09:00:00+09:00", 3, "2026-03-27T23:59:59+09:00"),
    ("kota-bandung", "2026-03-17T16:30:00Z", 1, "2026-03-25T23:59:59+07:00"),
    ("kota-makassar", "2026-03-17T16:30:00Z", 1, "2026-03-26T23:59:59+08:00"),
    ("kota-jayapura", "2026-03-17T16:30:00Z", 1, "2026-03-26T23:59:59+09:00"),
    ("kota-jayapura", "2025-12-31T15:30:00Z", 0, "2026-01-02T23:59:59+09:00"),
    ("kota-bandung", "2025-08-15T16:55:00+07:00", 1, "2025-08-19T23:59:59+07:00"),
    ("kota-makassar", "2025-03-28", 0, "2025-04-08T23:59:59+08:00"),
    ("kota-bandung", "2026-12-23T09:00:00 07:00", 2, "2026-12-29T23:59:59+07:00"),
    ("kota-jayapura", "2026-10-01T09:00:00+09:00", 60, "2026-12-28T23:59:59+09:00"),
    ("kabupaten-tanpa-kalender", "2026-05-26T15:30:00Z", 1, "2026-05-29T23:59:59+07:00"),
])
async def test_the_deadline_endpoints_exact_answer(jurisdiction, start, n, answer):
    app = FastAPI()
    app.include_router(calendars_api.calendars_router())
    problems.install(app)
    app.state.calendars = FixedCalendars()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sla") as c:
        got = await c.get(f"/v1/calendars/{jurisdiction}/deadline",
                          params={"start": start, "working_days": str(n)})
    assert got.status_code == 200, got.text
    assert got.json()["deadline"] == answer
