"""Kafka plumbing shared by every service: the one idempotent producer, and topic creation.

The producer is used directly (aiokafka) by the outbox relay and the dead-letter path; FastStream
handles consumption. Idempotence implies acks=all, so a record the relay marks as sent is on
every in-sync replica and never duplicated by a producer retry.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Iterable, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from contracts.topics import Topic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


class Publisher(Protocol):
    async def send_all(self, records: list[Record]) -> None:
        """Send in order; return only when every record is acknowledged, else raise."""


class KafkaPublisher:
    def __init__(self, bootstrap_servers: str, client_id: str) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        # Created here, not in __init__: aiokafka binds to the running event loop.
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap_servers,
            client_id=self._client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    async def ping(self, timeout: float = 2) -> bool:
        """True when the cluster answers a metadata request."""
        if self._producer is None:
            return False
        try:
            metadata = await asyncio.wait_for(self._producer.client.fetch_all_metadata(), timeout)
        except Exception:  # unreachable, timed out, not started: all mean "not ready"
            return False
        return bool(metadata.brokers())

    async def send_all(self, records: list[Record]) -> None:
        assert self._producer is not None, "publisher not started"
        futures = [
            await self._producer.send(r.topic, r.value, key=r.key, headers=r.headers)
            for r in records
        ]
        await asyncio.gather(*futures)


class InMemoryPublisher:
    """Twin of KafkaPublisher; `fail_next` makes the next send raise, as a broker outage would."""

    def __init__(self) -> None:
        self.sent: list[Record] = []
        self.fail_next = False

    async def send_all(self, records: list[Record]) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("broker unavailable")
        self.sent.extend(records)


async def ensure_topics(
    bootstrap_servers: str, topics: Iterable[Topic], prefix: str, replication_factor: int
) -> None:
    """Create the topics a service reads or writes, if missing (idempotent, safe to race)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
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
