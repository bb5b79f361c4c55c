"""sla's facts in intake: each deadline is shown on the citizen's timeline as it is set, paused
and moved; the disposition tells sla the category and report type; an auto-close due closes a
complaint that still waits for the citizen and changes nothing otherwise."""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from contracts.events import (
    Classified, ComplaintAssignedV1, ComplaintClosedV1, ComplaintDisposedV1, SlaAutoCloseDueV1,
    SlaClockPausedV1, SlaClockResumedV1, SlaClockStartedV1,
)
from contracts.lifecycle import Action, Role, Status
from intake import handlers
from intake.adapters.uow import IntakeInMemoryUnitOfWork
from intake.domain.actions import TakeAction
from intake.domain.actors import Actor
from intake.domain.public import public_timeline
from tests.unit.test_intake_handlers import NOW, submit

pytestmark = pytest.mark.unit
WIB = ZoneInfo("Asia/Jakarta")


async def disposed_complaint(uow):
    complaint = (await submit(uow)).complaint
    async with uow:
        await handlers.on_complaint_assigned(ComplaintAssignedV1(
            complaint_id=complaint.id, occurred_at=NOW, tracking_number=complaint.tracking_number,
            jurisdiction="kota-contoh", opd_id="dinas-pupr", opd_name="Dinas PUPR", confidence=0.9,
            reason="r", classified=Classified(category="pupr.jalan-rusak", report_type="pengaduan")), uow)
    return complaint


def clock_fact(model, complaint, clock, minutes, **fields):
    return model(complaint_id=complaint.id, occurred_at=NOW + timedelta(minutes=minutes),
                 tracking_number=complaint.tracking_number, clock=clock, **fields)


async def apply(uow, handler, event):
    async with uow:
        await handler(event, uow)
    return await uow.complaints.get(event.complaint_id)


async def test_the_disposition_tells_sla_the_category_and_report_type():
    uow = IntakeInMemoryUnitOfWork()
    await disposed_complaint(uow)
    disposed = [e for e in uow.outbox.events if isinstance(e, ComplaintDisposedV1)][-1]
    assert (disposed.category, disposed.report_type) == ("pupr.jalan-rusak", "pengaduan")


async def test_each_deadline_is_on_the_timeline_as_it_is_set_paused_and_moved():
    uow = IntakeInMemoryUnitOfWork()
    complaint = await disposed_complaint(uow)
    due = (NOW + timedelta(days=14)).astimezone(WIB).replace(hour=23, minute=59, second=59)
    await apply(uow, handlers.on_sla_clock_started, clock_fact(
        SlaClockStartedV1, complaint, "resolution", 1, opd_id="dinas-pupr", started_at=NOW,
        due_at=due, working_days=10, timezone="Asia/Jakarta"))
    await apply(uow, handlers.on_sla_clock_paused, clock_fact(
        SlaClockPausedV1, complaint, "resolution", 2, remaining_working_seconds=3600.0,
        reason="waiting for the citizen"))
    moved = due + timedelta(days=3)
    stored = await apply(uow, handlers.on_sla_clock_resumed, clock_fact(
        SlaClockResumedV1, complaint, "resolution", 3, due_at=moved, previous_due_at=due,
        reason="the citizen replied"))
    entries = [(h.action, h.note) for h in stored.history][-3:]
    assert entries[0] == ("deadline_set", f"Target penyelesaian: {due.day} Desember 2026 pukul 23.59 WIB.")
    assert entries[1][0] == "deadline_paused" and "menunggu tanggapan pelapor" in entries[1][1]
    assert entries[2] == ("deadline_moved", "Target penyelesaian berjalan lagi, kini sampai "
                          f"{moved.day} Desember 2026 pukul 23.59 WIB.")
    assert stored.first_response_due_at is None   # only the OPD's first response sets it


async def test_auto_close_due_closes_only_a_complaint_still_waiting_for_the_citizen():
    uow = IntakeInMemoryUnitOfWork()
    complaint = await disposed_complaint(uow)
    due = clock_fact(SlaAutoCloseDueV1, complaint, "auto_close", 60, due_at=NOW + timedelta(days=14))
    stored = await apply(uow, handlers.on_sla_auto_close_due, due)
    assert stored.status is Status.DISPOSED, "not followed up yet: nothing to close"
    async with uow:
        found = await uow.complaints.get(complaint.id)
        found.take(TakeAction(Action.RESPOND, note="Sudah ditambal."),
                   Actor(Role.OPD, "petugas-1", opd_id="dinas-pupr"), NOW + timedelta(minutes=5))
        await uow.complaints.save(found)
    stored = await apply(uow, handlers.on_sla_auto_close_due, due)
    assert stored.status is Status.CLOSED and stored.history[-1].actor == "sla"
    again = await apply(uow, handlers.on_sla_auto_close_due, due)     # a replay changes nothing
    assert again.status is Status.CLOSED and len(again.history) == len(stored.history)


