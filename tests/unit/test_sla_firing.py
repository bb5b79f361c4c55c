"""The firing loop with the in-memory twin and an injected clock: warnings once each, in
working time and never at night; the breach at the deadline; the escalation ladder in working
days; auto-close due; nothing fired twice however often the loop looks."""

import uuid
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from contracts import events as ev
from sla.adapters.clocks import SlaInMemoryUnitOfWork
from sla.domain.calendar import WorkingCalendar
from sla.domain.clock import Clock
from sla.domain.policy import EscalationStep, Plan, Selected, WarningRule
from sla.firing import FiringLoop

pytestmark = pytest.mark.unit

WIB = ZoneInfo("Asia/Jakarta")
OFFICE = {d: (time(7, 30), time(16, 0)) for d in range(5)}
# 24 and 25 Dec 2026 are not working days (cuti bersama, Christmas).
HOLIDAYS = {date(2026, 12, 24): "Cuti bersama Natal", date(2026, 12, 25): "Natal"}


class OneCalendar:
    def __init__(self, cal):
        self.cal = cal

    async def calendar(self, jurisdiction):
        return self.cal


def wib(y, m, d, hh=9, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=WIB)


def terms(days, warnings=(), escalation=()):
    return Selected("first_response", days, Plan(tuple(warnings), tuple(escalation)), 3)


class Harness:
    def __init__(self, cal, start, kind="first_response", **plan):
        self.now = start
        self.uow = SlaInMemoryUnitOfWork()
        self.cal = cal
        self.loop = FiringLoop("sla", lambda: self.uow, OneCalendar(cal), lambda: self.now,
                               batch_size=50)
        self.clock = Clock.start(
            complaint_id=uuid.uuid4(), tracking_number="7", jurisdiction="kota-x", kind=kind,
            opd_id="dlh", category=None, report_type=None, terms=terms(**plan), started_at=start,
            now=start, calendar=cal)
        self.clock.events.clear()
        self.uow.clocks.rows[self.clock.clock_id] = self.clock

    async def at(self, moment):
        self.now = moment
        for _ in range(20):                      # bounded: a clock owing nothing is not claimed
            if not await self.loop.fire_once():
                break
        else:
            raise AssertionError("the loop keeps claiming a clock that owes nothing")
        return [e for e in self.uow.outbox.events if not isinstance(e, ev.SlaClockStartedV1)]


async def test_warnings_come_once_each_in_office_hours_then_the_breach_then_the_ladder():
    cal = WorkingCalendar("Asia/Jakarta", HOLIDAYS, office_hours=OFFICE)
    # Monday 21 Dec 10:00, 3 working days: Tue 22, Wed 23, Mon 28 (24 and 25 are off)
    h = Harness(cal, wib(2026, 12, 21, 10), days=3,
                warnings=[WarningRule(elapsed=0.5), WarningRule(hours_left=4)],
                escalation=[EscalationStep(level="opd_admin"),
                            EscalationStep(level="opd_head", after_working_days=2)])
    assert h.clock.due_at == datetime(2026, 12, 28, 23, 59, 59, tzinfo=WIB)
    # working time: Mon 6 h + Tue 8.5 + Wed 8.5 + Mon 8.5 = 31.5 h; half is 15.75 h, reached
    # Wednesday 23 Dec at 07:30 + 1.25 h = 08:45
    assert await h.at(wib(2026, 12, 23, 8, 44)) == []
    told = await h.at(wib(2026, 12, 23, 8, 45))
    assert [(type(e).__name__, e.threshold) for e in told] == [("SlaWarningIssuedV1", "elapsed:0.5")]
    assert told[0].elapsed_share == pytest.approx(0.5, abs=0.01)
    # four working hours left: Monday 28 Dec at 12:00 (nothing over Christmas)
    assert len(await h.at(wib(2026, 12, 27, 23, 0))) == 1
    told = await h.at(wib(2026, 12, 28, 12, 0))
    assert [e.threshold for e in told if isinstance(e, ev.SlaWarningIssuedV1)] == [
        "elapsed:0.5", "hours_left:4"]
    told = await h.at(datetime(2026, 12, 29, 0, 0, 0, tzinfo=WIB))
    assert [type(e).__name__ for e in told[2:]] == ["SlaBreachedV1", "SlaEscalatedV1"]
    assert told[3].level == "opd_admin" and told[3].step == 1
    # the next step: the morning of the 2nd working day after the due day (Wed 30 Dec 07:30)
    assert len(await h.at(wib(2026, 12, 30, 7, 29))) == 4
    told = await h.at(wib(2026, 12, 30, 7, 30))
    assert (told[-1].level, told[-1].step) == ("opd_head", 2)
    assert len(await h.at(wib(2027, 1, 30))) == 5, "nothing more, however late"
    assert h.uow.clocks.open_clocks()[0].next_fire_at is None


