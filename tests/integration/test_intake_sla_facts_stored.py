"""sla's facts applied through intake's handlers on the twin and on PostgreSQL alike. Their
guards read the complaint's timeline (a replayed deadline, an older clock, whether an auto-close
is still current), so a change must load the timeline: on PostgreSQL `get` once did not, and an
auto-close never closed anything there while every twin test passed."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from backbone.pii import PiiCipher
from contracts.events import (
    Classified, ComplaintAssignedV1, SlaAutoCloseDueV1, SlaClockStartedV1,
)
from contracts.lifecycle import Action, Role, Status
from intake import handlers
from intake.adapters.uow import IntakeInMemoryUnitOfWork, IntakePgUnitOfWork
from intake.domain.actions import TakeAction
from intake.domain.actors import Actor
from intake.domain.tokens import AccessTokens
from intake.schemas import SubmitComplaintRequest
from tests.integration.helpers import twin_or_postgres

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
CIPHER = PiiCipher(PiiCipher.new_key())
PUPR = handlers.Caller(Actor(Role.OPD, subject="s-1", opd_id="dinas-pupr"))


@pytest.fixture(params=["memory", "postgres"])
async def make_uow(request, pool, prefix):
    return await twin_or_postgres(request.param, pool, prefix, "intake", IntakeInMemoryUnitOfWork,
                                  lambda schema: IntakePgUnitOfWork(pool, CIPHER, prefix, schema))


async def disposed(make_uow):
    deps = handlers.SubmitDeps(clock=lambda: T0, cipher=CIPHER, tokens=AccessTokens(b"k" * 32),
                               default_jurisdiction="kota-contoh")
    body = {"title": "Jalan berlubang", "description": "Jalan berlubang besar di depan sekolah.",
            "reporter": {"name": "Siti", "email": "siti@example.id"}}
    async with make_uow() as uow:
        complaint = (await handlers.submit_complaint(
            SubmitComplaintRequest.model_validate(body).to_command(), uow, deps)).complaint
    await apply(make_uow, handlers.on_complaint_assigned, ComplaintAssignedV1(
        complaint_id=complaint.id, occurred_at=T0, tracking_number=complaint.tracking_number,
        jurisdiction="kota-contoh", opd_id="dinas-pupr", opd_name="Dinas PUPR", confidence=0.9,
        reason="r", classified=Classified(category="pupr.jalan-rusak", report_type="pengaduan")))
    return complaint


async def apply(make_uow, handler, event):
    async with make_uow() as uow:
        await handler(event, uow)
    async with make_uow() as uow:
        return await uow.complaints.get_by_tracking_number(event.tracking_number)


def started(complaint, clock, minutes, due, started_at=None):
    return SlaClockStartedV1(
        complaint_id=complaint.id, occurred_at=T0 + timedelta(minutes=minutes),
        tracking_number=complaint.tracking_number, clock=clock, opd_id="dinas-pupr",
        started_at=started_at or T0 + timedelta(minutes=minutes), due_at=due, working_days=3,
        timezone="Asia/Jakarta", clock_id=uuid.uuid4())


async def test_an_auto_close_due_after_a_follow_up_closes_and_a_replay_changes_nothing(make_uow):
    complaint = await disposed(make_uow)
    async with make_uow() as uow:
        await handlers.take_action(complaint.tracking_number, TakeAction(
            Action.RESPOND, note="Sudah ditambal."), PUPR, uow, lambda: T0 + timedelta(minutes=5))
    clock = started(complaint, "auto_close", 6, T0 + timedelta(days=14))
    await apply(make_uow, handlers.on_sla_clock_started, clock)
    due = SlaAutoCloseDueV1(
        complaint_id=complaint.id, occurred_at=T0 + timedelta(days=14, minutes=1),
        tracking_number=complaint.tracking_number, clock="auto_close", clock_id=clock.clock_id,
        due_at=clock.due_at)
    closed = await apply(make_uow, handlers.on_sla_auto_close_due, due)
    assert closed.status is Status.CLOSED and closed.history[-1].actor == "sla"
    again = await apply(make_uow, handlers.on_sla_auto_close_due, due)
    assert again.status is Status.CLOSED and len(again.history) == len(closed.history)


async def test_a_replayed_or_older_deadline_changes_nothing(make_uow):
    complaint = await disposed(make_uow)
    newer = started(complaint, "first_response", 10, T0 + timedelta(days=4))
    older = started(complaint, "first_response", 11, T0 + timedelta(days=2), started_at=T0)
    await apply(make_uow, handlers.on_sla_clock_started, newer)
    await apply(make_uow, handlers.on_sla_clock_started, newer)          # a replay
    stored = await apply(make_uow, handlers.on_sla_clock_started, older)
    assert stored.first_response_due_at == T0 + timedelta(days=4)
    assert [h.action for h in stored.history].count("deadline_set") == 1


async def test_one_unit_of_work_applies_several_facts_about_one_complaint_in_turn(make_uow):
    """A batch: one transaction, the complaint's facts one after another, each seeing what the
    one before it changed; and a change a handler drops is not seen by the next."""
    complaint = await disposed(make_uow)
    resolution = started(complaint, "resolution", 20, T0 + timedelta(days=10))
    async with make_uow() as uow:
        await handlers.on_sla_clock_started(resolution, uow)
        await handlers.on_sla_clock_started(resolution, uow)          # replayed within the batch
        dropped = await uow.complaints.get(complaint.id)
        dropped.rating = 5                                            # changed, never saved
        await handlers.on_sla_clock_started(
            started(complaint, "first_response", 21, T0 + timedelta(days=3)), uow)
    async with make_uow() as uow:
        stored = await uow.complaints.get_by_tracking_number(complaint.tracking_number)
    assert [h.details.get("clock") for h in stored.history if h.action == "deadline_set"] == [
        "resolution", "first_response"]
    assert stored.first_response_due_at == T0 + timedelta(days=3) and stored.rating is None
