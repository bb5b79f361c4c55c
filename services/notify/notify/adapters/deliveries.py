"""Deliveries and their attempt log: the `DeliveryStore` interface, on PostgreSQL and in memory.

Sending happens outside any transaction. `claim_due` takes due deliveries in one short
transaction (FOR UPDATE SKIP LOCKED, so several dispatchers never take the same one), leases
them by moving `next_attempt_at` past the lease, and loads what composing them needs (a
citizen's sealed contact and complaint profile, a staff address, a webhook endpoint) with one
query per kind for the whole batch. The caller sends, then `settle`s each delivery in its own
transaction: its new state and the attempt, written only if it is still pending. If the
process dies between send and settle, the lease runs out and only that delivery is sent again,
with the same message id. A citizen's delivery waits until their contact is known.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import asyncpg

from backbone.db import columns
from backbone.reads import Read, Row, names
from backbone.writes import Write
from notify.adapters.contacts import PROFILE_COLUMNS
from notify.adapters.directory import STAFF_COLUMNS, WEBHOOK_COLUMNS
from notify.domain.delivery import (
    Contact, Delivery, DueDelivery, Profile, StaffAddress, WebhookEndpoint,
)
from notify.domain.facts import Fact
from notify.domain.outcomes import Attempt


class DeliveryStore(Protocol):
    async def add(self, delivery: Delivery) -> bool:
        """Owe `delivery`: a fact is owed to a recipient once, whatever is added again. False
        when the duplicate is seen at once (on PostgreSQL, within the unit of work; one owed
        before is kept as it was when the new one is written)."""
    async def facts_about(self, complaint_id: uuid.UUID, since: datetime) -> list[Fact]:
        """What the complaint's own citizen was owed a message about, from `since` on."""
    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[DueDelivery]: ...
    async def settle(self, delivery: Delivery, attempt: Attempt | None) -> bool:
        """Write the delivery's new state (and log the attempt) if it is still pending."""
    async def cancel(self, complaint_id: uuid.UUID, template: str, reason: str, *,
                     audience: str | None = None) -> int:
        """Cancel what is still pending of this kind about the complaint (to `audience` only,
        if given) and not in flight: a delivery a dispatcher has claimed and not settled may be
        on its way, so it is left to be sent and settled."""
    def cancellable_ahead(self, complaint_ids: list[uuid.UUID],
                          templates: tuple[str, ...]) -> list[Read]:
        """Before a batch, with its inbox claim: take what its handlers may `cancel` of these
        complaints (pending, not in flight, of `templates`) and keep it locked until the
        commit, so `cancel` decides in memory and the batch's cancellations are written in one
        statement."""
    async def get(self, delivery_id: uuid.UUID) -> Delivery | None: ...
    async def requeue(self, delivery_id: uuid.UUID, now: datetime) -> bool:
        """A failed or skipped delivery, owed again from its first channel (operator's retry)."""
    async def of_complaint(self, complaint_id: uuid.UUID) -> list[tuple[Delivery, list[Attempt]]]: ...
    async def held(self, before: datetime) -> list[Delivery]:
        """Deliveries held for operators' digests, of facts before `before`."""
    async def digested(self, recipient_id: uuid.UUID, day: Any, digest: Delivery,
                       items: list[uuid.UUID]) -> bool:
        """Owe `digest` for the day and mark `items` digested; False if that day's exists."""


_COLUMNS = ("id, complaint_id, recipient_id, about_event_id, fact_at, channel, template, context,"
            " traceparent, status, attempts, next_attempt_at, last_error, audience, jurisdiction,"
            " tracking_number, channels, channel_index, channel_attempts")


