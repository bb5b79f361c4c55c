"""Kafka plumbing shared by every service: the one idempotent producer, and topic creation.

The producer (aiokafka) serves the outbox relay and the dead-letter path; consumption lives in
consumer_loop. Idempotence implies acks=all, so a record the relay marks as sent is on every
in-sync replica and never duplicated by a producer retry. `send_each` tells, per record, whether
it was taken, can never be taken (`Unpublishable`), or failed for a cause that passes.
"""

from __future__ import annotations

import asyncio
import time
import contextlib
import logging
from dataclasses import dataclass
from typing import Iterable, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka import errors as kafka_errors
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from backbone.time_slice import TimeSlice
from contracts.topics import Topic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


class Unpublishable(Exception):
    """Kafka can never take this record (too large, no such topic, refused): retrying is
    pointless, and waiting for it would hold up every record behind it."""


# Errors for which the same record will be refused again, however long one waits.
_NEVER: tuple[type[BaseException], ...] = (
    kafka_errors.MessageSizeTooLargeError, kafka_errors.RecordListTooLargeError,
    kafka_errors.InvalidTopicError, kafka_errors.TopicAuthorizationFailedError,
    kafka_errors.UnsupportedVersionError, kafka_errors.CorruptRecordException,
    kafka_errors.PolicyViolationError,
) + tuple(e for e in (getattr(kafka_errors, "RecordTooLargeError", None),) if e)


class Publisher(Protocol):
    async def send_all(self, records: list[Record]) -> None:
        """Send in order; return only when every record is acknowledged, else raise."""

    async def send_each(self, records: list[Record]) -> list[BaseException | None]:
        """Send in order; per record None (acknowledged), Unpublishable, or a transient error."""


class KafkaPublisher:
    def __init__(self, bootstrap_servers: str, client_id: str, send_timeout: float = 30) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._client_id = client_id
        self._send_timeout = send_timeout
        self._producer: AIOKafkaProducer | None = None
        self._known_topics: set[str] = set()
        self._missing_since: dict[str, float] = {}

    # A topic created a moment ago (a newly configured OPD's feed) can be missing from the
    # metadata until its partitions have leaders: for this long after first seeing it missing,
    # a record for it is retried, not quarantined.
    MISSING_TOPIC_GRACE = 10.0

    async def start(self) -> None:
        """Connect; a broker that is away now is not fatal: sends fail (transiently) until it
        is back, and the relay keeps the rows meanwhile."""
        # Created here, not in __init__: aiokafka binds to the running event loop.
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap_servers,
            client_id=self._client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
            request_timeout_ms=15_000,
            retry_backoff_ms=200,
            metadata_max_age_ms=30_000,
            max_batch_size=256 * 1024,
        )
        try:
            await asyncio.wait_for(self._producer.start(), 20)
        except Exception as exc:
            log.warning("kafka producer not connected yet", extra={"error": repr(exc)})

    async def restart(self) -> None:
        """A fresh producer (new connection, new producer id) after a broker restart."""
        await self.stop()
        await self.start()

    async def stop(self) -> None:
        if self._producer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._producer.stop(), 10)

    async def ping(self, timeout: float = 2) -> bool:
        """True when the cluster answers a metadata request."""
        if self._producer is None:
            return False
        try:
            metadata = await asyncio.wait_for(self._producer.client.fetch_all_metadata(), timeout)
        except Exception:  # unreachable, timed out, not started: all mean "not ready"
            return False
        return bool(metadata.brokers())

    async def _missing_topics(self, topics: set[str]) -> set[str]:
        """Topics the cluster says do not exist (it answered); raises if it does not answer."""
        unknown = topics - self._known_topics
        if not unknown:
            return set()
        assert self._producer is not None
        metadata = await asyncio.wait_for(self._producer.client.fetch_all_metadata(), 10)
        if not metadata.brokers():
            raise kafka_errors.KafkaConnectionError("no broker answered")
        present = set(metadata.topics())
        self._known_topics |= unknown & present
        return unknown - present

    async def send_each(self, records: list[Record]) -> list[BaseException | None]:
        if self._producer is None:
            raise kafka_errors.KafkaConnectionError("publisher not started")
        missing = await self._missing_topics({r.topic for r in records})
        results: list[BaseException | None] = [None] * len(records)
        now = time.monotonic()
        for topic in missing:
            self._missing_since.setdefault(topic, now)
        for i, r in enumerate(records):
            if r.topic in missing:
                results[i] = (kafka_errors.UnknownTopicOrPartitionError(
                    f"topic {r.topic} is not there yet")
                    if now - self._missing_since[r.topic] < self.MISSING_TOPIC_GRACE
                    else Unpublishable(f"topic {r.topic} does not exist"))
            else:
                self._missing_since.pop(r.topic, None)
        # One deadline for the whole batch, not one `wait_for` per record: each of those is a
        # task and a turn of the event loop, and in a turn the consumer's next CPU step runs
        # first (a classification, say), so a 500-row batch took over a second to hand over.
        futures = await asyncio.wait_for(self._enqueue(records, results), self._send_timeout)
        if futures:
            done = await asyncio.wait_for(asyncio.gather(*(f for _, f in futures),
                                                         return_exceptions=True),
                                          self._send_timeout)
            for (i, _), outcome in zip(futures, done):
                if isinstance(outcome, _NEVER):
                    results[i] = Unpublishable(f"{type(outcome).__name__}: {outcome}")
                elif isinstance(outcome, BaseException):
                    results[i] = outcome
        return results

    async def _enqueue(self, records: list[Record], results: list[BaseException | None]
                       ) -> list[tuple[int, asyncio.Future]]:
        """Hand the records not already settled in `results` to the producer's batches; a
        send returns without yielding unless its partition's batch is full, so the loop is
        handed back only every few milliseconds (`TimeSlice`). A record Kafka can never take
        is settled in `results` as Unpublishable."""
        assert self._producer is not None
        futures: list[tuple[int, asyncio.Future]] = []
        turn = TimeSlice()
        for i, r in enumerate(records):
            if results[i] is not None:
                continue
            await turn.check()
            try:
                futures.append((i, await self._producer.send(
                    r.topic, r.value, key=r.key, headers=r.headers)))
            except _NEVER as exc:
                results[i] = Unpublishable(f"{type(exc).__name__}: {exc}")
        return futures

    async def send_all(self, records: list[Record]) -> None:
        for outcome in await self.send_each(records):
            if outcome is not None:
                raise outcome


