"""The relay publishes exactly the committed events, in order per complaint, and none of a
rolled-back transaction."""

import uuid
from datetime import datetime, timezone

import pytest

from backbone.kafka import KafkaPublisher, ensure_topics
from backbone.relay import OutboxRelay
from backbone.uow import PgUnitOfWork
from contracts.envelope import from_record
from contracts.events import NotificationSentV1
from contracts.topics import NOTIFY_EVENTS
from tests.integration.helpers import eventually, read_topic


def sent(complaint_id, n) -> NotificationSentV1:
    return NotificationSentV1(complaint_id=complaint_id, occurred_at=datetime.now(timezone.utc),
                              tracking_number=str(n), channel="email", template="t", language="id",
                              about_event_id=uuid.uuid4())


async def test_relay_publishes_committed_events_in_order_and_nothing_rolled_back(pool, prefix, bootstrap, dsn):
    await ensure_topics(bootstrap, [NOTIFY_EVENTS], prefix, 1)
    complaints = [uuid.uuid4() for _ in range(3)]
    committed: list[tuple[uuid.UUID, str]] = []
    for n in range(12):
        async with PgUnitOfWork(pool, "/test", prefix, prefix.rstrip(".")) as uow:
            env = await uow.outbox.record(sent(complaints[n % 3], n))
        committed.append((complaints[n % 3], env.id))
    rolled_back = []
    for n in range(3):
        with pytest.raises(RuntimeError):
            async with PgUnitOfWork(pool, "/test", prefix, prefix.rstrip(".")) as uow:
                rolled_back.append((await uow.outbox.record(sent(complaints[0], 100 + n))).id)
                raise RuntimeError("business rule failed after the event was staged")

    publisher = KafkaPublisher(bootstrap, "test-relay")
    await publisher.start()
    relay = OutboxRelay(dsn, prefix.rstrip("."), publisher, batch_size=5, poll_interval=0.2)
    relay.start()
    try:
        records = await read_topic(bootstrap, NOTIFY_EVENTS.name(prefix), expect=12)
        await eventually(lambda: pool.fetchval(
            "SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL"), "outbox drained")
    finally:
        await relay.stop()
        await publisher.stop()

    envelopes = [from_record(r.key, r.value, r.headers) for r in records]
    assert sorted(e.id for e in envelopes) == sorted(eid for _, eid in committed)
    assert not set(rolled_back) & {e.id for e in envelopes}
    for complaint in complaints:  # per complaint: one partition, commit order
        on_topic = [(r.partition, e.id) for r, e in zip(records, envelopes) if e.event.complaint_id == complaint]
        assert len({p for p, _ in on_topic}) == 1
        assert [eid for _, eid in on_topic] == [eid for c, eid in committed if c == complaint]
    assert all(r.key == str(e.event.complaint_id).encode() for r, e in zip(records, envelopes))
    assert relay.published == 12


async def test_only_one_relay_leads_per_schema(pool, prefix, bootstrap, dsn):
    await ensure_topics(bootstrap, [NOTIFY_EVENTS], prefix, 1)
    publisher = KafkaPublisher(bootstrap, "test-relay")
    await publisher.start()
    relays = [OutboxRelay(dsn, prefix.rstrip("."), publisher, poll_interval=0.1) for _ in range(2)]
    for relay in relays:
        relay.start()
    try:
        for n in range(10):
            async with PgUnitOfWork(pool, "/test", prefix, prefix.rstrip(".")) as uow:
                await uow.outbox.record(sent(uuid.uuid4(), n))
        records = await read_topic(bootstrap, NOTIFY_EVENTS.name(prefix), expect=10)
    finally:
        for relay in relays:
            await relay.stop()
        await publisher.stop()
    assert len(records) == 10
    assert sorted(r.published for r in relays) == [0, 10]



async def test_published_rows_are_purged_after_retention(pool, prefix):
    """Rows an earlier version marked published (rather than deleting them) go after the
    retention."""
    from datetime import timedelta

    from backbone.retention import Retention, purge

    async with PgUnitOfWork(pool, "/test", prefix, prefix.rstrip(".")) as uow:
        await uow.outbox.record(sent(uuid.uuid4(), 1))
        await uow.outbox.record(sent(uuid.uuid4(), 2))
    await pool.execute("UPDATE outbox SET published_at = now() - interval '4 days' WHERE id ="
                       " (SELECT min(id) FROM outbox)")
    assert await purge(pool, Retention("outbox", "published_at", timedelta(hours=72))) == 1
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 1, "unpublished rows are never purged"


async def test_sent_rows_are_deleted_by_the_next_read_and_on_a_graceful_stop(pool, prefix, bootstrap, dsn):
    """No statement of its own deletes a published batch: the next read does (woken by the next
    commit, long before the 60 s poll), and a graceful stop publishes and deletes what is left,
    so nothing is sent twice and no published row stays behind."""
    await ensure_topics(bootstrap, [NOTIFY_EVENTS], prefix, 1)
    publisher = KafkaPublisher(bootstrap, "test-relay")
    await publisher.start()
    relay = OutboxRelay(dsn, prefix.rstrip("."), publisher, poll_interval=60)
    relay.start()

    async def record(n: int, wake: bool = True) -> None:
        async with PgUnitOfWork(pool, "/test", prefix, prefix.rstrip(".")) as uow:
            if wake:
                uow.wake_relay = relay.wake  # as the service runtime wires it
            await uow.outbox.record(sent(uuid.uuid4(), n))

    in_outbox = "SELECT count(*) FROM outbox"
    topic = NOTIFY_EVENTS.name(prefix)
    try:
        await record(0)
        await read_topic(bootstrap, topic, expect=1)
        await record(1)
        await read_topic(bootstrap, topic, expect=2)
        await eventually(lambda: pool.fetchval(f"SELECT ({in_outbox}) = 1"), "first row deleted")
        await record(2, wake=False)  # found only by the stop's last turn
    finally:
        await relay.stop()
        await publisher.stop()
    assert await pool.fetchval(in_outbox) == 0, "the stop deleted what it sent"
    assert len(await read_topic(bootstrap, topic, expect=3)) == 3
    assert relay.published == 3
