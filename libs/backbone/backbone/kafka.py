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
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send_all(self, records: list[Record]) -> None:
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