# A delivery's new state and its attempt, if any (an attempt's channel is never NULL), written
# only if it is still pending: the common part of `PgDeliveryStore.settle` and of
# `notify.adapters.settlements`, which adds what is told of it. Parameters $1 to $16.
SETTLE = (
    "WITH settled AS (UPDATE deliveries SET status=$2, attempts=$3,"
    " next_attempt_at=COALESCE($4, next_attempt_at), last_error=$5, channel=$6,"
    " channels=$7, channel_index=$8, channel_attempts=$9, claimed_at=NULL,"
    " sent_at=CASE WHEN $2 = 'sent' THEN $10 ELSE sent_at END"
    " WHERE id=$1 AND status='pending' RETURNING id),"
    " logged AS (INSERT INTO delivery_attempts (delivery_id, n, at, channel, transport,"
    " outcome, error_class, detail, provider_ref)"
    " SELECT s.id, COALESCE((SELECT MAX(n) FROM delivery_attempts WHERE delivery_id = $1),"
    " 0) + 1, $10, $11, $12, $13, $14, $15, $16 FROM settled s WHERE $11::text IS NOT NULL)")
SETTLED = " SELECT EXISTS (SELECT 1 FROM settled)"


def settle_args(d: Delivery, attempt: Attempt | None) -> tuple:
    logged = ((None,) * 6 if attempt is None else
              (attempt.channel, attempt.transport, attempt.outcome, attempt.error_class,
               attempt.detail, attempt.provider_ref))
    return (d.id, d.status, d.attempts, d.next_attempt_at, d.last_error, d.channel,
            list(d.channels), d.channel_index, d.channel_attempts,
            attempt.at if attempt else None, *logged)


def _delivery(r: asyncpg.Record) -> Delivery:
    return Delivery(
        id=r["id"], complaint_id=r["complaint_id"], recipient_id=r["recipient_id"],
        about_event_id=r["about_event_id"], fact_at=r["fact_at"], channel=r["channel"],
        template=r["template"], context=json.loads(r["context"]), traceparent=r["traceparent"],
        status=r["status"], attempts=r["attempts"], next_attempt_at=r["next_attempt_at"],
        last_error=r["last_error"], audience=r["audience"], jurisdiction=r["jurisdiction"],
        tracking_number=r["tracking_number"], channels=tuple(r["channels"] or ()),
        channel_index=r["channel_index"], channel_attempts=r["channel_attempts"])


def _attempt(r: asyncpg.Record) -> Attempt:
    return Attempt(at=r["at"], channel=r["channel"], outcome=r["outcome"],
                   transport=r["transport"], error_class=r["error_class"], detail=r["detail"],
                   provider_ref=r["provider_ref"])


