"""The transactional outbox: an event is written in the same transaction as the state it
describes, so a committed change always gets its event and a rolled-back one never does.

`Outbox` is the small interface handlers see; `PgOutbox` keeps what a transaction records,
and the unit of work writes it just before the commit in the statement that carries its other
writes (`outbox_write`, `backbone.writes`), so a batch of a hundred events costs no round trip
of its own; `InMemoryOutbox` is its twin for unit tests. The unit of work wakes the relay
in-process after the commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

from opentelemetry import propagate

from backbone.writes import Write
from contracts.envelope import Envelope, to_record, wrap
from contracts.events import TOPIC_OF, Event
from contracts.topics import Topic



@dataclass(frozen=True)
class OutboxRecord:
    """An event encoded for Kafka, plus the trace context it was recorded in."""

    event_id: str
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    traceparent: str | None


def stage(event: Event, source: str, topic_prefix: str,
          topic: Topic | None = None) -> tuple[OutboxRecord, Envelope]:
    """Wrap `event` for its topic, with the trace context it is being recorded in. The topic is
    the event's own (`contracts.events.TOPIC_OF`) unless one is given: for topics made at run
    time, such as an OPD's feed (`contracts.topics.opd_topic`)."""
    envelope = wrap(event, source)
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    key, value, headers = to_record(envelope)
    target = topic if topic is not None else TOPIC_OF[type(event)]
    record = OutboxRecord(envelope.id, target.name(topic_prefix), key, value,
                          headers, carrier.get("traceparent"))
    return record, envelope


class Outbox(Protocol):
    async def record(self, event: Event, topic: Topic | None = None) -> Envelope:
        """Stage `event` for its topic (or `topic`); it is published only if the transaction
        commits."""


class PgOutbox:
    """Stages outbox rows for the caller's transaction; the unit of work takes them (`take`)
    and writes them with its other writes, just before the commit."""

    def __init__(self, source: str, topic_prefix: str) -> None:
        self._source = source
        self._prefix = topic_prefix
        self._rows: list[OutboxRecord] = []

    async def record(self, event: Event, topic: Topic | None = None) -> Envelope:
        row, envelope = stage(event, self._source, self._prefix, topic)
        self._rows.append(row)
        return envelope

    def take(self) -> list[OutboxRecord]:
        """The staged rows, for a caller that writes them as part of a statement of its own."""
        rows, self._rows = self._rows, []
        return rows


def insert_rows(first: int) -> str:
    """The INSERT of outbox rows given as six arrays (`row_arrays`), from parameter `$first`
    on: a statement of its own, or a part of a larger one (notify settles a delivery and
    records what it tells of it in one statement)."""
    p = [f"${n}" for n in range(first, first + 6)]
    return ("INSERT INTO outbox (event_id, topic, key, value, headers, traceparent)"
            f" SELECT * FROM unnest({p[0]}::text[], {p[1]}::text[], {p[2]}::bytea[],"
            f" {p[3]}::bytea[], {p[4]}::jsonb[], {p[5]}::text[])")


def outbox_write(rows: list[OutboxRecord]) -> Write:
    """`rows` as a write to send alone or with a unit of work's others (`backbone.writes`)."""
    return Write(insert_rows(1), row_arrays(rows))


def row_arrays(rows: list[OutboxRecord]) -> tuple[list, ...]:
    """The parameters of `insert_rows`: one array per column."""
    return ([r.event_id for r in rows], [r.topic for r in rows], [r.key for r in rows],
            [r.value for r in rows],
            [json.dumps([[name, value.decode()] for name, value in r.headers]) for r in rows],
            [r.traceparent for r in rows])


class InMemoryOutbox:
    """Twin of PgOutbox: staged records become `committed` only when the unit of work commits."""

    def __init__(self, source: str = "/test", topic_prefix: str = "") -> None:
        self._source = source
        self._prefix = topic_prefix
        self.staged: list[tuple[OutboxRecord, Envelope]] = []
        self.committed: list[tuple[OutboxRecord, Envelope]] = []

    async def record(self, event: Event, topic: Topic | None = None) -> Envelope:
        self.staged.append(stage(event, self._source, self._prefix, topic))
        return self.staged[-1][1]

    def commit(self) -> None:
        self.committed.extend(self.staged)
        self.staged.clear()

    def rollback(self) -> None:
        self.staged.clear()

    @property
    def events(self) -> list[Event]:
        return [envelope.event for _, envelope in self.committed]

    def on_topic(self, topic_name: str) -> list[Event]:
        """The committed events recorded for the topic of that (prefixed) name."""
        return [envelope.event for record, envelope in self.committed if record.topic == topic_name]
