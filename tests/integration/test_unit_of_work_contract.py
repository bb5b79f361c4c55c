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
