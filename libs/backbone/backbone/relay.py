"""The outbox relay: publishes committed outbox rows to Kafka in commit order, then marks them.

One relay per service schema publishes at a time (a session advisory lock), so one complaint's
events keep their order even with several replicas. A crash between send and mark re-sends a
row; consumers drop the duplicate by event id. New rows wake the relay through LISTEN/NOTIFY;
a poll interval bounds the wait if a notification is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

import asyncpg
from opentelemetry import propagate, trace

from backbone.kafka import Publisher, Record
from backbone.outbox import NOTIFY_CHANNEL

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
PURGE_EVERY_SECONDS = 3600


class OutboxRelay:
    def __init__(
        self, pool: asyncpg.Pool, publisher: Publisher, schema: str,
        batch_size: int = 200, poll_interval: float = 1.0,
    ) -> None:
        self._pool = pool
        self._publisher = publisher
        self._lock_key = f"outbox-relay:{schema}"
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False
        self.published = 0
        self._next_purge = time.monotonic() + PURGE_EVERY_SECONDS

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while not self._stopping:
            try:
                async with self._pool.acquire() as conn:
                    await self._lead(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database gone, connection broken: never let the relay die
                log.warning("outbox relay interrupted, retrying", extra={"error": repr(exc)})
                await self._sleep(self._poll_interval)

    async def _lead(self, conn: asyncpg.Connection) -> None:
        """Hold the leader lock on this connection and publish until stopped."""
        while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", self._lock_key):
            if self._stopping:
                return
            await self._sleep(self._poll_interval)
        await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    sent = await self.publish_batch(conn)
                except Exception as exc:  # Kafka down: keep rows, try again later
                    log.warning("outbox publish failed, will retry", extra={"error": repr(exc)})
                    sent = 0
                if sent < self._batch_size:
                    await self._purge_when_due(conn)
                    await self._sleep(self._poll_interval)
            await self.publish_batch(conn)  # a last flush on a graceful stop
        finally:
            await conn.remove_listener(NOTIFY_CHANNEL, self._on_notify)
            await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", self._lock_key)

    async def _purge_when_due(self, conn: asyncpg.Connection) -> None:
        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + PURGE_EVERY_SECONDS
            deleted = await purge_published(conn)
            log.info("outbox purged", extra={"rows": deleted})

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def publish_batch(self, conn: asyncpg.Connection) -> int:
        """Publish the oldest unpublished rows, in id order; returns how many."""
        rows = await conn.fetch(
            "SELECT id, topic, key, value, headers, traceparent FROM outbox"
            " WHERE published_at IS NULL ORDER BY id LIMIT $1",
            self._batch_size,
        )
        if not rows:
            return 0
        records = [self._to_record(row) for row in rows]
        await self._publisher.send_all(records)
        await conn.execute(
            "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])",
            [row["id"] for row in rows],
        )
        self.published += len(rows)
        return len(rows)

    @staticmethod
    def _to_record(row: asyncpg.Record) -> Record:
        """The stored record, with a producer span continuing the trace it was written in."""
        headers = [(name, value.encode()) for name, value in json.loads(row["headers"])]
        parent = propagate.extract({"traceparent": row["traceparent"]} if row["traceparent"] else {})
        with tracer.start_as_current_span(
            f"{row['topic']} publish", context=parent, kind=trace.SpanKind.PRODUCER,
            attributes={"messaging.system": "kafka", "messaging.destination.name": row["topic"]},
        ):
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
        headers = [h for h in headers if h[0] not in carrier]
        headers += [(name, value.encode()) for name, value in carrier.items()]
        return Record(row["topic"], row["key"], row["value"], headers)


async def purge_published(conn: asyncpg.Connection, older_than_hours: int = 72) -> int:
    """Delete rows published long ago; the outbox is a queue, not an archive."""
    result = await conn.execute(
        "DELETE FROM outbox WHERE published_at < now() - make_interval(hours => $1)",
        older_than_hours,
    )
    return int(result.split()[-1])
