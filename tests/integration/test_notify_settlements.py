"""Settling a delivery after a send, on the in-memory twin (a unit of work) and on PostgreSQL
(one statement, no explicit transaction): the new state, the attempt and what is told of it go
in together, once, and only while the delivery is still pending."""

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from contracts.events import NotificationSentV1
from notify.adapters.settlements import PgSettlements, UnitOfWorkSettlements
from notify.adapters.uow import NotifyInMemoryUnitOfWork, NotifyPgUnitOfWork
from notify.domain import outcomes
from notify.domain.facts import Fact
from tests.integration.helpers import twin_or_postgres

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
LEASE = timedelta(seconds=60)


class Side:
    """One side of the contract: a unit-of-work factory, its settlements, and how to read the
    events recorded for the outbox (and how often the relay was woken)."""

    def __init__(self, make_uow, settlements, told) -> None:
        self.make_uow, self.settlements, self._told = make_uow, settlements, told
        self.wakes = 0

    async def told(self) -> list[str]:
        return await self._told()


@pytest.fixture(params=["memory", "postgres"])
async def side(request, pool, prefix):
    make_uow = await twin_or_postgres(
        request.param, pool, prefix, "notify", NotifyInMemoryUnitOfWork,
        lambda schema: NotifyPgUnitOfWork(pool, "/test", prefix, schema))
    if request.param == "memory":
        async def told_twin() -> list[str]:
            return [str(e.delivery_id) for e in make_uow().outbox.events]
        return Side(make_uow, UnitOfWorkSettlements(make_uow), told_twin)

    async def told_pg() -> list[str]:
        rows = await pool.fetch("SELECT value FROM outbox ORDER BY id")
        return [json.loads(row["value"])["delivery_id"] for row in rows]

    def wake() -> None:
        s.wakes += 1
    s = Side(make_uow, PgSettlements(lambda: pool, "/test", prefix, wake), told_pg)
    return s


def sent_of(delivery, attempt) -> NotificationSentV1:
    return NotificationSentV1(
        complaint_id=delivery.complaint_id, occurred_at=attempt.at, tracking_number="1000001",
        channel="email", template=delivery.template, language="id",
        about_event_id=delivery.about_event_id, audience=delivery.audience,
        delivery_id=delivery.id, attempts=delivery.attempts, fell_back_from=[],
        transport=attempt.transport)


async def owed(side, audience="operator"):
    """A staff delivery (no contact needed), claimed."""
    cid = uuid.uuid4()
    fact = Fact(uuid.uuid4(), cid, T0, "operator_sla_breached", {}, jurisdiction="k",
                tracking_number="1000001")
    async with side.make_uow() as uow:
        assert await uow.deliveries.add(fact.delivery_to(uuid.uuid4(), audience))
    async with side.make_uow() as uow:
        [item] = await uow.deliveries.claim_due(T0, 10, LEASE)
    return outcomes.start(item.delivery, ("email",))


async def test_a_settlement_writes_state_attempt_and_events_together_once(side):
    d = await owed(side)
    done, attempt = outcomes.succeeded(d, T0 + timedelta(seconds=1), "smtp", "mx-1")
    told = sent_of(done, attempt)

    assert await side.settlements.settle(done, attempt, [told])
    assert not await side.settlements.settle(done, attempt, [sent_of(done, attempt)]), \
        "settled already: nothing written, nothing told again"

    async with side.make_uow() as uow:
        [(logged, attempts)] = await uow.deliveries.of_complaint(d.complaint_id)
    assert logged.status == "sent" and logged.attempts == 1
    assert [(a.channel, a.outcome, a.provider_ref) for a in attempts] == [("email", "sent", "mx-1")]
    assert await side.told() == [str(d.id)]
    if isinstance(side.settlements, PgSettlements):
        assert side.wakes == 1, "the relay is woken once, for the one settlement that told"


async def test_a_settlement_without_events_tells_nothing(side):
    d = await owed(side)
    deferred, attempt = outcomes.deferred(d, T0 + timedelta(hours=8), T0)
    assert await side.settlements.settle(deferred, attempt)
    async with side.make_uow() as uow:
        [(logged, attempts)] = await uow.deliveries.of_complaint(d.complaint_id)
        again = await uow.deliveries.claim_due(T0 + timedelta(hours=1), 10, LEASE)
    assert logged.status == "pending" and again == [], "deferred past the lease"
    assert [a.outcome for a in attempts] == ["deferred"]
    assert await side.told() == []
    if isinstance(side.settlements, PgSettlements):
        assert side.wakes == 0
