"""sla's facts in intake: each deadline is shown on the citizen's timeline as it is set, paused
and moved; the disposition tells sla the category and report type; an auto-close due closes a
complaint that still waits for the citizen and changes nothing otherwise."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from contracts.events import (
    Classified, ComplaintAssignedV1, ComplaintDisposedV1, SlaAutoCloseDueV1, SlaClockPausedV1,
    SlaClockResumedV1, SlaClockStartedV1,
)
from contracts.lifecycle import Action, Role, Status
from intake import handlers
from intake.adapters.uow import IntakeInMemoryUnitOfWork
from intake.domain.actions import TakeAction
from intake.domain.actors import Actor
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