class InMemoryPublisher:
    """Twin of KafkaPublisher; `fail_next` makes the next send raise, as a broker outage would,
    and a topic in `refused_topics` is refused for good, as a missing topic would be."""

    def __init__(self) -> None:
        self.sent: list[Record] = []
        self.fail_next = False
        self.refused_topics: set[str] = set()

    async def send_each(self, records: list[Record]) -> list[BaseException | None]:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("broker unavailable")
        results: list[BaseException | None] = []
        for r in records:
            if r.topic in self.refused_topics:
                results.append(Unpublishable(f"topic {r.topic} does not exist"))
            else:
                self.sent.append(r)
                results.append(None)
        return results

    async def send_all(self, records: list[Record]) -> None:
        for outcome in await self.send_each(records):
            if outcome is not None:
                raise outcome


async def ensure_topics(
    bootstrap_servers: str, topics: Iterable[Topic], prefix: str, replication_factor: int
) -> None:
    """Create the topics a service reads or writes, if missing (idempotent, safe to race)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=15_000)
    await asyncio.wait_for(admin.start(), 20)
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(t.name(prefix), t.partitions, replication_factor)
            for t in {t.name(prefix): t for t in topics}.values()
            if t.name(prefix) not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another service created it at the same moment
            log.info("topics created", extra={"topics": [t.name for t in missing]})
    finally:
        await admin.close()


class TopicCreator:
    """Creates topics made at run time (an OPD's feed when the OPD is configured, or first
    written to), remembering which exist, so only a name not seen before costs a round trip to
    the cluster. The relay quarantines a record whose topic is missing, so a handler that
    records to such a topic ensures it first. A cluster that does not answer raises a
    transient error: the consumer hands the batch back and tries again."""

    def __init__(self, bootstrap_servers: str, prefix: str, replication_factor: int) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._prefix = prefix
        self._replication_factor = replication_factor
        self.known: set[str] = set()

    async def ensure(self, *topics: Topic) -> None:
        missing = [t for t in topics if t.name(self._prefix) not in self.known]
        if not missing:
            return
        await ensure_topics(self._bootstrap_servers, missing, self._prefix, self._replication_factor)
        self.known |= {t.name(self._prefix) for t in missing}


class InMemoryTopicCreator:
    """Twin of TopicCreator: remembers what it was asked to create."""

    def __init__(self, prefix: str = "") -> None:
        self._prefix = prefix
        self.created: dict[str, int] = {}

    async def ensure(self, *topics: Topic) -> None:
        for t in topics:
            self.created.setdefault(t.name(self._prefix), t.partitions)
