"""Calendars: `WorkingCalendar` (day 0, working time with and without office hours, when alerts
may go out), the calendar documents (validation, national days from the `holidays` package with
Indonesian names, decree changes applied in order), the shipped files, and the in-memory twin
of the registry. The decree table is in test_sla_calendar_table.py, the properties in
test_sla_calendar_properties.py."""

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from sla.calendar_registry import FixedCalendars, load_calendar_files
from sla.domain.calendar import WorkingCalendar, add_working_days, deadline, is_working_day
from sla.domain.calendar_spec import CalendarSpec, DayChange, build_calendar

pytestmark = pytest.mark.unit

D = date
WIB = ZoneInfo("Asia/Jakarta")
CHRISTMAS = {D(2026, 12, 24): "Cuti Bersama Natal", D(2026, 12, 25): "Natal"}
OFFICE = {d: (time(7, 30), time(16)) for d in range(4)} | {4: (time(7, 30), time(16, 30))}


def wib(*parts) -> datetime:
    return datetime(*parts, tzinfo=WIB)


# ---- days

def test_day_zero_is_the_start_or_the_next_working_day():
    cal = WorkingCalendar("Asia/Jakarta", CHRISTMAS)
    assert cal.day_zero(D(2026, 12, 23)) == D(2026, 12, 23)
    assert cal.day_zero(D(2026, 12, 24)) == D(2026, 12, 28)     # Thu, Fri off, then a weekend
    assert cal.add_working_days(D(2026, 12, 26), 0) == D(2026, 12, 28)
    assert cal.add_working_days(D(2026, 12, 26), 1) == D(2026, 12, 29)
    assert cal.deadline(wib(2026, 12, 26, 10), 3) == wib(2026, 12, 31, 23, 59, 59)


def test_reasons_for_days_off():
    cal = WorkingCalendar("Asia/Jakarta", CHRISTMAS)
    assert cal.non_working_reason(D(2026, 12, 25)) == "Natal"
    assert cal.non_working_reason(D(2026, 12, 26)) == "Sabtu"
    assert cal.non_working_reason(D(2026, 12, 27)) == "Minggu"
    assert cal.non_working_reason(D(2026, 12, 28)) is None
    assert [d for d, _ in cal.non_working_days(D(2026, 12, 23), D(2026, 12, 28))] == [
        D(2026, 12, 24), D(2026, 12, 25), D(2026, 12, 26), D(2026, 12, 27)]


def test_a_holiday_on_a_weekend_is_not_a_second_day_off():
    # Hari Lahir Pancasila 2025 fell on a Sunday: Monday 2 June was a working day
    cal = WorkingCalendar("Asia/Jakarta", {D(2025, 6, 1): "Hari Lahir Pancasila"})
    assert cal.is_working_day(D(2025, 6, 2))
    assert cal.add_working_days(D(2025, 5, 30), 1) == D(2025, 6, 2)


def test_a_calendar_refuses_what_has_no_meaning():
    cal = WorkingCalendar("Asia/Jakarta")
    with pytest.raises(ValueError, match="negative"):
        cal.add_working_days(D(2026, 1, 5), -1)
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.deadline(datetime(2026, 1, 5, 9), 1)
    with pytest.raises(ValueError, match="weekdays"):
        WorkingCalendar("Asia/Jakarta", office_hours={5: (time(8), time(12))})
    with pytest.raises(ValueError, match="end after"):
        WorkingCalendar("Asia/Jakarta", alert_hours=(time(16), time(8)))
    with pytest.raises(TypeError):
        cal.non_working[D(2026, 1, 5)] = "Libur"          # immutable: shared by every clock


def test_far_years_need_no_table():
    cal = WorkingCalendar("Asia/Jayapura", CHRISTMAS)
    assert cal.add_working_days(D(1970, 1, 1), 1) == D(1970, 1, 2)
    assert cal.add_working_days(D(2099, 12, 31), 1) == D(2100, 1, 1)
    day, left = D(2026, 1, 1), 2610                  # ten years of working days, walked
    while left:
        day += timedelta(days=1)
        left -= cal.is_working_day(day)
    assert cal.add_working_days(D(2026, 1, 1), 2610) == day


def test_the_plain_functions_use_the_day_zero_rule():
    holidays = {D(2026, 8, 17)}
    assert is_working_day(D(2026, 8, 18), holidays) and not is_working_day(D(2026, 8, 17), holidays)
    assert add_working_days(D(2026, 8, 15), 0, holidays) == D(2026, 8, 18)
    assert add_working_days(D(2026, 8, 14), 1, holidays) == D(2026, 8, 18)
    start = datetime(2026, 8, 16, 18, tzinfo=timezone.utc)     # Mon 17 Aug 01:00 WIB
    assert deadline(start, 1, "Asia/Jakarta", holidays).isoformat() == "2026-08-19T23:59:59+07:00"


# ---- working time

