"""Test helpers that wait on conditions with bounded timeouts, never on fixed sleeps."""

from __future__ import annotations

import asyncio
import time
import uuid

from aiokafka import AIOKafkaConsumer, TopicPartition


async def read_topic(bootstrap: str, topic: str, expect: int, timeout: float = 30) -> list:
    """All records of `topic` from the beginning, once at least `expect` have arrived and the
    consumer has reached the end offsets (so extra records would be seen too)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                client_id=f"reader-{uuid.uuid4().hex[:6]}")
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        partitions = None
        while time.monotonic() < deadline and not partitions:
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                await consumer._client.force_metadata_update()  # noqa: SLF001 - no public API for this
                await asyncio.sleep(0.1)
        assert partitions, f"topic {topic} does not exist"
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list = []
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for items in batch.values():
                records.extend(items)
            if len(records) >= expect:
                ends = await consumer.end_offsets(tps)
                positions = [await consumer.position(tp) for tp in tps]
                if all(pos >= ends[tp] for pos, tp in zip(positions, tps)):
                    return records
        raise TimeoutError(f"{topic}: {len(records)} of {expect} records after {timeout}s")
    finally:
        await consumer.stop()


async def eventually(check, what: str, timeout: float = 30) -> None:
    """Await `check()` until it is truthy, or raise TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(what)


async def twin_or_postgres(kind: str, pool, prefix: str, migrations: str, twin, real):
    """A unit-of-work factory for one side of a store's contract test: the in-memory twin (one
    instance, so commits are seen by the next unit of work) or the service's PostgreSQL schema,
    migrated. `real(schema)` builds the PostgreSQL unit of work."""
    from backbone.db import apply_migrations

    if kind == "memory":
        instance = twin()
        return lambda: instance
    schema = prefix.rstrip(".")
    await apply_migrations(pool, schema, migrations)
    return lambda: real(schema)


async def read_ahead(uow, reads) -> None:
    """What a consumer batch does before its handlers: `reads` go with an inbox claim (here of
    one new event id), in one statement."""
    assert await uow.inbox.claim_many("a-test", [str(uuid.uuid4())], reads)
