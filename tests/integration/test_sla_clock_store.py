"""sla's clock store, the in-memory twin and PostgreSQL alike: a consumer batch that holds a
complaint's submission and its disposition in one transaction reads the clocks and facts once
(`lock_many`), sees its own changes from one handler to the next, and writes everything on
commit: clocks, the facts it learnt, the disposition's receipt."""

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
from tests.integration.helpers import twin_or_postgres

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
        await uow.clocks.lock_many([a, b])
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
