"""sla's handlers with the in-memory twins and an injected clock: which lifecycle fact starts,
pauses, resumes and stops which clock, including the rule that a "bukan wewenang" never
restarts the citizen's wait from zero."""

import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from contracts import events as ev
from sla.adapters.clocks import SlaInMemoryUnitOfWork
from sla.domain.calendar import WorkingCalendar
from sla.firing import FiringLoop
from sla.handlers import ClockKeeper
from sla.policy_registry import FixedPolicies

pytestmark = pytest.mark.unit

WIB = ZoneInfo("Asia/Jakarta")
# Christmas week 2026: 24 Dec cuti bersama, 25 Dec Christmas.
CAL = WorkingCalendar("Asia/Jakarta", {date(2026, 12, 24): "Cuti bersama Natal",
                                        date(2026, 12, 25): "Natal"}, jurisdiction="kota-x")


class OneCalendar:
    async def calendar(self, jurisdiction):
        return CAL


def wib(day, hour=9, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=WIB)


class World:
    """A complaint's facts fed to the handlers, with time that moves only when told."""

    def __init__(self, now=wib(date(2026, 11, 23)), quiet=timedelta(0)):   # a Monday
        self.now = now
        self.uow = SlaInMemoryUnitOfWork()
        self.keeper = ClockKeeper(lambda: self.now, OneCalendar(), FixedPolicies(),
                                  verification_quiet=quiet)
        self.cid = uuid.uuid4()
        self.told = []

    def fact(self, model, action, to_status, **fields):
        base = dict(complaint_id=self.cid, occurred_at=self.now, tracking_number="42",
                    jurisdiction="kota-x", action=action, from_status="x", to_status=to_status,
                    actor_role="system")
        return model(**{**base, **fields})

    async def feed(self, handler, event):
        async with self.uow:
            await handler(event, self.uow)
        self.told = list(self.uow.outbox.events)

    def clocks(self, kind=None):
        return sorted((c for c in self.uow.clocks.values() if kind in (None, c.kind)),
                      key=lambda c: c.started_at)

    def open(self, kind):
        [clock] = [c for c in self.clocks(kind) if c.open]
        return clock

    async def submit(self, category="pupr.jalan-rusak"):
        await self.feed(self.keeper.on_submitted, ev.ComplaintSubmittedV1(
            complaint_id=self.cid, occurred_at=self.now, tracking_number="42",
            jurisdiction="kota-x", channel="web", title="t", description="d", category=category))

    async def dispose(self, opd="dinas-pupr", **more):
        await self.feed(self.keeper.on_disposed, self.fact(
            ev.ComplaintDisposedV1, "assign", "disposed", opd_id=opd, opd_name=opd.upper(), **more))

    async def follow_up(self, opd="dinas-pupr"):
        await self.feed(self.keeper.on_followed_up, self.fact(
            ev.ComplaintFollowedUpV1, "respond", "followed_up", actor_role="opd", opd_id=opd, note="n"))

    async def reject(self, opd="dinas-pupr"):
        await self.feed(self.keeper.on_rejected, self.fact(
            ev.ComplaintRejectedNotAuthorityV1, "reject_not_authority", "returned",
            actor_role="opd", rejecting_opd_id=opd, reason="bukan wewenang kami",
            rejected_by=[opd]))


async def test_submission_starts_verification_and_a_disposition_ends_it():
    w = World()
    await w.submit()
    verification = w.open("verification")
    assert verification.due_at == datetime(2026, 11, 26, 23, 59, 59, tzinfo=WIB)   # 3 working days
    w.now += timedelta(days=1)
    await w.dispose()
    [stopped] = w.clocks("verification")
    assert (stopped.state, stopped.outcome) == ("stopped", "met")
    first = w.open("first_response")
    assert first.opd_id == "dinas-pupr" and first.due_at.date() == date(2026, 12, 1)   # 5 days
    resolution = w.open("resolution")
    assert resolution.working_days == 14 and resolution.opd_id == "dinas-pupr"
    kinds = [(type(e).__name__, e.clock) for e in w.told]
    assert ("SlaClockStoppedV1", "verification") in kinds
    assert ("SlaClockStartedV1", "first_response") in kinds


async def test_the_category_and_report_type_choose_the_terms():
    w = World()
    await w.submit(category="lingkungan.sampah")
    await w.dispose(opd="dlh")
    assert w.open("resolution").working_days == 2   # ringan
    other = World()
    await other.submit(category=None)
    await other.dispose(opd="diskominfo", report_type="permintaan_informasi")
    assert other.open("resolution").working_days == 5   # informasi


