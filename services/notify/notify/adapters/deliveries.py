"""Contacts and deliveries: the `DeliveryStore` interface, on PostgreSQL and in memory.

`claim_due` locks the rows it returns (FOR UPDATE SKIP LOCKED) for the caller's transaction, so
several dispatchers never send the same delivery.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from backbone.uow import InMemoryUnitOfWork, PgUnitOfWork


@dataclass(frozen=True)
class Delivery:
    id: uuid.UUID
    complaint_id: uuid.UUID
    about_event_id: uuid.UUID
    channel: str
    template: str
    context: dict[str, Any]
    traceparent: str | None = None
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class DueDelivery:
    delivery: Delivery
    sealed_contact: bytes
    language: str


class DeliveryStore(Protocol):
    async def save_contact(self, complaint_id: uuid.UUID, tracking_number: str, sealed: bytes,
                           has_email: bool, language: str) -> None: ...
    async def add(self, delivery: Delivery) -> bool: ...
    async def claim_due(self, now: datetime, limit: int) -> list[DueDelivery]: ...
    async def update(self, delivery: Delivery, sent_at: datetime | None = None) -> None: ...


class PgDeliveryStore:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def save_contact(self, complaint_id, tracking_number, sealed, has_email, language) -> None:
        await self._conn.execute(
            "INSERT INTO contacts (complaint_id, tracking_number, sealed, has_email, language)"
            " VALUES ($1,$2,$3,$4,$5) ON CONFLICT (complaint_id) DO UPDATE SET"
            " sealed=EXCLUDED.sealed, has_email=EXCLUDED.has_email, language=EXCLUDED.language",
            complaint_id, tracking_number, sealed, has_email, language,
        )
        await self._conn.execute("SELECT pg_notify('deliveries_due', '')")

    async def add(self, d: Delivery) -> bool:
        inserted = await self._conn.fetchval(
            "INSERT INTO deliveries (id, complaint_id, about_event_id, channel, template, context,"
            " traceparent) VALUES ($1,$2,$3,$4,$5,$6::jsonb,$7)"
            " ON CONFLICT (about_event_id, channel) DO NOTHING RETURNING true",
            d.id, d.complaint_id, d.about_event_id, d.channel, d.template,
            json.dumps(d.context), d.traceparent,
        )
        if inserted:
            await self._conn.execute("SELECT pg_notify('deliveries_due', '')")
        return bool(inserted)

    async def claim_due(self, now: datetime, limit: int) -> list[DueDelivery]:
        rows = await self._conn.fetch(
            "SELECT d.*, c.sealed, c.language FROM deliveries d"
            " JOIN contacts c ON c.complaint_id = d.complaint_id"
            " WHERE d.status = 'pending' AND d.next_attempt_at <= $1"
            " ORDER BY d.next_attempt_at LIMIT $2 FOR UPDATE OF d SKIP LOCKED",
            now, limit,
        )
        return [DueDelivery(
            Delivery(id=r["id"], complaint_id=r["complaint_id"], about_event_id=r["about_event_id"],
                     channel=r["channel"], template=r["template"], context=json.loads(r["context"]),
                     traceparent=r["traceparent"], status=r["status"], attempts=r["attempts"],
                     next_attempt_at=r["next_attempt_at"], last_error=r["last_error"]),
            r["sealed"], r["language"]) for r in rows]

    async def update(self, d: Delivery, sent_at: datetime | None = None) -> None:
        await self._conn.execute(
            "UPDATE deliveries SET status=$2, attempts=$3, next_attempt_at=COALESCE($4, next_attempt_at),"
            " last_error=$5, sent_at=$6 WHERE id=$1",
            d.id, d.status, d.attempts, d.next_attempt_at, d.last_error, sent_at,
        )


class InMemoryDeliveryStore:
    def __init__(self) -> None:
        self.contacts: dict[uuid.UUID, tuple[bytes, bool, str]] = {}
        self.deliveries: dict[uuid.UUID, Delivery] = {}
        self._snapshot: tuple | None = None

    def _stage(self) -> None:
        if self._snapshot is None:
            self._snapshot = (copy.copy(self.contacts), copy.copy(self.deliveries))

    async def save_contact(self, complaint_id, tracking_number, sealed, has_email, language) -> None:
        self._stage()
        self.contacts[complaint_id] = (sealed, has_email, language)

    async def add(self, d: Delivery) -> bool:
        if any(x.about_event_id == d.about_event_id and x.channel == d.channel
               for x in self.deliveries.values()):
            return False
        self._stage()
        self.deliveries[d.id] = d
        return True

    async def claim_due(self, now: datetime, limit: int) -> list[DueDelivery]:
        due = [d for d in self.deliveries.values() if d.status == "pending"
               and (d.next_attempt_at is None or d.next_attempt_at <= now)
               and d.complaint_id in self.contacts]
        return [DueDelivery(d, self.contacts[d.complaint_id][0], self.contacts[d.complaint_id][2])
                for d in due[:limit]]

    async def update(self, d: Delivery, sent_at: datetime | None = None) -> None:
        self._stage()
        self.deliveries[d.id] = replace(d)

    def commit(self) -> None:
        self._snapshot = None

    def rollback(self) -> None:
        if self._snapshot is not None:
            self.contacts, self.deliveries = self._snapshot
            self._snapshot = None


class NotifyPgUnitOfWork(PgUnitOfWork):
    def _attach(self, conn: asyncpg.Connection) -> None:
        self.deliveries = PgDeliveryStore(conn)


class NotifyInMemoryUnitOfWork(InMemoryUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.deliveries = InMemoryDeliveryStore()