# ---- every kind's wording, newer clocks win, replays and stale auto-closes change nothing

OPD = Actor(Role.OPD, "petugas-1", opd_id="dinas-pupr")
CITIZEN = Actor(Role.CITIZEN, "citizen")


def datetime_wib(year, month, day):
    return datetime(year, month, day, 23, 59, 59, tzinfo=WIB)


def started(complaint, clock, minutes, due, *, started_at=None, opd_id="dinas-pupr", clock_id=None):
    return clock_fact(SlaClockStartedV1, complaint, clock, minutes, opd_id=opd_id,
                      started_at=started_at or NOW + timedelta(minutes=minutes), due_at=due,
                      working_days=3, timezone="Asia/Jakarta", clock_id=clock_id or uuid.uuid4())


async def act(uow, complaint, action, actor, minutes, **fields):
    """A person's action, its history and events recorded as intake records them."""
    async with uow:
        found = await uow.complaints.get(complaint.id)
        found.take(TakeAction(action, **fields), actor, NOW + timedelta(minutes=minutes))
        await handlers._save(uow, found)
    return found


@pytest.mark.parametrize(("clock", "wording"), [
    ("verification", "Batas waktu verifikasi"),
    ("first_response", "Batas waktu tindak lanjut pertama: "),
    ("resolution", "Target penyelesaian: "),
    ("auto_close", "ditutup otomatis bila tidak ada tanggapan pelapor sampai "),
    ("reopen_window", "dapat dibuka kembali sampai "),
])
async def test_every_deadline_reads_in_bahasa_with_local_time_for_citizen_staff_and_public(clock, wording):
    uow = IntakeInMemoryUnitOfWork()
    complaint = await disposed_complaint(uow)
    due = datetime_wib(2026, 11, 27)
    stored = await apply(uow, handlers.on_sla_clock_started, started(complaint, clock, 1, due))
    last = stored.history[-1]
    assert last.action == "deadline_set" and wording in last.note
    assert "27 November 2026 pukul 23.59 WIB" in last.note
    assert last.details["clock"] == clock and last.actor_role == "system" and last.actor == "sla"
    public = public_timeline(stored)[-1]
    assert public.note == last.note and public.by == "system"


async def test_an_older_clock_never_overwrites_a_newer_ones_deadline():
    uow = IntakeInMemoryUnitOfWork()
    complaint = await disposed_complaint(uow)
    newer = started(complaint, "first_response", 10, datetime_wib(2026, 12, 4))
    older = started(complaint, "first_response", 11, datetime_wib(2026, 11, 30),
                    started_at=NOW)    # arrives later, but its clock started earlier
    await apply(uow, handlers.on_sla_clock_started, newer)
    stored = await apply(uow, handlers.on_sla_clock_started, older)
    assert stored.due_at == stored.first_response_due_at == datetime_wib(2026, 12, 4)
    assert [h.details.get("due_at") for h in stored.history if h.action == "deadline_set"] == [
        datetime_wib(2026, 12, 4).isoformat()], "the older deadline is not shown either"
    moved = await apply(uow, handlers.on_sla_clock_resumed, clock_fact(
        SlaClockResumedV1, complaint, "first_response", 12, opd_id="dinas-pupr",
        clock_id=older.clock_id, due_at=datetime_wib(2026, 12, 1), reason="r"))
    assert moved.due_at == datetime_wib(2026, 12, 4), "a moved older clock does not win either"


async def test_a_replayed_deadline_is_shown_once():
    uow = IntakeInMemoryUnitOfWork()
    complaint = await disposed_complaint(uow)
    fact = started(complaint, "resolution", 1, datetime_wib(2026, 12, 10))
    await apply(uow, handlers.on_sla_clock_started, fact)
    paused = clock_fact(SlaClockPausedV1, complaint, "resolution", 2, clock_id=fact.clock_id,
                        remaining_working_seconds=60.0, reason="waiting for the citizen")
    await apply(uow, handlers.on_sla_clock_paused, paused)
    resumed = clock_fact(SlaClockResumedV1, complaint, "resolution", 3, clock_id=fact.clock_id,
                         due_at=datetime_wib(2026, 12, 11), reason="the citizen replied")
    once = await apply(uow, handlers.on_sla_clock_resumed, resumed)
    for handler, event in ((handlers.on_sla_clock_started, fact),
                           (handlers.on_sla_clock_paused, paused),
                           (handlers.on_sla_clock_resumed, resumed)):
        again = await apply(uow, handler, event)
    assert len(again.history) == len(once.history)
    assert once.history[-1].details["started_at"] == fact.started_at.isoformat()