class PgDeliveryStore:
    """`became_due` is called when a change may have made a delivery due (a new delivery, or
    the contact it waited for): the unit of work wakes the dispatcher after the commit.

    New deliveries are held and written in one statement before the commit (`flush`), or
    before any query that could see them: a consumer batch owes its messages in one round
    trip. A cancellation sees what is held as well as what is written. `write_others` writes
    what the unit of work's other stores hold (contacts a claim must see) before any query."""

    def __init__(self, conn: asyncpg.Connection, became_due: Callable[[], None],
                 write_others: Callable[[], Awaitable[None]] | None = None) -> None:
        self._conn = conn
        self._became_due = became_due
        self._write_others = write_others
        self._held: dict[tuple[uuid.UUID, uuid.UUID], Delivery] = {}    # (fact, recipient)
        self._ids: set[uuid.UUID] = set()
        # Written rows `cancellable_ahead` holds locked, by complaint; and the ones cancelled
        # since, with their reason, to be written by `flush`.
        self._locked: dict[uuid.UUID, list[asyncpg.Record]] = {}
        self._locked_templates: frozenset[str] = frozenset()
        self._cancelled: dict[uuid.UUID, str] = {}

    async def add(self, d: Delivery) -> bool:
        if d.id in self._ids or (d.about_event_id, d.recipient_id) in self._held:
            return False
        self._held[(d.about_event_id, d.recipient_id)] = d
        self._ids.add(d.id)
        if d.status == "pending":
            self._became_due()
        return True

    def writes(self) -> list[Write]:
        """The held cancellations and deliveries, handed over at the commit; one already owed
        (a replay's) is left as it was. The cancellations touch rows written before, the new
        deliveries rows not yet written, so they may go in one statement."""
        writes: list[Write] = []
        if self._cancelled:
            cancelled, self._cancelled = self._cancelled, {}
            writes.append(Write(
                "UPDATE deliveries d SET status='cancelled', last_error=c.reason"
                " FROM unnest($1::uuid[], $2::text[]) AS c(id, reason)"
                " WHERE d.id = c.id AND d.status = 'pending'",
                (list(cancelled), list(cancelled.values()))))
        if self._held:
            held, self._held, self._ids = list(self._held.values()), {}, set()
            writes.append(Write(
                "INSERT INTO deliveries (id, complaint_id, recipient_id, about_event_id, fact_at,"
                " channel, template, context, traceparent, status, last_error, audience,"
                " jurisdiction, tracking_number, next_attempt_at) SELECT id, complaint_id,"
                " recipient_id, about_event_id, fact_at, channel, template, context, traceparent,"
                " status, last_error, audience, jurisdiction, tracking_number,"
                " COALESCE(next_attempt_at, LEAST(fact_at, now())) FROM unnest($1::uuid[],"
                " $2::uuid[], $3::uuid[], $4::uuid[], $5::timestamptz[], $6::text[], $7::text[],"
                " $8::jsonb[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],"
                " $14::text[], $15::timestamptz[]) AS d(id, complaint_id, recipient_id,"
                " about_event_id, fact_at, channel, template, context, traceparent, status,"
                " last_error, audience, jurisdiction, tracking_number, next_attempt_at)"
                " ON CONFLICT DO NOTHING",
                tuple(columns([(d.id, d.complaint_id, d.recipient_id, d.about_event_id,
                                d.fact_at, d.channel, d.template, json.dumps(d.context),
                                d.traceparent, d.status, d.last_error, d.audience,
                                d.jurisdiction, d.tracking_number, d.next_attempt_at)
                               for d in held]))))
        return writes

    async def flush(self) -> None:
        """Write what is held now, the other stores' first (a query that must see it
        follows)."""
        if self._write_others is not None:
            await self._write_others()
        for write in self.writes():
            await self._conn.execute(write.sql, *write.args)

    async def facts_about(self, complaint_id, since) -> list[Fact]:
        await self.flush()
        rows = await self._conn.fetch(
            "SELECT DISTINCT ON (about_event_id) about_event_id, fact_at, template, context,"
            " traceparent, jurisdiction, tracking_number FROM deliveries WHERE complaint_id = $1"
            " AND recipient_id = complaint_id AND audience = 'citizen' AND fact_at >= $2"
            " ORDER BY about_event_id", complaint_id, since)
        return sorted((Fact(r["about_event_id"], complaint_id, r["fact_at"], r["template"],
                            json.loads(r["context"]), r["traceparent"], r["jurisdiction"],
                            r["tracking_number"]) for r in rows),
                      key=lambda f: f.occurred_at)

    async def claim_due(self, now, limit, lease) -> list[DueDelivery]:
        await self.flush()
        # A scalar subquery, not EXISTS: inside an OR, PostgreSQL may run an EXISTS as a hashed
        # subplan, which reads every contact on each claim; this one looks up the due few.
        rows = await self._conn.fetch(
            "WITH due AS (SELECT d.id FROM deliveries d"
            "  WHERE d.status = 'pending' AND d.next_attempt_at <= $1"
            "  AND (d.audience <> 'citizen'"
            "       OR (SELECT true FROM contacts c WHERE c.complaint_id = d.recipient_id))"
            "  ORDER BY d.next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
            " UPDATE deliveries d SET next_attempt_at = $1 + $3::interval, claimed_at = $1 FROM due"
            f" WHERE d.id = due.id RETURNING {', '.join('d.' + c for c in names(_COLUMNS))}",
            now, limit, lease)
        if not rows:
            return []
        deliveries = [_delivery(r) for r in rows]
        citizens = [d.recipient_id for d in deliveries if d.audience == "citizen"]
        staff = [d.recipient_id for d in deliveries if d.audience in ("opd", "operator")]
        hooks = [d.recipient_id for d in deliveries if d.audience == "frontend"]
        contacts = await _contacts(self._conn, citizens)
        profiles = await _profiles(self._conn, citizens)
        addresses = await _staff(self._conn, staff)
        endpoints = await _endpoints(self._conn, hooks)
        return [DueDelivery(d, contacts.get(d.recipient_id), profiles.get(d.recipient_id),
                            addresses.get(d.recipient_id), endpoints.get(d.recipient_id))
                for d in deliveries]

    async def settle(self, d: Delivery, attempt: Attempt | None) -> bool:
        await self.flush()
        return await self._conn.fetchval(SETTLE + SETTLED, *settle_args(d, attempt))

    def cancellable_ahead(self, complaint_ids, templates) -> list[Read]:
        """SKIP LOCKED: a row a dispatcher is claiming right now is on its way, which is what
        `cancel` would find once that claim committed."""
        def take(rows: list[Row]) -> None:
            self._locked = {complaint_id: [] for complaint_id in complaint_ids}
            self._locked_templates = frozenset(templates)
            for r in rows:
                self._locked[r["complaint_id"]].append(r)

        return [Read("SELECT id, complaint_id, template, audience FROM deliveries"
                     " WHERE complaint_id = ANY($1::uuid[]) AND template = ANY($2::text[])"
                     " AND status = 'pending' AND claimed_at IS NULL FOR UPDATE SKIP LOCKED",
                     (complaint_ids, list(templates)), ("id", "complaint_id", "template", "audience"),
                     take)]
    async def cancel(self, complaint_id, template, reason, *, audience=None) -> int:
        held = [key for key, d in self._held.items() if d.complaint_id == complaint_id
                and d.template == template and d.status == "pending"
                and audience in (None, d.audience)]
        for key in held:
            self._held[key] = replace(self._held[key], status="cancelled", last_error=reason)
        if complaint_id in self._locked and template in self._locked_templates:
            locked = self._locked[complaint_id]
            hits = [r for r in locked if r["template"] == template
                    and audience in (None, r["audience"])]
            self._locked[complaint_id] = [r for r in locked if r not in hits]
            self._cancelled.update((r["id"], reason) for r in hits)
            return len(held) + len(hits)
        status = await self._conn.execute(
            "UPDATE deliveries SET status='cancelled', last_error=$3 WHERE complaint_id=$1"
            " AND template=$2 AND status='pending' AND claimed_at IS NULL"
            " AND ($4::text IS NULL OR audience = $4)", complaint_id, template, reason, audience)
        return len(held) + int(status.split()[-1])

    async def get(self, delivery_id) -> Delivery | None:
        await self.flush()
        row = await self._conn.fetchrow(f"SELECT {_COLUMNS} FROM deliveries WHERE id=$1", delivery_id)
        return _delivery(row) if row else None

    async def requeue(self, delivery_id, now) -> bool:
        await self.flush()
        status = await self._conn.execute(
            "UPDATE deliveries SET status='pending', channels='{}', channel='pending',"
            " channel_index=0, channel_attempts=0, next_attempt_at=$2"
            " WHERE id=$1 AND status IN ('failed', 'skipped')", delivery_id, now)
        if status.endswith(" 1"):
            self._became_due()
            return True
        return False

    async def of_complaint(self, complaint_id) -> list[tuple[Delivery, list[Attempt]]]:
        await self.flush()
        rows = await self._conn.fetch(
            f"SELECT {_COLUMNS} FROM deliveries WHERE complaint_id=$1 OR recipient_id=$1"
            " ORDER BY fact_at, created_at", complaint_id)
        attempts = await self._conn.fetch(
            "SELECT * FROM delivery_attempts WHERE delivery_id = ANY($1::uuid[]) ORDER BY delivery_id, n",
            [r["id"] for r in rows])
        by: dict[uuid.UUID, list[Attempt]] = {}
        for a in attempts:
            by.setdefault(a["delivery_id"], []).append(_attempt(a))
        return [(d, by.get(d.id, [])) for d in map(_delivery, rows)]

    async def held(self, before) -> list[Delivery]:
        await self.flush()
        rows = await self._conn.fetch(
            f"SELECT {_COLUMNS} FROM deliveries WHERE status='held' AND fact_at < $1"
            " ORDER BY recipient_id, fact_at", before)
        return [_delivery(r) for r in rows]

    async def digested(self, recipient_id, day, digest, items) -> bool:
        first = await self._conn.fetchval(
            "INSERT INTO digests (recipient_id, day, delivery_id, items) VALUES ($1,$2,$3,$4)"
            " ON CONFLICT DO NOTHING RETURNING true", recipient_id, day, digest.id, len(items))
        if not first:
            return False
        await self.add(digest)
        await self._conn.execute(
            "UPDATE deliveries SET status='digested' WHERE id = ANY($1::uuid[]) AND status='held'",
            items)
        return True


