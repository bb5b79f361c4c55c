"""The transactional outbox: an event is written in the same transaction as the state it
describes, so a committed change always gets its event and a rolled-back one never does.

`Outbox` is the small interface handlers see; `PgOutbox` writes rows on the handler's
connection; `InMemoryOutbox` is its twin for unit tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

import asyncpg
from opentelemetry import propagate

from contracts.envelope import Envelope, to_record, wrap
from contracts.events import TOPIC_OF, Event

NOTIFY_CHANNEL = "outbox_new"


@dataclass(frozen=True)
class OutboxRecord:
    """An event encoded for Kafka, plus the trace context it was recorded in."""

    event_id: str
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    traceparent: str | None


def stage(event: Event, source: str, topic_prefix: str) -> tuple[OutboxRecord, Envelope]:
    """Wrap `event` for its topic, with the trace context it is being recorded in."""
    envelope = wrap(event, source)
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    key, value, headers = to_record(envelope)
    record = OutboxRecord(envelope.id, TOPIC_OF[type(event)].name(topic_prefix), key, value,
                          headers, carrier.get("traceparent"))
    return record, envelope


class Outbox(Protocol):
    async def record(self, event: Event) -> Envelope:
        """Stage `event` for its topic; it is published only if the transaction commits."""


class PgOutbox:
    """Writes outbox rows on the caller's connection, inside the caller's transaction."""

    def __init__(self, conn: asyncpg.Connection, source: str, topic_prefix: str) -> None:
        self._conn = conn
        self._source = source
        self._prefix = topic_prefix
        self._notified = False

    async def record(self, event: Event) -> Envelope:
        row, envelope = stage(event, self._source, self._prefix)
        await self._conn.execute(
            "INSERT INTO outbox (event_id, topic, key, value, headers, traceparent)"
            " VALUES ($1, $2, $3, $4, $5::jsonb, $6)",
            row.event_id, row.topic, row.key, row.value,
            json.dumps([[name, value.decode()] for name, value in row.headers]),
            row.traceparent,
        )
        if not self._notified:  # delivered at commit: wakes the relay without polling
            await self._conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)
            self._notified = True
        return envelope


class InMemoryOutbox:
    """Twin of PgOutbox: staged records become `committed` only when the unit of work commits."""

    def __init__(self, source: str = "/test", topic_prefix: str = "") -> None:
        self._source = source
        self._prefix = topic_prefix
        self.staged: list[tuple[OutboxRecord, Envelope]] = []
        self.committed: list[tuple[OutboxRecord, Envelope]] = []

    async def record(self, event: Event) -> Envelope:
        self.staged.append(stage(event, self._source, self._prefix))
        return self.staged[-1][1]

    def commit(self) -> None:
        self.committed.extend(self.staged)
        self.staged.clear()

    def rollback(self) -> None:
        self.staged.clear()

    @property
    def events(self) -> list[Event]:
        return [envelope.event for _, envelope in self.committed]