async def test_a_reassignment_gives_the_new_opd_its_own_clock_and_a_replay_starts_nothing():
    w = World()
    await w.submit()
    await w.dispose()
    first = w.open("first_response")
    resolution = w.open("resolution")
    w.now += timedelta(days=1)
    moved = w.fact(ev.ComplaintDisposedV1, "reassign", "disposed", opd_id="dlh", opd_name="DLH",
                   previous_opd_id="dinas-pupr", actor_role="operator")
    await w.feed(w.keeper.on_disposed, moved)
    await w.feed(w.keeper.on_disposed, moved)        # redelivered
    old = next(c for c in w.clocks("first_response") if c.clock_id == first.clock_id)
    assert (old.state, old.outcome) == ("stopped", "withdrawn")
    new = w.open("first_response")
    assert new.opd_id == "dlh" and new.started_at == w.now
    again = w.open("resolution")          # the citizen's wait: handed over, not restarted
    assert again.clock_id == resolution.clock_id and again.opd_id == "dlh"
    assert again.due_at == resolution.due_at
    assert len(w.clocks("first_response")) == 2


async def test_a_follow_up_meets_the_first_response_and_starts_auto_close():
    w = World()
    await w.submit()
    await w.dispose()
    w.now += timedelta(days=2)
    await w.follow_up()
    [first] = w.clocks("first_response")
    assert first.outcome == "met" and first.working_seconds_used > 0
    assert w.open("resolution").state == "paused"
    auto = w.open("auto_close")
    assert auto.due_at == CAL.deadline(w.now, 10)
    # a second follow-up replaces the auto-close clock: 10 days after the LAST follow-up
    w.now += timedelta(days=1)
    await w.follow_up()
    assert w.open("auto_close").started_at == w.now
    assert sum(c.state == "superseded" for c in w.clocks("auto_close")) == 1


async def test_a_citizen_reply_resumes_resolution_with_the_time_it_had_left():
    w = World()
    await w.submit()
    await w.dispose()
    before = w.open("resolution").due_at
    w.now += timedelta(days=1)                    # Tuesday: follow-up, resolution waits
    await w.follow_up()
    w.now += timedelta(days=7)                    # next Tuesday the citizen answers
    await w.feed(w.keeper.on_citizen_replied, w.fact(
        ev.CitizenRepliedV1, "citizen_reply", "citizen_replied", actor_role="citizen",
        opd_id="dinas-pupr", note="belum beres"))
    resolution = w.open("resolution")
    assert resolution.state == "running"
    # paused for 5 working days (Tue 09:00 to Tue 09:00 a week later): due moves 5 working days
    assert resolution.due_at == datetime.combine(CAL.add_working_days(before.date(), 5),
                                                 time(23, 59, 59), tzinfo=WIB)
    assert w.clocks("auto_close")[-1].outcome == "withdrawn"


async def test_postponement_pauses_verification_and_information_resumes_it():
    w = World()
    await w.submit()
    due = w.open("verification").due_at
    w.now += timedelta(hours=2)
    await w.feed(w.keeper.on_postponed, w.fact(ev.ComplaintPostponedV1, "postpone", "postponed",
                                               actor_role="operator", note="foto?"))
    assert w.open("verification").state == "paused"
    w.now += timedelta(days=7)                    # a week later, same hour: 5 working days
    await w.feed(w.keeper.on_information_added, w.fact(
        ev.ComplaintInformationAddedV1, "provide_info", "submitted", actor_role="citizen",
        note="ini fotonya"))
    resumed = w.open("verification")
    assert resumed.state == "running"
    assert resumed.due_at == datetime.combine(CAL.add_working_days(due.date(), 5), time(23, 59, 59),
                                              tzinfo=WIB)
    assert any(isinstance(e, ev.SlaClockResumedV1) and e.previous_due_at == due for e in w.told)


async def test_bukan_wewenang_never_restarts_the_citizens_wait_from_zero():
    w = World()
    await w.submit()                              # Monday 09:00, 3 working days to dispose
    w.now += timedelta(days=2)                    # Wednesday 09:00: two working days used
    await w.dispose()
    w.now += timedelta(days=5)                    # next Monday: the OPD says bukan wewenang
    await w.reject()
    first = w.clocks("verification")[0]
    carried = w.open("verification")
    assert carried.clock_id != first.clock_id and carried.started_at == w.now
    left = first.budget_seconds - first.working_seconds_used
    assert left == pytest.approx(carried.budget_seconds, abs=60)
    # about one working day left (Wednesday 09:00 -> Thursday 23:59:59 minus what was used)
    assert carried.due_at == datetime(2026, 12, 1, 23, 59, 59, tzinfo=WIB)
    assert carried.due_at < CAL.deadline(w.now, 3)   # never a fresh three days
    assert w.clocks("first_response")[0].outcome == "withdrawn"
    assert w.open("resolution").opd_id is None          # keeps running, with nobody


async def test_a_rejection_after_the_whole_verification_was_used_leaves_that_working_day():
    w = World()
    await w.submit()
    w.now += timedelta(days=4, hours=6)          # Friday 15:00: disposed late, nothing left
    await w.dispose()
    assert w.clocks("verification")[0].outcome == "late"
    w.now += timedelta(days=3)                    # Monday 15:00: rejected
    await w.reject()
    assert w.open("verification").due_at == CAL.deadline(w.now, 0)


