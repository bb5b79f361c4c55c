"""sla's clock store, the in-memory twin and PostgreSQL alike: a consumer batch that holds a
complaint's submission and its disposition in one transaction reads the clocks and facts once
(`reads_ahead`), sees its own changes from one handler to the next, and writes everything on
commit: clocks, the facts it learnt, the disposition's receipt."""

import json
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from backbone.consumer import ConsumedRecord, EventConsumer, Outcome
from backbone.kafka import InMemoryPublisher
from contracts import events as ev
from contracts.envelope import to_record, wrap
from sla.adapters.clocks import SlaInMemoryUnitOfWork, SlaPgUnitOfWork
from sla.domain.calendar import WorkingCalendar
from sla.handlers import ClockKeeper, subscribe
from sla.policy_registry import FixedPolicies
from tests.integration.helpers import read_ahead, twin_or_postgres

pytestmark = pytest.mark.integration

WIB = ZoneInfo("Asia/Jakarta")
MONDAY = datetime.combine(date(2026, 11, 23), time(9), tzinfo=WIB)
CAL = WorkingCalendar("Asia/Jakarta", {}, jurisdiction="kota-x")


class OneCalendar:
    async def calendar(self, jurisdiction):
        return CAL


@pytest.fixture(params=["memory", "postgres"])
async def make_uow(request, pool, prefix):
    return await twin_or_postgres(request.param, pool, prefix, "sla", SlaInMemoryUnitOfWork,
                                  lambda schema: SlaPgUnitOfWork(pool, "/sla", prefix, schema))


def submitted(cid, tn, at, category="pupr.jalan-rusak"):
    return ev.ComplaintSubmittedV1(complaint_id=cid, occurred_at=at, tracking_number=tn,
                                   jurisdiction="kota-x", channel="web", title="t",
                                   description="d", category=category)


def disposed(cid, tn, at, opd="dinas-pupr"):
    return ev.ComplaintDisposedV1(complaint_id=cid, occurred_at=at, tracking_number=tn,
                                  jurisdiction="kota-x", action="assign", from_status="submitted",
                                  to_status="disposed", actor_role="system", opd_id=opd,
                                  opd_name="Dinas PUPR")


def record(event, offset):
    key, value, headers = to_record(wrap(event, "/intake"))
    return ConsumedRecord("t.intake", 0, offset, key, value, headers)


async def test_one_batch_reads_once_sees_its_own_changes_and_writes_them_all(make_uow):
    consumer = EventConsumer("sla", make_uow, InMemoryPublisher(), "t.dlq", max_attempts=1)
    subscribe(consumer, ClockKeeper(lambda: MONDAY + timedelta(minutes=5), OneCalendar(),
                                    FixedPolicies()))
    a, b = uuid.uuid4(), uuid.uuid4()
    batch = [record(submitted(a, "1", MONDAY), 0), record(submitted(b, "2", MONDAY), 1),
             record(disposed(a, "1", MONDAY + timedelta(minutes=1)), 2)]
    assert await consumer.process_batch(batch) == [Outcome.APPLIED] * 3

    async with make_uow() as uow:
        await read_ahead(uow, uow.clocks.reads_ahead([a, b]))
        of_a, of_b = await uow.clocks.for_complaint(a), await uow.clocks.for_complaint(b)
        facts = await uow.clocks.facts(a)
    assert [(c.kind, c.state, c.outcome) for c in of_a] == [
        ("verification", "stopped", "met"), ("first_response", "running", None),
        ("resolution", "running", None)], "the disposition saw the submission's clock"
    assert all(c.category == "pupr.jalan-rusak" for c in of_a[1:]), \
        "the disposition's clocks took the category the submission remembered"
    assert [(c.kind, c.state) for c in of_b] == [("verification", "running")]
    assert facts == ("kota-x", "pupr.jalan-rusak", None)

    # A later batch: a second disposition (reassigned) and a replayed older one.
    later = MONDAY + timedelta(minutes=30)
    assert await consumer.process_batch([
        record(disposed(a, "1", later, opd="dlh"), 3)]) == [Outcome.APPLIED]
    async with make_uow() as uow:
        of_a = await uow.clocks.for_complaint(a)
    assert [(c.kind, c.opd_id, c.state) for c in of_a if c.kind != "verification"] == [
        ("first_response", "dinas-pupr", "stopped"), ("resolution", "dlh", "running"),
        ("first_response", "dlh", "running")]
    if isinstance(uow, SlaPgUnitOfWork):
        async with make_uow() as uow:
            rows = await uow.conn.fetch("SELECT opd_id FROM received WHERE complaint_id = $1"
                                        " ORDER BY disposed_at", a)
        assert [r["opd_id"] for r in rows] == ["dinas-pupr", "dlh"]


async def test_a_quiet_start_is_kept_and_told_by_the_firing_loop(make_uow):
    """announce_at survives the store; the firing loop finds the clock by it and tells the start
    as of the submission, once."""
    from sla.firing import FiringLoop

    now = [MONDAY]
    consumer = EventConsumer("sla", make_uow, InMemoryPublisher(), "t.dlq", max_attempts=1)
    subscribe(consumer, ClockKeeper(lambda: now[0], OneCalendar(), FixedPolicies(),
                                    verification_quiet=timedelta(seconds=15)))
    a = uuid.uuid4()
    assert await consumer.process_batch([record(submitted(a, "1", MONDAY), 0)]) == [Outcome.APPLIED]
    async with make_uow() as uow:
        [clock] = await uow.clocks.for_complaint(a)
    assert clock.announce_at == MONDAY + timedelta(seconds=15)
    assert clock.next_fire_at == clock.announce_at

    loop = FiringLoop("sla", make_uow, OneCalendar(), lambda: now[0], batch_size=10)
    now[0] = MONDAY + timedelta(seconds=16)
    fired = 0
    while await loop.fire_once():
        fired += 1
        assert fired < 5, "the loop keeps claiming a clock that owes nothing"
    async with make_uow() as uow:
        [clock] = await uow.clocks.for_complaint(a)
        if isinstance(uow, SlaPgUnitOfWork):
            told = await uow.conn.fetch("SELECT headers, value FROM outbox ORDER BY id")
            assert [(dict(json.loads(r["headers"]))["ce_type"], json.loads(r["value"])["clock"])
                    for r in told] == [("id.lapor.SlaClockStarted.v1", "verification")]
    assert clock.announce_at is None and clock.next_fire_at > now[0]