def test_working_time_with_office_hours():
    cal = WorkingCalendar("Asia/Jakarta", CHRISTMAS, office_hours=OFFICE)
    a, b = wib(2026, 12, 23, 12), wib(2026, 12, 28, 9)
    assert cal.working_seconds(a, b) == (4 + 1.5) * 3600          # Wed 12-16, Mon 7:30-9
    assert cal.working_seconds(b, a) == 0.0
    assert cal.add_working_seconds(a, 4 * 3600) == wib(2026, 12, 23, 16)
    assert cal.add_working_seconds(a, 5 * 3600) == wib(2026, 12, 28, 8, 30)
    # Friday is half an hour longer (a longer break for Friday prayers)
    week = cal.working_seconds(wib(2026, 11, 23), wib(2026, 11, 30))
    assert week == (4 * 8.5 + 9) * 3600
    assert cal.add_working_seconds(wib(2026, 11, 27, 16), 1800) == wib(2026, 11, 27, 16, 30)


def test_working_time_without_office_hours_is_the_whole_working_day():
    cal = WorkingCalendar("Asia/Jakarta", CHRISTMAS)
    a, b = wib(2026, 12, 23, 12), wib(2026, 12, 28, 9)
    assert cal.working_seconds(a, b) == (12 + 9) * 3600           # Wed 12-24, Mon 0-9
    assert cal.add_working_seconds(a, 12 * 3600) == wib(2026, 12, 24, 0)
    assert cal.add_working_seconds(a, 12 * 3600 + 1) == wib(2026, 12, 28, 0, 0, 1)


def test_a_resumed_deadline_ends_with_its_day_when_the_day_is_used_up():
    office = WorkingCalendar("Asia/Jakarta", CHRISTMAS, office_hours=OFFICE)
    a = wib(2026, 12, 23, 12)
    assert office.deadline_after(a, 4 * 3600) == wib(2026, 12, 23, 23, 59, 59)
    assert office.deadline_after(a, 4 * 3600 - 30) == wib(2026, 12, 23, 23, 59, 59)
    assert office.deadline_after(a, 3 * 3600) == wib(2026, 12, 23, 15)
    whole = WorkingCalendar("Asia/Jakarta", CHRISTMAS)
    # twelve hours from Wednesday noon use up Wednesday: its end, not Thursday's midnight
    assert whole.deadline_after(a, 12 * 3600) == wib(2026, 12, 23, 23, 59, 59)
    assert whole.deadline_after(a, 13 * 3600) == wib(2026, 12, 28, 1)
    assert whole.deadline_after(wib(2026, 12, 23, 23, 59, 30), 0) == wib(2026, 12, 23, 23, 59, 59)


def test_alerts_wait_for_the_next_working_morning():
    office = WorkingCalendar("Asia/Jakarta", CHRISTMAS, office_hours=OFFICE)
    assert office.next_alert_time(wib(2026, 12, 23, 20)) == wib(2026, 12, 28, 7, 30)
    assert office.next_alert_time(wib(2026, 12, 23, 6)) == wib(2026, 12, 23, 7, 30)
    assert office.next_alert_time(wib(2026, 12, 23, 10)) == wib(2026, 12, 23, 10)
    whole = WorkingCalendar("Asia/Jakarta", CHRISTMAS)
    assert whole.next_alert_time(wib(2026, 12, 23, 20)) == wib(2026, 12, 28, 8)
    assert whole.next_alert_time(wib(2026, 12, 23, 15, 59)) == wib(2026, 12, 23, 15, 59)
    # a weekday without office hours has no alerts either
    mondays = WorkingCalendar("Asia/Jakarta", office_hours={0: (time(8), time(12))})
    assert mondays.next_alert_time(wib(2026, 11, 24, 9)) == wib(2026, 11, 30, 8)


# ---- calendar documents

def test_a_document_is_validated():
    CalendarSpec(jurisdiction="kota-x", timezone="Asia/Makassar",
                 office_hours={"mon": "07:30-16:00"})
    for bad, why in [
        (dict(timezone="Asia/WITA"), "time zone"),
        (dict(office_hours={"sat": "08:00-12:00"}), "mon..fri"),
        (dict(office_hours={"mon": "16:00-07:30"}), "after the start"),
        (dict(office_hours={"mon": "pagi"}), "HH:MM-HH:MM"),
        (dict(alert_hours="8-16"), "HH:MM"),
        (dict(jurisdiction="Kota X"), "pattern"),
        (dict(holidays=[]), "Extra inputs"),
    ]:
        with pytest.raises(ValidationError, match=why):
            CalendarSpec.model_validate({"jurisdiction": "kota-x", "timezone": "Asia/Jakarta"} | bad)
    for bad, why in [
        (dict(op="move", date="2026-05-27"), "needs it"),
        (dict(op="remove", date="2026-05-27", to="2026-05-26"), "is for a move"),
        (dict(op="move", date="2026-05-27", to="2026-05-27"), "another date"),
        (dict(op="add", date="2026-09-25"), "needs its name"),
        (dict(op="add", date="2026-09-25", name="x", kind="regional"), "kind"),
    ]:
        with pytest.raises(ValidationError, match=why):
            DayChange.model_validate(bad)


