"""Test helpers that wait on conditions with bounded timeouts, never on fixed sleeps."""

from __future__ import annotations

import asyncio
import contextlib
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


class HeldAtCommit:
    """Mixed into a service's PostgreSQL unit of work (before it in the bases): a transaction
    another replica is still applying. It stops before its commit (what it holds back is not
    written yet) until `gate` opens, and sets `at_commit` when it gets there."""

    def __init__(self, *args, at_commit: asyncio.Event, gate: asyncio.Event) -> None:
        super().__init__(*args)
        self._at_commit, self._gate = at_commit, gate

    async def __aexit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self._at_commit.set()
            await self._gate.wait()
        await super().__aexit__(exc_type, exc, tb)


async def someone_waits_for_lock(pool, space: int) -> bool:
    """A transaction waits for an advisory lock of `space` (`backbone.db.LockSpace`)."""
    async with pool.acquire() as conn:
        return await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND classid = $1 AND objsubid = 2)", int(space))


@contextlib.asynccontextmanager
async def held_at_commit(first, timeout: float = 30):
    """`first(at_commit, gate)` under way for the body of the `async with`, its transaction
    held at its commit (`HeldAtCommit`); then it commits. Yields its task."""
    at_commit, gate = asyncio.Event(), asyncio.Event()
    holding = asyncio.create_task(first(at_commit, gate))
    await asyncio.wait_for(at_commit.wait(), timeout)
    try:
        yield holding
    finally:
        gate.set()
        await asyncio.wait_for(holding, timeout)


async def race(pool, space: int, first, second, timeout: float = 30):
    """`first` held at its commit (`held_at_commit`) while `second()` runs: `second` is given
    the time to finish or to wait for a lock of `space`, then `first` commits. Returns both
    results."""
    async with held_at_commit(first, timeout) as holding:
        racing = asyncio.create_task(second())

        async def finished_or_waiting() -> bool:
            return racing.done() or await someone_waits_for_lock(pool, space)

        await eventually(finished_or_waiting, "the second neither finished nor waited", timeout)
    return holding.result(), await asyncio.wait_for(racing, timeout)
