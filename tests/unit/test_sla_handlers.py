import uuid
from datetime import datetime, timedelta, timezone

from contracts.events import ComplaintClosedV1, ComplaintDisposedV1, SlaClockStartedV1
from sla.adapters.clocks import SlaInMemoryUnitOfWork
from sla.config import SlaSettings
from sla.handlers import make_on_complaint_closed, make_on_complaint_disposed

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)  # a Friday
TZ = "Asia/Jakarta"
CID = uuid.uuid4()


def disposed(opd_id="dlh", at=NOW, previous=None):
    return ComplaintDisposedV1(
        complaint_id=CID, occurred_at=at, tracking_number="1", jurisdiction="k",
        action="reassign" if previous else "assign", from_status="submitted", to_status="disposed",
        actor_role="operator" if previous else "system", opd_id=opd_id, opd_name=opd_id.upper(),
        previous_opd_id=previous)


def closed(at):
    return ComplaintClosedV1(complaint_id=CID, occurred_at=at, tracking_number="1", jurisdiction="k",
                             action="close", from_status="resolved", to_status="closed",
                             actor_role="citizen", opd_id="dlh")


async def feed(uow, handler, *events):
    for event in events:
        async with uow:
            await handler(event, uow)


async def test_a_disposition_starts_the_first_response_clock_once():
    uow = SlaInMemoryUnitOfWork()
    handler = make_on_complaint_disposed(lambda: NOW, TZ, 5)
    await feed(uow, handler, disposed(), disposed())
    [clock] = uow.outbox.events
    assert isinstance(clock, SlaClockStartedV1) and clock.clock == "first_response"
    assert clock.due_at.isoformat() == "2026-11-27T23:59:59+07:00"
    assert clock.started_at == NOW and clock.working_days == 5 and clock.opd_id == "dlh"


async def test_a_reassignment_gives_the_new_opd_its_own_clock_and_replays_start_nothing():
    uow = SlaInMemoryUnitOfWork()
    handler = make_on_complaint_disposed(lambda: NOW, TZ, 5)
    later = NOW + timedelta(days=3)                     # Monday 23 November
    first, moved = disposed(), disposed("dinkes", later, previous="dlh")
    await feed(uow, handler, first, moved, first, moved)
    assert [(c.opd_id, c.due_at.isoformat()) for c in uow.outbox.events] == [
        ("dlh", "2026-11-27T23:59:59+07:00"), ("dinkes", "2026-11-30T23:59:59+07:00")]
    [running] = uow.clocks.running()
    assert running.opd_id == "dinkes", "the OPD that let it go has no clock running"
    back = disposed("dlh", later + timedelta(days=1), previous="dinkes")
    await feed(uow, handler, back)
    assert [c.opd_id for c in uow.outbox.events] == ["dlh", "dinkes", "dlh"]
    assert [c.started_at for c in uow.clocks.running()] == [back.occurred_at]


async def test_each_closing_opens_its_own_reopen_window_once():
    uow = SlaInMemoryUnitOfWork()
    handler = make_on_complaint_closed(lambda: NOW, TZ, 10)
    again = NOW + timedelta(days=10)                    # Monday 30 November, after a reopen
    await feed(uow, handler, closed(NOW), closed(NOW), closed(again), closed(again))
    windows = uow.outbox.events
    assert [w.clock for w in windows] == ["reopen_window", "reopen_window"]
    assert [w.due_at.isoformat() for w in windows] == [
        "2026-12-04T23:59:59+07:00", "2026-12-14T23:59:59+07:00"]
    assert all(w.working_days == 10 and w.timezone == TZ for w in windows)
    assert [w.started_at for w in uow.clocks.running()] == [again]


async def test_a_clock_and_its_event_are_kept_or_dropped_together():
    uow = SlaInMemoryUnitOfWork()
    handler = make_on_complaint_disposed(lambda: NOW, TZ, 5)
    try:
        async with uow:
            await handler(disposed(), uow)
            raise RuntimeError("the transaction fails")
    except RuntimeError:
        pass
    assert uow.outbox.events == [] and uow.clocks.running() == []
    await feed(uow, handler, disposed())
    assert len(uow.outbox.events) == 1


def test_the_reopen_window_is_ten_working_days_unless_configured():
    assert SlaSettings(database_url="postgresql://db/x").reopen_window_working_days == 10
    assert SlaSettings(database_url="postgresql://db/x",
                       reopen_window_working_days=15).reopen_window_working_days == 15