def test_national_days_come_from_the_package_with_indonesian_names():
    cal = build_calendar(CalendarSpec(jurisdiction="kota-x", timezone="Asia/Jayapura"))
    assert cal.non_working_reason(D(2026, 3, 19)) == "Hari Suci Nyepi"
    assert cal.non_working_reason(D(2026, 3, 18)) == "Cuti Bersama Hari Suci Nyepi"
    assert cal.non_working_reason(D(2025, 8, 18)) == "Cuti Bersama Hari Kemerdekaan Republik Indonesia"
    assert not cal.is_working_day(D(2030, 1, 1))                  # years ahead are there too
    without = build_calendar(CalendarSpec(jurisdiction="kota-x", timezone="Asia/Jayapura",
                                          include_cuti_bersama=False))
    assert without.is_working_day(D(2026, 3, 18)) and not without.is_working_day(D(2026, 3, 19))


def test_later_decrees_apply_in_order():
    spec = CalendarSpec(jurisdiction="kota-x", timezone="Asia/Makassar", changes=(
        DayChange(op="move", date=D(2026, 5, 27), to=D(2026, 5, 26), decree="SKB (perubahan)"),
        DayChange(op="add", date=D(2026, 9, 25), name="Hari Jadi Kota", kind="local"),
        DayChange(op="remove", date=D(2026, 12, 24), note="pelayanan tetap buka"),
        DayChange(op="move", date=D(2026, 9, 25), to=D(2026, 9, 28), name="Hari Jadi Kota (diganti)"),
    ))
    cal = build_calendar(spec, version=7)
    assert cal.is_working_day(D(2026, 5, 27)) and not cal.is_working_day(D(2026, 5, 26))
    assert cal.non_working_reason(D(2026, 5, 26)) == "Hari Raya Idul Adha"   # keeps its name
    assert cal.is_working_day(D(2026, 9, 25))
    assert cal.non_working_reason(D(2026, 9, 28)) == "Hari Jadi Kota (diganti)"
    assert cal.is_working_day(D(2026, 12, 24))
    assert (cal.timezone, cal.jurisdiction, cal.version) == ("Asia/Makassar", "kota-x", 7)
    assert build_calendar(spec, version=7) is cal                 # built once


def test_the_shipped_files():
    specs = {s.jurisdiction: s for s in load_calendar_files()}
    assert {j: s.timezone for j, s in specs.items()} == {
        "*": "Asia/Jakarta", "kota-bandung": "Asia/Jakarta", "kota-makassar": "Asia/Makassar",
        "kota-jayapura": "Asia/Jayapura"}
    for jurisdiction in ("kota-bandung", "kota-makassar", "kota-jayapura"):
        cal = build_calendar(specs[jurisdiction])
        start = datetime.combine(D(2026, 11, 23), time(0), tzinfo=cal.zone)
        # 43 hours at the office, breaks included: 37.5 hours of work (Perpres 21/2023)
        assert cal.working_seconds(start, start + timedelta(days=7)) == 43 * 3600


def test_a_file_named_for_another_jurisdiction_is_refused(tmp_path):
    (tmp_path / "_national.yaml").write_text('jurisdiction: "*"\ntimezone: Asia/Jakarta\n')
    (tmp_path / "kota-a.yaml").write_text("jurisdiction: kota-b\ntimezone: Asia/Jakarta\n")
    with pytest.raises(ValueError, match="name it kota-b.yaml"):
        load_calendar_files(tmp_path)
    (tmp_path / "kota-a.yaml").unlink()
    (tmp_path / "_national.yaml").unlink()
    with pytest.raises(ValueError, match="no national default"):
        load_calendar_files(tmp_path)


# ---- the registry's twin

async def test_an_unknown_jurisdiction_gets_the_national_calendar():
    calendars = FixedCalendars()
    cal = await calendars.calendar("kabupaten-entah")
    assert cal.timezone == "Asia/Jakarta" and cal.jurisdiction == "*"
    assert not cal.is_working_day(D(2026, 8, 17))
    assert (await calendars.calendar("kota-jayapura")).timezone == "Asia/Jayapura"
    assert await calendars.calendar("kota-jayapura") is await calendars.calendar("kota-jayapura")


async def test_listeners_hear_each_change_with_the_old_and_new_calendar():
    calendars, heard = FixedCalendars(), []

    async def listener(jurisdiction, old, new):
        heard.append((jurisdiction, old.jurisdiction, new.jurisdiction, new.version > old.version,
                      new.is_working_day(D(2026, 12, 24))))

    calendars.add_listener(listener)
    spec = CalendarSpec(jurisdiction="kabupaten-baru", timezone="Asia/Makassar", changes=(
        DayChange(op="remove", date=D(2026, 12, 24)),))
    saved = await calendars.change(spec, actor="op-1", note="kalender sendiri")
    assert heard == [("kabupaten-baru", "*", "kabupaten-baru", True, True)]
    assert [v.version for v in await calendars.history("kabupaten-baru")] == [saved.version]
    assert (await calendars.calendar("kabupaten-baru")).timezone == "Asia/Makassar"