async def test_a_warning_that_falls_at_night_waits_for_the_next_working_morning():
    cal = WorkingCalendar("Asia/Jakarta", HOLIDAYS)   # no office hours: whole working days
    # Thursday 19 Nov 20:00, 2 working days -> Mon 23 Nov 23:59:59; half-time falls at night
    h = Harness(cal, wib(2026, 11, 19, 20), days=2, warnings=[WarningRule(elapsed=0.5)])
    assert await h.at(wib(2026, 11, 20, 23, 0)) == []       # Friday night: not yet
    assert await h.at(wib(2026, 11, 22, 12, 0)) == []       # Sunday: never on non-working time
    assert await h.at(wib(2026, 11, 23, 7, 59)) == []       # before the window opens
    told = await h.at(wib(2026, 11, 23, 8, 0))              # Monday 08:00
    assert len(told) == 1 and told[0].occurred_at == wib(2026, 11, 23, 8, 0)
    # half-time fell on Friday 22:00 (4 h Thursday + 22 h of Friday's 24): delivered Monday


async def test_a_warning_that_could_only_come_after_the_deadline_is_left_to_the_breach():
    cal = WorkingCalendar("Asia/Jakarta", HOLIDAYS)
    # 0 working days from Monday 17:00: due 23:59:59 the same day; the 90% mark is at night
    h = Harness(cal, wib(2026, 11, 23, 17), days=0, warnings=[WarningRule(elapsed=0.9)])
    told = await h.at(datetime(2026, 11, 24, 0, 0, 5, tzinfo=WIB))
    assert [type(e).__name__ for e in told] == ["SlaBreachedV1"]


async def test_auto_close_is_due_when_the_citizen_stayed_silent():
    cal = WorkingCalendar("Asia/Jakarta", HOLIDAYS)
    h = Harness(cal, wib(2026, 11, 23, 10), kind="auto_close", days=10)
    assert await h.at(wib(2026, 12, 7, 23, 59)) == []
    told = await h.at(wib(2026, 12, 8, 0, 0))
    assert [type(e).__name__ for e in told] == ["SlaAutoCloseDueV1", "SlaClockStoppedV1"]
    assert told[1].outcome == "expired"
    assert not h.uow.clocks.open_clocks()


async def test_a_paused_clock_never_fires_and_resumes_with_its_deadline_moved():
    cal = WorkingCalendar("Asia/Jakarta", HOLIDAYS)
    h = Harness(cal, wib(2026, 11, 23, 9), days=1)          # due Tue 24 Nov 23:59:59
    clock = h.uow.clocks.rows[h.clock.clock_id]
    clock.pause(wib(2026, 11, 23, 12), cal, "waiting for the citizen", wib(2026, 11, 23, 12))
    assert clock.next_fire_at is None
    assert await h.at(wib(2026, 11, 30)) == []
    clock.resume(wib(2026, 11, 30, 12), cal, "information added", wib(2026, 11, 30, 12))
    # 12 h on Monday + the whole Tuesday were left: now Mon 30 Nov 12:00 -> Tue 1 Dec 23:59:59
    assert clock.due_at == datetime(2026, 12, 1, 23, 59, 59, tzinfo=WIB)
    told = await h.at(datetime(2026, 12, 2, 0, 0, tzinfo=WIB))
    assert [type(e).__name__ for e in told] == ["SlaBreachedV1"]