async def test_the_paused_or_moved_clock_of_an_opd_the_complaint_left_is_ignored():
    uow = IntakeInMemoryUnitOfWork()
    complaint = await disposed_complaint(uow)
    before = len((await uow.complaints.get(complaint.id)).history)
    await apply(uow, handlers.on_sla_clock_paused, clock_fact(
        SlaClockPausedV1, complaint, "first_response", 1, opd_id="dlh",
        remaining_working_seconds=1.0, reason="r"))
    stored = await apply(uow, handlers.on_sla_clock_resumed, clock_fact(
        SlaClockResumedV1, complaint, "first_response", 2, opd_id="dlh",
        due_at=datetime_wib(2026, 12, 1), reason="r"))
    assert len(stored.history) == before and stored.due_at is None


async def test_a_reply_and_a_newer_follow_up_make_an_earlier_auto_close_stale():
    uow = IntakeInMemoryUnitOfWork()
    complaint = await disposed_complaint(uow)
    await act(uow, complaint, Action.RESPOND, OPD, 10, note="Akan kami cek.")
    first = started(complaint, "auto_close", 10, datetime_wib(2026, 12, 7), opd_id="dinas-pupr")
    await apply(uow, handlers.on_sla_clock_started, first)
    await act(uow, complaint, Action.CITIZEN_REPLY, CITIZEN, 20, note="Belum diperbaiki.")
    await act(uow, complaint, Action.RESPOND, OPD, 30, note="Sudah ditambal.")
    second = started(complaint, "auto_close", 30, datetime_wib(2026, 12, 8), opd_id="dinas-pupr")
    await apply(uow, handlers.on_sla_clock_started, second)
    published = len(uow.outbox.events)
    stale = await apply(uow, handlers.on_sla_auto_close_due, clock_fact(
        SlaAutoCloseDueV1, complaint, "auto_close", 40, clock_id=first.clock_id, due_at=first.due_at))
    assert stale.status is Status.FOLLOWED_UP and len(uow.outbox.events) == published
    closed = await apply(uow, handlers.on_sla_auto_close_due, clock_fact(
        SlaAutoCloseDueV1, complaint, "auto_close", 50, clock_id=second.clock_id, due_at=second.due_at))
    assert closed.status is Status.CLOSED
    assert (closed.history[-1].action, closed.history[-1].actor_role, closed.history[-1].actor) == (
        "auto_close", "system", "sla")
    [event] = uow.outbox.events[published:]
    assert isinstance(event, ComplaintClosedV1) and (event.actor_role, event.actor) == ("system", "sla")


async def test_an_auto_close_in_any_other_status_is_ignored_quietly():
    uow = IntakeInMemoryUnitOfWork()
    complaint = await disposed_complaint(uow)
    await act(uow, complaint, Action.RESOLVE, OPD, 10, evidence="Foto jalan sudah ditambal.")
    clock = started(complaint, "auto_close", 10, datetime_wib(2026, 12, 7))
    await apply(uow, handlers.on_sla_clock_started, clock)
    await act(uow, complaint, Action.CITIZEN_REPLY, CITIZEN, 20, note="Belum selesai.")
    published = len(uow.outbox.events)
    stored = await apply(uow, handlers.on_sla_auto_close_due, clock_fact(
        SlaAutoCloseDueV1, complaint, "auto_close", 30, clock_id=clock.clock_id, due_at=clock.due_at))
    assert stored.status is Status.CITIZEN_REPLIED and len(uow.outbox.events) == published


async def test_an_auto_close_whose_start_intake_never_saw_counts_from_the_last_follow_up():
    uow = IntakeInMemoryUnitOfWork()
    complaint = await disposed_complaint(uow)
    await act(uow, complaint, Action.RESOLVE, OPD, 10, evidence="Foto jalan sudah ditambal.")
    stored = await apply(uow, handlers.on_sla_auto_close_due, clock_fact(
        SlaAutoCloseDueV1, complaint, "auto_close", 30, clock_id=uuid.uuid4(),
        due_at=datetime_wib(2026, 12, 7)))
    assert stored.status is Status.CLOSED


async def test_an_operators_disposition_carries_the_category_and_no_report_type():
    uow = IntakeInMemoryUnitOfWork()
    complaint = (await submit(uow)).complaint
    await act(uow, complaint, Action.ASSIGN, Actor(Role.OPERATOR, "admin-1"), 1, opd_id="dlh",
              opd_name="DLH")
    routed = await disposed_complaint(uow)
    await act(uow, routed, Action.REASSIGN, Actor(Role.OPERATOR, "admin-1"), 2, opd_id="dlh")
    disposed = [e for e in uow.outbox.events if isinstance(e, ComplaintDisposedV1)]
    assert [(e.opd_id, e.category, e.report_type) for e in disposed] == [
        ("dlh", None, None), ("dinas-pupr", "pupr.jalan-rusak", "pengaduan"),
        ("dlh", "pupr.jalan-rusak", None)]
