"""Contacts and deliveries: the `DeliveryStore` interface, on PostgreSQL and in memory.

Sending happens outside any transaction. `claim_due` takes due deliveries in one short
statement (FOR UPDATE SKIP LOCKED, so several dispatchers never take the same one) and leases
them by moving `next_attempt_at` past the lease; the caller then sends and settles each
delivery in its own transaction (`mark_sent`, `reschedule`, `give_up`). If the process dies
between send and settle, the lease runs out and only that delivery is sent again, with the same
Message-ID. A delivery is sent once its recipient's contact is known.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

import asyncpg

from backbone.uow import InMemoryUnitOfWork, PgUnitOfWork, Transactional, UnitOfWork
from notify.adapters.merges import InMemoryMergeLinks, MergeLinks, PgMergeLinks
from notify.domain.delivery import Delivery, DueDelivery
from notify.domain.facts import Fact


class DeliveryStore(Protocol):
    async def save_contact(self, complaint_id: uuid.UUID, tracking_number: str, sealed: bytes,
                           has_email: bool, language: str) -> None: ...
    async def add(self, delivery: Delivery) -> bool:
        """Owe `delivery`; False if it (the same fact, recipient and channel) is owed already."""
    async def facts_about(self, complaint_id: uuid.UUID, since: datetime) -> list[Fact]:
        """What the complaint's own citizen was owed a message about, from `since` on."""
    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[DueDelivery]: ...
    async def mark_sent(self, delivery_id: uuid.UUID, at: datetime) -> bool: ...
    async def reschedule(self, delivery_id: uuid.UUID, next_attempt_at: datetime, error: str) -> None: ...
    async def give_up(self, delivery_id: uuid.UUID, status: str, error: str) -> None: ...


class PgDeliveryStore:
    """`became_due` is called when a change may have made a delivery due (a new delivery, or
    the contact it waited for): the unit of work wakes the dispatcher after the commit."""

    def __init__(self, conn: asyncpg.Connection, became_due: Callable[[], None]) -> None:
        self._conn = conn
        self._became_due = became_due

    async def save_contact(self, complaint_id, tracking_number, sealed, has_email, language) -> None:
        await self._conn.execute(
            "INSERT INTO contacts (complaint_id, tracking_number, sealed, has_email, language)"
            " VALUES ($1,$2,$3,$4,$5) ON CONFLICT (complaint_id) DO UPDATE SET"
            " sealed=EXCLUDED.sealed, has_email=EXCLUDED.has_email, language=EXCLUDED.language",
            complaint_id, tracking_number, sealed, has_email, language,
        )
        self._became_due()

    async def add(self, d: Delivery) -> bool:
        inserted = await self._conn.fetchval(
            "INSERT INTO deliveries (id, complaint_id, recipient_id, about_event_id, fact_at,"
            " channel, template, context, traceparent) VALUES ($1,$2,$3,$4,$5,$6,$7,$8::jsonb,$9)"
            " ON CONFLICT DO NOTHING RETURNING true",
            d.id, d.complaint_id, d.recipient_id, d.about_event_id, d.fact_at, d.channel,
            d.template, json.dumps(d.context), d.traceparent,
        )
        if inserted:
            self._became_due()
        return bool(inserted)

    async def facts_about(self, complaint_id, since) -> list[Fact]:
        rows = await self._conn.fetch(
            "SELECT DISTINCT ON (about_event_id) about_event_id, fact_at, template, context,"
            " traceparent FROM deliveries WHERE complaint_id = $1 AND recipient_id = complaint_id"
            " AND fact_at >= $2 ORDER BY about_event_id", complaint_id, since)
        return sorted((Fact(r["about_event_id"], complaint_id, r["fact_at"], r["template"],
                            json.loads(r["context"]), r["traceparent"]) for r in rows),
                      key=lambda f: f.occurred_at)

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[DueDelivery]:
        rows = await self._conn.fetch(
            "WITH due AS (SELECT d.id FROM deliveries d"
            "  WHERE d.status = 'pending' AND d.next_attempt_at <= $1"
            "  AND EXISTS (SELECT 1 FROM contacts c WHERE c.complaint_id = d.recipient_id)"
            "  ORDER BY d.next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
            " UPDATE deliveries d SET next_attempt_at = $1 + $3::interval FROM due, contacts c"
            " WHERE d.id = due.id AND c.complaint_id = d.recipient_id"
            " RETURNING d.*, c.sealed, c.language, c.tracking_number AS recipient_tracking_number",
            now, limit, lease,
        )
        return [DueDelivery(
            Delivery(id=r["id"], complaint_id=r["complaint_id"], recipient_id=r["recipient_id"],
                     about_event_id=r["about_event_id"], fact_at=r["fact_at"],
                     channel=r["channel"], template=r["template"], context=json.loads(r["context"]),
                     traceparent=r["traceparent"], status=r["status"], attempts=r["attempts"],
                     next_attempt_at=r["next_attempt_at"], last_error=r["last_error"]),
            r["sealed"], r["language"], r["recipient_tracking_number"]) for r in rows]

    async def mark_sent(self, delivery_id, at) -> bool:
        status = await self._conn.execute(
            "UPDATE deliveries SET status='sent', sent_at=$2, attempts=attempts+1, last_error=NULL"
            " WHERE id=$1 AND status='pending'", delivery_id, at)
        return status.endswith(" 1")

    async def reschedule(self, delivery_id, next_attempt_at, error) -> None:
        await self._conn.execute(
            "UPDATE deliveries SET attempts=attempts+1, next_attempt_at=$2, last_error=$3"
            " WHERE id=$1 AND status='pending'", delivery_id, next_attempt_at, error[:500])

    async def give_up(self, delivery_id, status, error) -> None:
        await self._conn.execute(
            "UPDATE deliveries SET status=$2, attempts=attempts+1, last_error=$3"
            " WHERE id=$1 AND status='pending'", delivery_id, status, error[:500])


