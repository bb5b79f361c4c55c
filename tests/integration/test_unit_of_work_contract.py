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
    """`before_commit`: a step the handlers add to (twice, by its key) runs once after the last
    of them, and what it records commits with the rest; if it fails, nothing of the unit of
    work is kept; a unit of work that fails first never runs it, and the next starts afresh."""
    factory, outbox_size = make_uow
    ran: list[list[str]] = []

    class Step:
        def __init__(self, uow):
            self.uow, self.parts = uow, []

        async def run(self):
            ran.append(self.parts)
            if "poison" in self.parts:
                raise RuntimeError("the batch's step failed")
            await self.uow.outbox.record(event())

    async with factory() as uow:
        assert await uow.inbox.claim("c", "b1")
        uow.before_commit("step", lambda: Step(uow)).parts.append("a")
        uow.before_commit("step", lambda: Step(uow)).parts.append("b")
        assert ran == [], "not before the handlers are done"
    assert ran == [["a", "b"]] and await outbox_size() == 1

    with pytest.raises(RuntimeError):
        async with factory() as uow:
            assert await uow.inbox.claim("c", "b2")
            await uow.outbox.record(event())
            uow.before_commit("step", lambda: Step(uow)).parts.append("poison")
    with pytest.raises(RuntimeError):
        async with factory() as uow:
            uow.before_commit("step", lambda: Step(uow)).parts.append("never")
            raise RuntimeError("a handler failed")
    async with factory() as uow:
        assert await uow.inbox.claim("c", "b2"), "the failed step's unit of work was rolled back"
        uow.before_commit("step", lambda: Step(uow)).parts.append("c")
    assert ran == [["a", "b"], ["poison"], ["c"]], "each transaction its own step"
    assert await outbox_size() == 2
