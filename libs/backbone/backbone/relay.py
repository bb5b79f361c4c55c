"""The outbox relay: publishes committed outbox rows to Kafka in commit order, then deletes them.

One relay per service schema publishes at a time (a session advisory lock in the relay's lock
space), so one complaint's events keep their order even with several replicas. A commit in this
process wakes the relay at once (see PgUnitOfWork); rows another replica committed are found by
polling every `poll_interval`.

Rows Kafka took are deleted by the relay's next read, in the same statement (at the latest one
`poll_interval` later, and on a graceful stop), not by a statement of their own: one round trip
fewer per batch (the read then commits the delete, so the commits stay as many). A crash before
the delete re-sends those rows, as a crash between send and delete always could; consumers drop
the duplicate by event id.

Deleted, not marked: the outbox is a queue, and the topics (kept 7 days) are the record of what
was published. Marking a row `published_at` and purging it a day later cost a second row
version, two more index entries and a later delete for every event; deleting at once took
PostgreSQL's CPU per complaint from 3.16-3.29 to 2.87-3.13 ms in three interleaved closed-loop
pairs (README, benchmark history). Rows an earlier version marked are still purged by
`OUTBOX_RETENTION_HOURS` (backbone.retention).

It holds a dedicated connection, not a pooled one: the session lock lives on it,
and when the database restarts the relay drops it and connects anew (a pooled connection once
kept failing with "released back to the pool" after a restart, and the relay never published
again). Failures are told apart by cause:
- database gone: reconnect with backoff;
- Kafka away or slow: keep the rows, try again after a backoff (and with a fresh producer when
  it lasts), the database side stays healthy;
- a row Kafka can never take (too large, no such topic, refused): quarantined with its reason
  and counted, and the rows behind it flow on.
"""

from __future__ import annotations

import json
import logging
import time

import asyncpg
from opentelemetry import trace

from backbone import metrics
from backbone.db import DbTimeouts, LockSpace, connect
from backbone.kafka import KafkaPublisher, Publisher, Record, Unpublishable
from backbone.loops import SupervisedLoop

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


def _delete_sql(sent: str) -> str:
    """The DELETE of the published rows whose ids are in array parameter `sent`."""
    return f"DELETE FROM outbox WHERE id = ANY({sent}::bigint[]) AND published_at IS NULL"


def _pending_sql(sent: str) -> str:
    """Rows still to publish: not quarantined, not sent and not yet deleted, and not marked
    published (by an earlier version, which kept published rows for a while)."""
    return f"published_at IS NULL AND quarantined_at IS NULL AND id <> ALL({sent}::bigint[])"


# The previous batch's rows are deleted in the statement that reads the next one. The read sees
# the table as it was before the delete, so it leaves those rows out itself.
_DELETE_AND_READ = (f"WITH published AS ({_delete_sql('$2')})"
                    " SELECT id, topic, key, value, headers, traceparent FROM outbox"
                    f" WHERE {_pending_sql('$2')} ORDER BY id LIMIT $1")
_DELETE = _delete_sql("$1")
# Backlog, its oldest row's age and the quarantine's size (rows sent, not yet deleted, are no
# backlog).
_STATS = (f"SELECT (SELECT count(*) FROM outbox WHERE {_pending_sql('$1')}) AS backlog,"
          " (SELECT extract(epoch FROM now() - created_at) FROM outbox"
          f"  WHERE {_pending_sql('$1')} ORDER BY id LIMIT 1) AS oldest,"
          " (SELECT count(*) FROM outbox WHERE quarantined_at IS NOT NULL) AS quarantined")


class KafkaUnavailable(Exception):
    """Publishing failed for a cause that passes (the cause is chained); the rows stay."""