async def _contacts(conn, ids) -> dict[uuid.UUID, Contact]:
    if not ids:
        return {}
    rows = await conn.fetch(
        "SELECT complaint_id, sealed, language, tracking_number, has_email, has_phone, preferences"
        " FROM contacts WHERE complaint_id = ANY($1::uuid[])", ids)
    return {r["complaint_id"]: Contact(r["sealed"], r["language"], r["tracking_number"],
                                       r["has_email"], r["has_phone"], json.loads(r["preferences"]))
            for r in rows}


async def _by_id(conn, table: str, key: str, columns: str, model, ids) -> dict[uuid.UUID, Any]:
    """One query for a batch: the rows of `table` whose `key` is in `ids`, as `model`s."""
    if not ids:
        return {}
    rows = await conn.fetch(f"SELECT {columns} FROM {table} WHERE {key} = ANY($1::uuid[])", ids)
    return {r[key]: model(**dict(r)) for r in rows}


async def _profiles(conn, ids) -> dict[uuid.UUID, Profile]:
    return await _by_id(conn, "complaints", "complaint_id", PROFILE_COLUMNS, Profile, ids)


async def _staff(conn, ids) -> dict[uuid.UUID, StaffAddress]:
    return await _by_id(conn, "staff_addresses", "id", STAFF_COLUMNS, StaffAddress, ids)