async def test_closing_meets_resolution_and_opens_the_reopen_window_then_reopening_needs_an_answer():
    w = World()
    await w.submit()
    await w.dispose()
    await w.follow_up()
    w.now += timedelta(days=1)
    await w.feed(w.keeper.on_closed, w.fact(ev.ComplaintClosedV1, "close", "closed",
                                            actor_role="citizen", opd_id="dinas-pupr"))
    assert w.clocks("resolution")[0].outcome == "met"
    assert w.clocks("auto_close")[0].outcome == "withdrawn"
    window = w.open("reopen_window")
    assert window.due_at == CAL.deadline(w.now, 10)
    w.now += timedelta(days=1)
    await w.feed(w.keeper.on_reopened, w.fact(ev.ComplaintReopenedV1, "reopen", "reopened",
                                              actor_role="citizen", opd_id="dinas-pupr",
                                              reason="masih rusak"))
    assert w.clocks("reopen_window")[0].outcome == "met"
    assert w.open("first_response").started_at == w.now


async def test_archiving_decides_verification_and_withdraws_the_rest():
    w = World()
    await w.submit()
    await w.feed(w.keeper.on_archived, w.fact(ev.ComplaintArchivedV1, "archive", "archived",
                                              actor_role="operator", reason="spam"))
    assert [c.outcome for c in w.clocks()] == ["met"]
    assert not w.uow.clocks.open_clocks()


async def test_ratings_and_dispositions_are_kept_for_the_figures():
    w = World()
    await w.submit()
    await w.dispose()
    await w.feed(w.keeper.on_rated, w.fact(ev.ComplaintRatedV1, "rate", "closed",
                                           actor_role="citizen", opd_id="dinas-pupr", rating=4))
    assert list(w.uow.clocks.ratings.rows.values()) == [("dinas-pupr", "kota-x", 4)]
    assert len(w.uow.clocks.received_rows.rows) == 1


# ---- the verification clock's quiet start


def told(w, *kinds):
    return [(type(e).__name__.removeprefix("SlaClock").removesuffix("V1"), e.clock)
            for e in w.told if e.clock in kinds]


async def fire(w):
    """What the firing loop owes at `w.now`, on the same twin."""
    loop = FiringLoop("sla", lambda: w.uow, OneCalendar(), lambda: w.now, batch_size=50)
    while await loop.fire_once():
        pass
    w.told = list(w.uow.outbox.events)


async def test_a_complaint_routed_within_the_quiet_time_never_hears_of_verification():
    w = World(quiet=timedelta(seconds=15))
    submitted_at = w.now
    await w.submit()
    assert told(w, "verification") == []
    verification = w.open("verification")
    assert verification.announce_at == submitted_at + timedelta(seconds=15)
    assert verification.next_fire_at == verification.announce_at, "the loop will come back"
    w.now += timedelta(seconds=2)
    await w.dispose()
    assert told(w, "verification") == [], "neither started nor stopped: nobody heard of it"
    [stopped] = w.clocks("verification")
    assert (stopped.state, stopped.outcome, stopped.announce_at) == ("stopped", "met", None)
    assert told(w, "first_response", "resolution") == [
        ("Started", "first_response"), ("Started", "resolution")]
    w.now += timedelta(seconds=30)
    await fire(w)
    assert told(w, "verification") == [], "a stopped clock is never announced"


async def test_a_complaint_still_waiting_hears_its_verification_deadline_as_of_its_submission():
    w = World(quiet=timedelta(seconds=15))
    submitted_at = w.now
    await w.submit()
    w.now += timedelta(seconds=10)
    await fire(w)
    assert told(w, "verification") == [], "not yet"
    w.now += timedelta(seconds=6)
    await fire(w)
    [started] = [e for e in w.told if e.clock == "verification"]
    assert (started.occurred_at, started.started_at) == (submitted_at, submitted_at)
    assert started.due_at == datetime(2026, 11, 26, 23, 59, 59, tzinfo=WIB)
    clock = w.open("verification")
    assert clock.announce_at is None and clock.next_fire_at is not None   # its warnings, breach
    w.now += timedelta(hours=1)
    await w.dispose()
    assert told(w, "verification") == [("Started", "verification"), ("Stopped", "verification")]


async def test_anything_else_told_about_a_quiet_clock_tells_its_start_first():
    w = World(quiet=timedelta(seconds=15))
    await w.submit()
    w.now += timedelta(seconds=5)
    await w.feed(w.keeper.on_postponed, w.fact(
        ev.ComplaintPostponedV1, "postpone", "postponed", actor_role="operator", note="alamat?"))
    assert told(w, "verification") == [("Started", "verification"), ("Paused", "verification")]


async def test_a_submission_read_after_its_quiet_time_is_told_at_once():
    """A channel message delivered late, or sla catching up after an outage."""
    w = World(quiet=timedelta(seconds=15))
    w.now += timedelta(minutes=5)
    await w.feed(w.keeper.on_submitted, ev.ComplaintSubmittedV1(
        complaint_id=w.cid, occurred_at=w.now - timedelta(minutes=5), tracking_number="42",
        jurisdiction="kota-x", channel="web", title="t", description="d"))
    assert told(w, "verification") == [("Started", "verification")]