class OutboxRelay(SupervisedLoop):
    def __init__(
        self, dsn: str, schema: str, publisher: Publisher, *, service: str | None = None,
        batch_size: int = 500, poll_interval: float = 1.0, backoff_max: float = 5.0,
        timeouts: DbTimeouts = DbTimeouts(), kafka_required_for_health: bool = True,
        linger: float = 0.005,
    ) -> None:
        super().__init__("relay", service or schema)
        self._dsn = dsn
        self._schema = schema
        self._publisher = publisher
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._backoff_max = backoff_max
        self._timeouts = timeouts
        self._kafka_required = kafka_required_for_health
        self._linger = linger
        self.published = 0
        self._kafka_failing_since: float | None = None
        self._next_stats = 0.0
        self._sent: list[int] = []  # ids sent to Kafka, deleted by the next read

    async def run(self) -> None:
        backoff = 0.2
        while not self.stopping:
            conn: asyncpg.Connection | None = None
            try:
                conn = await connect(self._dsn, self._schema, f"{self._schema}-relay", self._timeouts)
                backoff = 0.2
                await self._lead(conn)
            except Exception as exc:  # database gone, connection broken: reconnect
                self.report(False, f"database unavailable: {type(exc).__name__}")
                log.warning("outbox relay lost its database connection; reconnecting",
                            extra={"error": repr(exc)})
            finally:
                if conn is not None:
                    conn.terminate()
            if not self.stopping:
                await self.pause(backoff)
                backoff = min(backoff * 2, self._backoff_max)

    async def _lead(self, conn: asyncpg.Connection) -> None:
        """Hold the leader lock on this connection and publish until stopped."""
        while not await conn.fetchval("SELECT pg_try_advisory_lock($1, hashtext($2))",
                                      LockSpace.OUTBOX_RELAY, self._schema):
            self.report(True, "standby: another replica's relay leads")
            if self.stopping:
                return
            await self.pause(self._poll_interval)
        while not self.stopping:
            sent = await self._turn(conn)
            if sent < self._batch_size:
                await self.pause(self._poll_interval if self._kafka_failing_since is None
                                 else min(self._backoff_max, self._poll_interval * 2),
                                 linger=self._linger)
        await self._turn(conn)  # a last flush on a graceful stop
        await self._delete_sent(conn)

    async def _turn(self, conn: asyncpg.Connection) -> int:
        """One batch; database errors propagate (reconnect), Kafka errors are absorbed here."""
        self.beat()
        try:
            sent = await self.publish_batch(conn)
        except KafkaUnavailable as exc:  # the rows stay, nothing is lost
            await self._kafka_failed(exc.__cause__ or exc)
            sent = 0
        else:
            if self._kafka_failing_since is not None:
                log.info("outbox relay publishing again")
            self._kafka_failing_since = None
            self.report(True)
        await self._stats(conn)
        return sent

    async def _kafka_failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        if self._kafka_failing_since is None:
            self._kafka_failing_since = now
            log.warning("outbox publish failed, rows kept for retry", extra={"error": repr(exc)})
        self.report(not self._kafka_required, f"kafka unavailable: {type(exc).__name__}")
        if now - self._kafka_failing_since > 15 and isinstance(self._publisher, KafkaPublisher):
            self._kafka_failing_since = now  # at most one fresh producer per 15 s
            log.warning("outbox relay starting a fresh Kafka producer")
            await self._publisher.restart()

    async def publish_batch(self, conn: asyncpg.Connection) -> int:
        """Delete what the last batch sent, publish the oldest pending rows in id order; returns
        how many were settled."""
        rows = await conn.fetch(_DELETE_AND_READ, self._batch_size, self._sent)
        self._sent = []
        if not rows:
            return 0
        try:
            with tracer.start_as_current_span("outbox publish", kind=trace.SpanKind.PRODUCER,
                                              attributes={"messaging.system": "kafka",
                                                          "messaging.batch.message_count": len(rows)}):
                outcomes = await self._publisher.send_each([self._to_record(row) for row in rows])
        except Exception as exc:
            raise KafkaUnavailable() from exc
        sent = [row["id"] for row, err in zip(rows, outcomes) if err is None]
        refused = [(row, err) for row, err in zip(rows, outcomes) if isinstance(err, Unpublishable)]
        if sent:
            self._sent = sent
            self.published += len(sent)
            metrics.OUTBOX_PUBLISHED.labels(self.service).inc(len(sent))
        if refused:
            await self._quarantine(conn, refused)
        failed = [err for err in outcomes if err is not None and not isinstance(err, Unpublishable)]
        if failed:
            raise KafkaUnavailable() from failed[0]
        return len(sent) + len(refused)

    async def _delete_sent(self, conn: asyncpg.Connection) -> None:
        """Delete what was sent and not yet deleted, with no read behind it (a graceful stop)."""
        if self._sent:
            await conn.execute(_DELETE, self._sent)
            self._sent = []

    async def _quarantine(self, conn: asyncpg.Connection, refused: list) -> None:
        await conn.execute(
            "UPDATE outbox SET quarantined_at = now(), quarantine_reason = r.reason"
            " FROM unnest($1::bigint[], $2::text[]) AS r(id, reason) WHERE outbox.id = r.id",
            [row["id"] for row, _ in refused], [str(err)[:1000] for _, err in refused])
        for row, err in refused:
            metrics.OUTBOX_QUARANTINED_TOTAL.labels(self.service, row["topic"]).inc()
            log.error("outbox row quarantined: Kafka can never take it",
                      extra={"outbox_id": row["id"], "topic": row["topic"], "reason": str(err)[:300]})

    async def _stats(self, conn: asyncpg.Connection) -> None:
        """Backlog, oldest age and quarantine size for /metrics, every few seconds."""
        if time.monotonic() < self._next_stats:
            return
        self._next_stats = time.monotonic() + 5
        row = await conn.fetchrow(_STATS, self._sent)
        metrics.OUTBOX_BACKLOG.labels(self.service).set(row["backlog"])
        metrics.OUTBOX_OLDEST_AGE.labels(self.service).set(float(row["oldest"] or 0))
        metrics.OUTBOX_QUARANTINED.labels(self.service).set(row["quarantined"])

    @staticmethod
    def _to_record(row: asyncpg.Record) -> Record:
        """The stored record, carrying the trace context it was written in: the consumer's span
        continues the trace of the request or event that recorded it."""
        headers = [(name, value.encode()) for name, value in json.loads(row["headers"])]
        if row["traceparent"]:
            headers.append(("traceparent", row["traceparent"].encode()))
        return Record(row["topic"], row["key"], row["value"], headers)
