"""One contract, two implementations: the in-memory twin and PostgreSQL behave alike."""

import uuid
from datetime import datetime, timezone

import pytest

from backbone.uow import InMemoryUnitOfWork, PgUnitOfWork
from contracts.events import NotificationSentV1


def event():
    return NotificationSentV1(complaint_id=uuid.uuid4(), occurred_at=datetime.now(timezone.utc),
                              tracking_number="1", channel="email", template="t", language="id",
                              about_event_id=uuid.uuid4())


@pytest.fixture(params=["memory", "postgres"])
def make_uow(request, pool, prefix):
    if request.param == "memory":
        twin = InMemoryUnitOfWork()

        async def staged():
            return len(twin.outbox.committed)

        return (lambda: twin), staged
    async def stored():
        return await pool.fetchval("SELECT count(*) FROM outbox")

    return (lambda: PgUnitOfWork(pool, "/test", prefix, prefix.rstrip("."))), stored


async def test_commit_keeps_outbox_and_inbox_rollback_forgets_both(make_uow):
    factory, outbox_size = make_uow
    async with factory() as uow:
        assert await uow.inbox.claim("c", "e1")
        await uow.outbox.record(event())
    with pytest.raises(RuntimeError):
        async with factory() as uow:
            assert await uow.inbox.claim("c", "e2")
            await uow.outbox.record(event())
            raise RuntimeError("rolled back")
    async with factory() as uow:
        assert not await uow.inbox.claim("c", "e1"), "applied events are remembered"
        assert await uow.inbox.claim("c", "e2"), "a rolled-back claim is forgotten"
        assert await uow.inbox.claim("other-consumer", "e1"), "claims are per consumer"
    assert await outbox_size() == 1


async def test_work_left_for_the_commit_runs_once_in_the_transaction_or_not_at_all(make_uow):
    """`before_commit`: a step registered (twice) by the handlers runs once after the last of
    them, and what it records commits with the rest; if it fails, nothing of the unit of work
    is kept; a unit of work that fails first never runs it."""
    factory, outbox_size = make_uow
    ran: list[str] = []

    async def step():
        ran.append("step")
        await uow.outbox.record(event())

    async with factory() as uow:
        assert await uow.inbox.claim("c", "b1")
        uow.before_commit(step)
        uow.before_commit(step)
        assert ran == [], "not before the handlers are done"
    assert ran == ["step"] and await outbox_size() == 1

    async def failing():
        raise RuntimeError("the batch's step failed")

    with pytest.raises(RuntimeError):
        async with factory() as uow:
            assert await uow.inbox.claim("c", "b2")
            await uow.outbox.record(event())
            uow.before_commit(failing)
    with pytest.raises(RuntimeError):
        async with factory() as uow:
            uow.before_commit(step)
            raise RuntimeError("a handler failed")
    async with factory() as uow:
        assert await uow.inbox.claim("c", "b2"), "the failed step's unit of work was rolled back"
    assert ran == ["step"] and await outbox_size() == 1
