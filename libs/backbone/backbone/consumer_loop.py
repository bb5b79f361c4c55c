"""The Kafka side of consumption: poll a batch, hand it to the EventConsumer, commit offsets.

Written on aiokafka directly rather than through a FastStream subscriber because the backbone
needs what a subscriber hides: offsets committed per interval rather than per record (the
inbox already makes a replay harmless, and a commit per record cost ~9 ms), a batch in one
transaction, records handed back by seeking when the cause is transient, consumer lag per
partition, and a heartbeat the watchdog can see, with the client rebuilt when it stops making
progress (a broker restart once left a FastStream consumer out of its group for good).

Order: records of one partition are handled in offset order, one batch at a time; a record
key (the complaint id) always maps to one partition, so one complaint's events keep order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from backbone import metrics
from backbone.consumer import ConsumedRecord, EventConsumer
from backbone.errors import is_transient
from backbone.loops import SupervisedLoop

log = logging.getLogger(__name__)


class _CommitOnRevoke(ConsumerRebalanceListener):
    def __init__(self, loop: "KafkaConsumerLoop") -> None:
        self._loop = loop

    async def on_partitions_revoked(self, revoked) -> None:
        await self._loop.commit(set(revoked))

    async def on_partitions_assigned(self, assigned) -> None:
        log.info("partitions assigned", extra={"consumer": self._loop.group_id,
                                               "partitions": len(assigned)})


class KafkaConsumerLoop(SupervisedLoop):
    def __init__(
        self, service: str, consumer: EventConsumer, bootstrap_servers: str,
        topics: list[str], group_id: str, *, max_records: int = 500,
        commit_interval: float = 1.0, backoff_initial: float = 0.2, backoff_max: float = 5.0,
        rebuild_after: float = 30.0, linger: float = 0.0,
    ) -> None:
        super().__init__("consumer", service)
        self._events = consumer
        self._bootstrap = bootstrap_servers
        self._topics = topics
        self.group_id = group_id
        self._max_records = max_records
        self._commit_interval = commit_interval
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._rebuild_after = rebuild_after
        self._linger = linger
        self._client: AIOKafkaConsumer | None = None
        self._pending: dict[TopicPartition, int] = {}   # next offset to commit
        self._positions: dict[TopicPartition, int] = {}  # next offset to handle, for the lag
        self._last_commit = time.monotonic()
        self._last_lag = 0.0

    async def run(self) -> None:
        backoff = self._backoff_initial
        while not self.stopping:
            try:
                self._client = await self._open()
                backoff = self._backoff_initial
                await self._consume(self._client)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.report(False, f"kafka consumer failing: {type(exc).__name__}")
                log.warning("consumer interrupted; rebuilding", extra={"error": repr(exc)})
            finally:
                await self._close()
            if not self.stopping:
                await self.pause(backoff)
                backoff = min(backoff * 2, self._backoff_max)

    async def on_restart(self) -> None:
        await self._close()

    async def _open(self) -> AIOKafkaConsumer:
        client = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, group_id=self.group_id,
            client_id=f"{self.service}-consumer", enable_auto_commit=False,
            auto_offset_reset="earliest",
            # A long poll: the broker answers as soon as any record is there, else after 500 ms.
            # Waiting for a minimum of bytes instead (25 ms for 4 KiB) cost every hop up to 25
            # ms at low load and kept the idle broker busy with 160 empty fetches a second;
            # under load, batches still grow by themselves while the previous one is applied.
            fetch_max_wait_ms=500, fetch_min_bytes=1,
            session_timeout_ms=15_000, heartbeat_interval_ms=3_000,
            request_timeout_ms=20_000, retry_backoff_ms=200, metadata_max_age_ms=30_000,
        )
        client.subscribe(self._topics, listener=_CommitOnRevoke(self))
        try:
            await asyncio.wait_for(client.start(), 30)
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.stop(), 5)
            raise
        return client

    async def _close(self) -> None:
        client = self._client
        if client is None:
            return
        with contextlib.suppress(Exception):
            await self.commit()
        self._client = None
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.stop(), 10)
        self._pending.clear()

    async def _consume(self, client: AIOKafkaConsumer) -> None:
        backoff = self._backoff_initial
        unassigned_since: float | None = None
        while not self.stopping:
            self.beat()
            batches = await self._poll(client)
            records = [ConsumedRecord.of(r) for rs in batches.values() for r in rs]
            if records:
                try:
                    await self._events.process_batch(records, progress=self.beat)
                except Exception as exc:
                    if not is_transient(exc):
                        log.exception("unexpected failure; records handed back to Kafka")
                    self.report(False, f"handing records back: {type(exc).__name__}")
                    self._seek_back(client, batches)
                    await self.pause(backoff)
                    backoff = min(backoff * 2, self._backoff_max)
                    continue
                backoff = self._backoff_initial
                for tp, rs in batches.items():
                    self._pending[tp] = self._positions[tp] = rs[-1].offset + 1
            if client.assignment():
                unassigned_since = None
                self.report(True)
            else:
                unassigned_since = unassigned_since or time.monotonic()
                waited = time.monotonic() - unassigned_since
                self.report(waited < 5, "joining the consumer group")
                if waited > self._rebuild_after:
                    raise TimeoutError(f"no partitions assigned for {waited:.0f}s")
            if self._pending and (not records or
                                  time.monotonic() - self._last_commit >= self._commit_interval):
                await self.commit()
            self._observe_lag(client)
        await self.commit()

    async def _poll(self, client: AIOKafkaConsumer) -> dict[TopicPartition, list]:
        """The next batch: wait up to 500 ms for any record; once one came, wait `linger` more
        for what follows it (a small batch only, and never while idle, so the idle long poll
        keeps its single fetch per 500 ms). A batch's fixed cost (BEGIN, the claim, the write,
        COMMIT, and the relay turn behind it) is most of what a record costs when batches hold
        one or two, as they do at tens of complaints a second; at low load each hop waits up to
        `linger` more. The README's benchmark history has the numbers."""
        batches = await client.getmany(timeout_ms=500, max_records=self._max_records)
        count = sum(len(rs) for rs in batches.values())
        if not count or count >= self._max_records or self._linger <= 0 or self.stopping:
            return batches
        await asyncio.sleep(self._linger)
        more = await client.getmany(timeout_ms=0, max_records=self._max_records - count)
        for tp, rs in more.items():
            batches.setdefault(tp, []).extend(rs)   # a partition's later records follow its first
        return batches

    def _seek_back(self, client: AIOKafkaConsumer, batches) -> None:
        """Read the batch again next time (partitions lost meanwhile belong to someone else)."""
        for tp, rs in batches.items():
            with contextlib.suppress(IllegalStateError, KafkaError, AssertionError):
                client.seek(tp, rs[0].offset)

    async def commit(self, only: set[TopicPartition] | None = None) -> None:
        client = self._client
        offsets = {tp: off for tp, off in self._pending.items() if only is None or tp in only}
        if client is None or not offsets:
            return
        try:
            await asyncio.wait_for(client.commit(offsets), 10)
        except (CommitFailedError, IllegalStateError):
            # A rebalance took the partitions: the next owner resumes from the last commit and
            # the inbox drops what is delivered twice.
            log.info("offset commit lost to a rebalance", extra={"partitions": len(offsets)})
        except (KafkaError, asyncio.TimeoutError) as exc:
            log.warning("offset commit failed; will retry", extra={"error": repr(exc)})
            return
        for tp, off in offsets.items():
            if self._pending.get(tp) == off:
                del self._pending[tp]
        self._last_commit = time.monotonic()

    def _observe_lag(self, client: AIOKafkaConsumer) -> None:
        if time.monotonic() - self._last_lag < 2:
            return
        self._last_lag = time.monotonic()
        for tp in client.assignment():
            high = client.highwater(tp)
            if high is None:
                continue
            done = self._positions.get(tp)
            if done is not None:
                metrics.CONSUMER_LAG.labels(self.service, tp.topic, str(tp.partition)).set(
                    max(high - done, 0))
