"""Regression tests for the faults the field report found, against real Kafka and PostgreSQL:
an unpublishable outbox row, a relay whose database connection dies, transient SQLSTATEs in a
consumer, and advisory locks a client key cannot reach."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import asyncpg

from backbone import metrics
from backbone.db import LockSpace
from backbone.kafka import KafkaPublisher, ensure_topics
from backbone.relay import OutboxRelay
from backbone.uow import PgUnitOfWork
from contracts.events import NotificationSentV1
from contracts.topics import NOTIFY_EVENTS, ROUTING_EVENTS, dead_letter_topic
from tests.integration.helpers import eventually, read_topic
from tests.integration.test_consumer_runtime import assigned, produce, started_runtime
from contracts.envelope import to_record, wrap


def sent(n: int) -> NotificationSentV1:
    return NotificationSentV1(complaint_id=uuid.uuid4(), occurred_at=datetime.now(timezone.utc),
                              tracking_number=str(n), channel="email", template="t",
                              language="id", about_event_id=uuid.uuid4())


async def record(pool, prefix, n: int) -> str:
    async with PgUnitOfWork(pool, "/test", prefix, prefix.rstrip(".")) as uow:
        return (await uow.outbox.record(sent(n))).id


async def stage_raw(pool, topic: str, value: bytes) -> int:
    return await pool.fetchval(
        "INSERT INTO outbox (event_id, topic, key, value, headers) VALUES ($1,$2,$3,$4,'[]')"
        " RETURNING id", str(uuid.uuid4()), topic, b"k", value)


async def test_unpublishable_rows_are_quarantined_and_the_rest_flow_on(pool, prefix, bootstrap, dsn):
    schema = prefix.rstrip(".")
    await ensure_topics(bootstrap, [NOTIFY_EVENTS], prefix, 1)
    before = [await record(pool, prefix, n) for n in range(3)]
    too_large = await stage_raw(pool, NOTIFY_EVENTS.name(prefix), b"x" * 2_000_000)
    no_topic = await stage_raw(pool, f"{prefix}no.such.topic", b"{}")
    after = [await record(pool, prefix, n) for n in range(3, 6)]

    publisher = KafkaPublisher(bootstrap, "test-relay")
    await publisher.start()
    relay = OutboxRelay(dsn, schema, publisher, service=schema, poll_interval=0.2)
    relay.start()
    try:
        records = await read_topic(bootstrap, NOTIFY_EVENTS.name(prefix), expect=6)
        await eventually(lambda: pool.fetchval(
            "SELECT count(*) = 2 FROM outbox WHERE quarantined_at IS NOT NULL"), "quarantined")
        assert relay.healthy, "a refused row is not an outage"
    finally:
        await relay.stop()
        await publisher.stop()
    ids = {dict(r.headers)["ce_id"].decode() for r in records}
    assert ids == set(before + after), "every good row published, none held up"
    reasons = dict(await pool.fetch("SELECT id, quarantine_reason FROM outbox"
                                    " WHERE quarantined_at IS NOT NULL"))
    assert "TooLarge" in reasons[too_large] and "does not exist" in reasons[no_topic]
    assert metrics.OUTBOX_QUARANTINED_TOTAL.labels(schema, f"{prefix}no.such.topic")._value.get() == 1


async def test_a_topic_created_just_after_its_first_record_is_waited_for_not_quarantined(
        pool, prefix, bootstrap, dsn):
    """A newly configured OPD's feed topic may appear a moment after routing writes to it."""
    from contracts.topics import Topic
    schema = prefix.rstrip(".")
    late = Topic("late.opd.feed", 1, "routing", "created after its first record")
    row = await stage_raw(pool, late.name(prefix), b"{}")
    publisher = KafkaPublisher(bootstrap, "test-relay")
    await publisher.start()
    relay = OutboxRelay(dsn, schema, publisher, service=schema, poll_interval=0.2)
    relay.start()
    try:
        async def seen_missing() -> bool:
            return bool(publisher._missing_since)   # noqa: SLF001 - the state under test
        await eventually(seen_missing, "the relay saw the topic missing")
        await ensure_topics(bootstrap, [late], prefix, 1)
        await eventually(lambda: pool.fetchval(
            "SELECT NOT EXISTS (SELECT 1 FROM outbox WHERE id = $1)", row), "published and deleted")
    finally:
        await relay.stop()
        await publisher.stop()
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE quarantined_at IS NOT NULL") == 0


async def test_relay_reconnects_after_its_database_connection_dies(pool, prefix, bootstrap, dsn):
    """The field report: after a PostgreSQL restart every relay logged 'released back to the
    pool' forever. Killing the relay's backend is what a restart does to it."""
    schema = prefix.rstrip(".")
    await ensure_topics(bootstrap, [NOTIFY_EVENTS], prefix, 1)
    publisher = KafkaPublisher(bootstrap, "test-relay")
    await publisher.start()
    relay = OutboxRelay(dsn, schema, publisher, poll_interval=0.2)
    relay.start()
    try:
        first = await record(pool, prefix, 1)
        await read_topic(bootstrap, NOTIFY_EVENTS.name(prefix), expect=1)
        killed = await pool.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = $1", f"{schema}-relay")
        assert killed == 1
        second = await record(pool, prefix, 2)
        records = await read_topic(bootstrap, NOTIFY_EVENTS.name(prefix), expect=2, timeout=20)
    finally:
        await relay.stop()
        await publisher.stop()
    assert {dict(r.headers)["ce_id"].decode() for r in records} == {first, second}


async def test_transient_sqlstates_hand_the_record_back_and_never_dead_letter(infra, prefix, bootstrap):
    failures = [asyncpg.exceptions.SerializationError("could not serialize access"),
                asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
                asyncpg.exceptions.LockNotAvailableError("lock timeout"),
                asyncpg.exceptions.ReadOnlySQLTransactionError("read-only after failover")]
    applied = []

    async def flaky(event, uow):
        if failures:
            raise failures.pop(0)
        applied.append(event.complaint_id)
        await uow.outbox.record(NotificationSentV1(
            complaint_id=event.complaint_id, occurred_at=event.occurred_at,
            tracking_number=event.tracking_number, channel="email", template="t", language="id",
            about_event_id=uuid.uuid4()))

    runtime = await started_runtime(infra, prefix, flaky)
    try:
        event = assigned()
        await produce(bootstrap, ROUTING_EVENTS.name(prefix), [to_record(wrap(event, "/routing"))])
        await read_topic(bootstrap, NOTIFY_EVENTS.name(prefix), expect=1, timeout=60)
    finally:
        await runtime.stop()
    assert applied == [event.complaint_id] and not failures
    assert await read_topic(bootstrap, dead_letter_topic("probe").name(prefix), expect=0) == []


async def test_client_idempotency_keys_cannot_take_the_platforms_locks(pool, prefix):
    """The relay's and migrations' locks live in their own lock space: whatever a client key
    hashes to, holding it leaves the relay's lock free."""
    schema = prefix.rstrip(".")
    async with pool.acquire() as holder, pool.acquire() as other:
        async with holder.transaction():
            await holder.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))",
                                 LockSpace.IDEMPOTENCY_KEY, schema)
            await holder.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"outbox-relay:{schema}")
            assert await other.fetchval("SELECT pg_try_advisory_lock($1, hashtext($2))",
                                        LockSpace.OUTBOX_RELAY, schema)
            await other.execute("SELECT pg_advisory_unlock($1, hashtext($2))",
                                LockSpace.OUTBOX_RELAY, schema)