async def _endpoints(conn, ids) -> dict[uuid.UUID, WebhookEndpoint]:
    return await _by_id(conn, "webhook_endpoints", "id", WEBHOOK_COLUMNS, WebhookEndpoint, ids)


class InMemoryDeliveryStore:
    """Twin of PgDeliveryStore, with the same commit-or-nothing staging. It reads contacts,
    profiles and the directory from the in-memory twins it is given."""

    def __init__(self, contacts: Any, directory: Any) -> None:
        self.deliveries: dict[uuid.UUID, Delivery] = {}
        self.attempts: dict[uuid.UUID, list[Attempt]] = {}
        self.digests: dict[tuple[uuid.UUID, Any], uuid.UUID] = {}
        self.in_flight: set[uuid.UUID] = set()     # claimed, not settled
        self._contacts, self._directory = contacts, directory
        self._snapshot: tuple | None = None

    def _stage(self) -> None:
        if self._snapshot is None:
            self._snapshot = (dict(self.deliveries), {k: list(v) for k, v in self.attempts.items()},
                              dict(self.digests), set(self.in_flight))

    async def add(self, d: Delivery) -> bool:
        if d.id in self.deliveries or any(
                (x.about_event_id, x.recipient_id) == (d.about_event_id, d.recipient_id)
                for x in self.deliveries.values()):
            return False
        self._stage()
        self.deliveries[d.id] = d       # no next_attempt_at: due at once
        return True

    async def facts_about(self, complaint_id, since) -> list[Fact]:
        facts = {d.about_event_id: Fact(d.about_event_id, complaint_id, d.fact_at, d.template,
                                        d.context, d.traceparent, d.jurisdiction, d.tracking_number)
                 for d in self.deliveries.values()
                 if d.complaint_id == complaint_id and d.audience == "citizen"
                 and not d.to_follower and d.fact_at >= since}
        return sorted(facts.values(), key=lambda f: f.occurred_at)

    async def claim_due(self, now, limit, lease) -> list[DueDelivery]:
        due = sorted((d for d in self.deliveries.values() if d.status == "pending"
                      and (d.next_attempt_at is None or d.next_attempt_at <= now)
                      and (d.audience != "citizen" or self._contacts.contact(d.recipient_id))),
                     key=lambda d: d.next_attempt_at or now)[:limit]
        self._stage()
        out = []
        for d in due:
            self.deliveries[d.id] = replace(d, next_attempt_at=now + lease)
            self.in_flight.add(d.id)
            r = d.recipient_id
            out.append(DueDelivery(
                self.deliveries[d.id],
                self._contacts.contact(r) if d.audience == "citizen" else None,
                self._contacts.profile_now(r) if d.audience == "citizen" else None,
                self._directory.staff_now(r) if d.audience in ("opd", "operator") else None,
                self._directory.endpoint_now(r) if d.audience == "frontend" else None))
        return out

    async def settle(self, d: Delivery, attempt: Attempt | None) -> bool:
        current = self.deliveries.get(d.id)
        if current is None or current.status != "pending":
            return False
        self._stage()
        self.in_flight.discard(d.id)
        self.deliveries[d.id] = d if d.next_attempt_at else replace(d, next_attempt_at=current.next_attempt_at)
        if attempt is not None:
            self.attempts.setdefault(d.id, []).append(attempt)
        return True

    async def cancel(self, complaint_id, template, reason, *, audience=None) -> int:
        hits = [d for d in self.deliveries.values() if d.complaint_id == complaint_id
                and d.template == template and d.status == "pending" and d.id not in self.in_flight
                and audience in (None, d.audience)]
        if hits:
            self._stage()
        for d in hits:
            self.deliveries[d.id] = replace(d, status="cancelled", last_error=reason)
        return len(hits)

    def cancellable_ahead(self, complaint_ids, templates) -> list[Read]:
        """Nothing to lock: one unit of work at a time, and `cancel` already works in memory."""
        return []

    async def get(self, delivery_id) -> Delivery | None:
        return self.deliveries.get(delivery_id)

    async def requeue(self, delivery_id, now) -> bool:
        d = self.deliveries.get(delivery_id)
        if d is None or d.status not in ("failed", "skipped"):
            return False
        self._stage()
        self.deliveries[d.id] = replace(d, status="pending", channels=(), channel="pending",
                                        channel_index=0, channel_attempts=0, next_attempt_at=now)
        return True

    async def of_complaint(self, complaint_id) -> list[tuple[Delivery, list[Attempt]]]:
        found = [d for d in self.deliveries.values()
                 if complaint_id in (d.complaint_id, d.recipient_id)]
        return [(d, list(self.attempts.get(d.id, []))) for d in sorted(found, key=lambda d: d.fact_at)]

    async def held(self, before) -> list[Delivery]:
        return sorted((d for d in self.deliveries.values() if d.status == "held" and d.fact_at < before),
                      key=lambda d: (str(d.recipient_id), d.fact_at))

    async def digested(self, recipient_id, day, digest, items) -> bool:
        if (recipient_id, day) in self.digests:
            return False
        self._stage()
        self.digests[(recipient_id, day)] = digest.id
        await self.add(digest)
        for i in items:
            if self.deliveries[i].status == "held":
                self.deliveries[i] = replace(self.deliveries[i], status="digested")
        return True

    def commit(self) -> None:
        self._snapshot = None

    def rollback(self) -> None:
        if self._snapshot is not None:
            self.deliveries, self.attempts, self.digests, self.in_flight = self._snapshot
            self._snapshot = None