class InMemoryDeliveryStore:
    """Twin of PgDeliveryStore, with the same commit-or-nothing staging."""

    def __init__(self) -> None:
        self.contacts: dict[uuid.UUID, tuple[bytes, bool, str, str]] = {}
        self.deliveries: dict[uuid.UUID, Delivery] = {}
        self._snapshot: tuple | None = None

    def _stage(self) -> None:
        if self._snapshot is None:
            self._snapshot = (dict(self.contacts), dict(self.deliveries))

    async def save_contact(self, complaint_id, tracking_number, sealed, has_email, language) -> None:
        self._stage()
        self.contacts[complaint_id] = (sealed, has_email, language, tracking_number)

    async def add(self, d: Delivery) -> bool:
        if d.id in self.deliveries or any(
                (x.about_event_id, x.recipient_id, x.channel) == (d.about_event_id, d.recipient_id, d.channel)
                for x in self.deliveries.values()):
            return False
        self._stage()
        self.deliveries[d.id] = d
        return True

    async def facts_about(self, complaint_id, since) -> list[Fact]:
        facts = {d.about_event_id: Fact(d.about_event_id, complaint_id, d.fact_at, d.template,
                                        d.context, d.traceparent)
                 for d in self.deliveries.values()
                 if d.complaint_id == complaint_id and not d.to_follower and d.fact_at >= since}
        return sorted(facts.values(), key=lambda f: f.occurred_at)

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[DueDelivery]:
        due = [d for d in self.deliveries.values() if d.status == "pending"
               and (d.next_attempt_at is None or d.next_attempt_at <= now)
               and d.recipient_id in self.contacts][:limit]
        self._stage()
        for d in due:
            self.deliveries[d.id] = replace(d, next_attempt_at=now + lease)
        return [DueDelivery(self.deliveries[d.id], self.contacts[d.recipient_id][0],
                            self.contacts[d.recipient_id][2], self.contacts[d.recipient_id][3])
                for d in due]

    def _change(self, delivery_id: uuid.UUID, **changes) -> bool:
        current = self.deliveries.get(delivery_id)
        if current is None or current.status != "pending":
            return False
        self._stage()
        self.deliveries[delivery_id] = replace(current, attempts=current.attempts + 1, **changes)
        return True

    async def mark_sent(self, delivery_id, at) -> bool:
        return self._change(delivery_id, status="sent", last_error=None)

    async def reschedule(self, delivery_id, next_attempt_at, error) -> None:
        self._change(delivery_id, next_attempt_at=next_attempt_at, last_error=error)

    async def give_up(self, delivery_id, status, error) -> None:
        self._change(delivery_id, status=status, last_error=error)

    def commit(self) -> None:
        self._snapshot = None

    def rollback(self) -> None:
        if self._snapshot is not None:
            self.contacts, self.deliveries = self._snapshot
            self._snapshot = None


class NotifyUnitOfWork(UnitOfWork, Protocol):
    """What notify's handlers see: the backbone's parts plus contacts and deliveries, and the
    merge links that decide who else hears of a complaint."""

    deliveries: DeliveryStore
    merges: MergeLinks


class NotifyPgUnitOfWork(PgUnitOfWork):
    def __init__(self, pool: asyncpg.Pool, source: str, topic_prefix: str, schema: str,
                 wake_dispatcher: Callable[[], None] = lambda: None) -> None:
        super().__init__(pool, source, topic_prefix, schema)
        self._wake_dispatcher = wake_dispatcher

    def _attach(self, conn: asyncpg.Connection) -> None:
        self.deliveries = PgDeliveryStore(conn, lambda: self.after_commit(self._wake_dispatcher))
        self.merges = PgMergeLinks(conn)


class NotifyInMemoryUnitOfWork(InMemoryUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.deliveries = InMemoryDeliveryStore()
        self.merges = InMemoryMergeLinks()

    def parts(self) -> tuple[Transactional, ...]:
        return (*super().parts(), self.deliveries, self.merges)
