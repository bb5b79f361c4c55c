"""Where clocks live: PostgreSQL, and an in-memory twin for unit tests.

A handler loads a complaint's clocks (few: one per start) locked for its transaction, changes
them in the domain and saves what changed; the firing loop claims due clocks with
`FOR UPDATE SKIP LOCKED`, so two workers never hold the same clock and a handler waits for the
loop (or the loop skips the handler's) instead of both writing it.

On PostgreSQL a transaction reads a complaint's clocks and facts once and writes what changed
once, just before commit (`writes`): a consumer batch about thirty complaints locks them all in
one read (`reads_ahead`, with its inbox claim) and writes every clock, fact and receipt in
one statement with its outbox rows, instead of five round trips per lifecycle fact.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Protocol
from uuid import UUID

import asyncpg

from backbone.db import columns
from backbone.reads import Read, Row
from backbone.uow import InMemoryUnitOfWork, PgUnitOfWork, StagedMap, Transactional, UnitOfWork
from backbone.writes import Write
from contracts.events import SlaAlert, SlaBreachedV1, SlaEscalatedV1, SlaWarningIssuedV1
from sla.domain.clock import Clock
from sla.domain.policy import Plan

_COLUMNS = (
    "clock_id", "complaint_id", "tracking_number", "jurisdiction", "kind", "opd_id", "category",
    "report_type", "policy_version", "plan_id", "working_days", "timezone", "started_at",
    "due_at", "budget_seconds", "segment_started_at", "used_seconds", "remaining_seconds",
    "state", "paused_at", "outcome", "stopped_at", "working_seconds_used", "warnings_sent",
    "at_risk_since", "breached_at", "escalation_step", "escalation_level", "next_fire_at",
    "announce_at",
)
_SELECT = ", ".join(f"c.{c}" for c in _COLUMNS) + ", p.plan"
_TYPES = {
    "clock_id": "uuid", "complaint_id": "uuid", "tracking_number": "text", "jurisdiction": "text",
    "kind": "text", "opd_id": "text", "category": "text", "report_type": "text",
    "policy_version": "int", "plan_id": "int", "working_days": "int", "timezone": "text",
    "started_at": "timestamptz", "due_at": "timestamptz", "budget_seconds": "float8",
    "segment_started_at": "timestamptz", "used_seconds": "float8", "remaining_seconds": "float8",
    "state": "text", "paused_at": "timestamptz", "outcome": "text", "stopped_at": "timestamptz",
    "working_seconds_used": "float8", "warnings_sent": "text",   # a text[] literal per row
    "at_risk_since": "timestamptz", "breached_at": "timestamptz", "escalation_step": "int",
    "escalation_level": "text", "next_fire_at": "timestamptz", "announce_at": "timestamptz",
}
# One statement for a whole batch: each column travels as one array (a 500-clock firing batch
# was a tenth of a second as executemany of row tuples).
_UPSERT = (
    f"INSERT INTO clocks ({', '.join(_COLUMNS)}, updated_at) "
    f"SELECT {', '.join('warnings_sent::text[]' if c == 'warnings_sent' else c for c in _COLUMNS)}, now() "
    f"FROM unnest({', '.join(f'${i}::{_TYPES[c]}[]' for i, c in enumerate(_COLUMNS, 1))}) "
    f"AS t({', '.join(_COLUMNS)}) "
    "ON CONFLICT (clock_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS[1:]) + ", updated_at = now()"
)


def _text_array(values: list[str]) -> str:
    """A text[] literal: warnings_sent travels as one text per row inside the batch's arrays."""
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


ALERT_TYPES = {SlaWarningIssuedV1: "warning", SlaBreachedV1: "breach", SlaEscalatedV1: "escalation"}


class ComplaintFacts(Protocol):
    jurisdiction: str
    category: str | None
    report_type: str | None


class ClockStore(Protocol):
    async def for_complaint(self, complaint_id: UUID) -> list[Clock]:
        """Every clock of the complaint, locked for this transaction, oldest first."""

    def reads_ahead(self, complaint_ids: list[UUID]) -> list[Read]:
        """Lock and read these complaints' clocks and facts at once (a batch's, with its inbox
        claim, before its handlers): their `for_complaint` and `facts` then read nothing."""

    async def save(self, clocks: list[Clock]) -> None:
        """Insert or update what changed."""

    async def claim_due(self, now: datetime, limit: int) -> list[Clock]:
        """Clocks owed something by `now`, earliest first, locked; others' claims skipped."""

    async def add_alerts(self, alerts: list[SlaAlert]) -> None:
        """The alerts table: what the live stream and the listing read."""

    async def remember(self, complaint_id: UUID, jurisdiction: str, category: str | None,
                       report_type: str | None, submitted_at: datetime | None) -> None:
        """What policy selection needs later; a None never erases what is known."""

    async def facts(self, complaint_id: UUID) -> tuple[str, str | None, str | None] | None:
        """(jurisdiction, category, report_type) remembered for the complaint."""

    async def received(self, complaint_id: UUID, opd_id: str, jurisdiction: str,
                       at: datetime) -> None: ...

    async def rated(self, complaint_id: UUID, opd_id: str | None, jurisdiction: str,
                    rating: int, at: datetime) -> None: ...


class PlanIds:
    """Plans are few and shared: their ids are cached for the process."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.plans: dict[int, Plan] = {}

    @staticmethod
    def key(plan: Plan) -> str:
        return json.dumps(plan.to_json(), sort_keys=True, separators=(",", ":"))

    def plan(self, plan_id: int | None, raw: str | None) -> Plan:
        if plan_id is None or raw is None:
            return Plan()
        if plan_id not in self.plans:
            self.plans[plan_id] = Plan.from_json(json.loads(raw))
        return self.plans[plan_id]


class PgClockStore:
    def __init__(self, conn: asyncpg.Connection, plans: PlanIds) -> None:
        self._conn = conn
        self._plans = plans
        self._held: dict[UUID, dict[UUID, Clock]] = {}    # locked: each complaint's clocks now
        self._facts: dict[UUID, tuple | None] = {}        # as read
        self._unsaved: dict[UUID, Clock] = {}             # clock id: what `writes` writes
        self._remembered: dict[UUID, tuple] = {}          # complaint: facts `writes` upserts
        self._received: dict[tuple, tuple] = {}

    def _clock(self, row: Row) -> Clock:
        values = {c: row[c] for c in _COLUMNS}
        values["warnings_sent"] = list(values["warnings_sent"] or [])
        return Clock(**values, plan=self._plans.plan(row["plan_id"], row["plan"]))

    async def for_complaint(self, complaint_id: UUID) -> list[Clock]:
        if complaint_id not in self._held:
            rows = await self._conn.fetch(
                f"SELECT {_SELECT} FROM clocks c LEFT JOIN clock_plans p USING (plan_id) "
                "WHERE c.complaint_id = $1 ORDER BY c.clock_id FOR UPDATE OF c", complaint_id)
            self._held[complaint_id] = {c.clock_id: c for c in map(self._clock, rows)}
        return sorted((_copy(c) for c in self._held[complaint_id].values()),
                      key=lambda c: (c.started_at, c.kind))

    def reads_ahead(self, complaint_ids: list[UUID]) -> list[Read]:
        wanted = sorted({i for i in complaint_ids if i not in self._held})
        if not wanted:
            return []

        def take_clocks(rows: list[Row]) -> None:
            held: dict[UUID, dict[UUID, Clock]] = {i: {} for i in wanted}
            for clock in map(self._clock, rows):
                held[clock.complaint_id][clock.clock_id] = clock
            self._held.update(held)

        def take_facts(rows: list[Row]) -> None:
            facts = {r["complaint_id"]: (r["jurisdiction"], r["category"], r["report_type"])
                     for r in rows}
            for i in wanted:
                self._facts.setdefault(i, facts.get(i))

        return [
            Read(f"SELECT {_SELECT} FROM clocks c LEFT JOIN clock_plans p USING (plan_id)"
                 " WHERE c.complaint_id = ANY($1::uuid[]) ORDER BY c.complaint_id, c.clock_id"
                 " FOR UPDATE OF c", (wanted,), (*_COLUMNS, "plan"), take_clocks),
            Read("SELECT complaint_id, jurisdiction, category, report_type"
                 " FROM complaint_facts WHERE complaint_id = ANY($1::uuid[])", (wanted,),
                 ("complaint_id", "jurisdiction", "category", "report_type"), take_facts),
        ]
    async def _plan_id(self, plan: Plan) -> int:
        """The plan's row id. Only ids read from committed rows are cached: an id inserted in
        this transaction would be wrong for everyone if the transaction rolled back."""
        key = PlanIds.key(plan)
        found = self._plans.ids.get(key)
        if found is not None:
            return found
        found = await self._conn.fetchval("SELECT plan_id FROM clock_plans WHERE plan = $1::jsonb", key)
        if found is not None:
            self._plans.ids[key] = found
            return found
        return await self._conn.fetchval(
            "WITH added AS (INSERT INTO clock_plans (plan) VALUES ($1::jsonb) "
            "ON CONFLICT (plan) DO NOTHING RETURNING plan_id) "
            "SELECT plan_id FROM added UNION ALL "
            "SELECT plan_id FROM clock_plans WHERE plan = $1::jsonb LIMIT 1", key)

    async def save(self, clocks: list[Clock]) -> None:
        """Recorded now, written at the commit (`writes`); the rest of the transaction sees it."""
        for clock in clocks:
            if not clock.changed:
                continue
            if clock.plan_id is None:
                clock.plan_id = await self._plan_id(clock.plan)
            clock.changed = False
            self._unsaved[clock.clock_id] = _copy(clock)
            if clock.complaint_id in self._held:
                self._held[clock.complaint_id][clock.clock_id] = _copy(clock)

    def writes(self) -> list[Write]:
        """What the transaction changed, handed over at its commit: facts, receipts and clocks,
        a write each (distinct tables, so they go in one statement with the outbox rows)."""
        writes: list[Write] = []
        if self._remembered:
            rows, self._remembered = list(self._remembered.values()), {}
            writes.append(Write(
                "INSERT INTO complaint_facts (complaint_id, jurisdiction, category, report_type,"
                " submitted_at) SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[],"
                " $4::text[], $5::timestamptz[]) ON CONFLICT (complaint_id) DO UPDATE SET"
                " category = COALESCE(EXCLUDED.category, complaint_facts.category),"
                " report_type = COALESCE(EXCLUDED.report_type, complaint_facts.report_type),"
                " submitted_at = COALESCE(complaint_facts.submitted_at, EXCLUDED.submitted_at)",
                tuple(columns(rows))))
        if self._received:
            rows, self._received = list(self._received.values()), {}
            writes.append(Write(
                "INSERT INTO received SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[],"
                " $4::timestamptz[]) ON CONFLICT DO NOTHING", tuple(columns(rows))))
        if self._unsaved:
            clocks, self._unsaved = list(self._unsaved.values()), {}
            writes.append(Write(_UPSERT, tuple(
                [_text_array(r.warnings_sent) for r in clocks] if c == "warnings_sent"
                else [getattr(r, c) for r in clocks] for c in _COLUMNS)))
        return writes

    async def claim_due(self, now: datetime, limit: int) -> list[Clock]:
        rows = await self._conn.fetch(
            f"SELECT {_SELECT} FROM clocks c LEFT JOIN clock_plans p USING (plan_id) "
            "WHERE c.next_fire_at <= $1 ORDER BY c.next_fire_at LIMIT $2 "
            "FOR UPDATE OF c SKIP LOCKED", now, limit)
        return [self._clock(r) for r in rows]

    async def add_alerts(self, alerts: list[SlaAlert]) -> None:
        if not alerts:
            return
        rows = ((_event_id(a), ALERT_TYPES[type(a)], a.clock_id, a.complaint_id, a.tracking_number,
                 a.jurisdiction or "", a.opd_id, a.clock, a.due_at, getattr(a, "level", None),
                 getattr(a, "threshold", None), a.occurred_at, a.model_dump_json())
                for a in alerts)
        await self._conn.execute(
            "INSERT INTO alerts (event_id, type, clock_id, complaint_id, tracking_number,"
            " jurisdiction, opd_id, kind, due_at, level, threshold, occurred_at, payload)"
            " SELECT e, t, c, p, n, j, o, k, d, l, h, w, y::jsonb FROM unnest($1::uuid[],"
            " $2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[],"
            " $9::timestamptz[], $10::text[], $11::text[], $12::timestamptz[], $13::text[])"
            " AS x(e, t, c, p, n, j, o, k, d, l, h, w, y) ON CONFLICT (event_id) DO NOTHING",
            *columns(rows))

    async def remember(self, complaint_id: UUID, jurisdiction: str, category: str | None,
                       report_type: str | None, submitted_at: datetime | None) -> None:
        """Staged as the upsert would leave it: the first jurisdiction and submission time, the
        latest category and report type known."""
        old = self._remembered.get(complaint_id)
        if old is not None:
            jurisdiction, submitted_at = old[1], old[4] or submitted_at
            category, report_type = category or old[2], report_type or old[3]
        self._remembered[complaint_id] = (complaint_id, jurisdiction, category, report_type,
                                          submitted_at)

    async def facts(self, complaint_id: UUID) -> tuple[str, str | None, str | None] | None:
        if complaint_id not in self._facts:
            row = await self._conn.fetchrow(
                "SELECT jurisdiction, category, report_type FROM complaint_facts "
                "WHERE complaint_id = $1", complaint_id)
            self._facts[complaint_id] = (
                (row["jurisdiction"], row["category"], row["report_type"]) if row else None)
        known, staged = self._facts[complaint_id], self._remembered.get(complaint_id)
        if staged is None:
            return known
        if known is None:
            return staged[1], staged[2], staged[3]
        return known[0], staged[2] or known[1], staged[3] or known[2]

    async def received(self, complaint_id: UUID, opd_id: str, jurisdiction: str,
                       at: datetime) -> None:
        self._received.setdefault((complaint_id, opd_id, at),
                                  (complaint_id, opd_id, jurisdiction, at))

    async def rated(self, complaint_id: UUID, opd_id: str | None, jurisdiction: str,
                    rating: int, at: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO ratings VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING",
            complaint_id, opd_id, jurisdiction, rating, at)


def _event_id(alert: SlaAlert) -> UUID:
    """One id per alert of a clock (a breach, each warning threshold, each escalation step)."""
    label = getattr(alert, "threshold", None) or getattr(alert, "step", None) or ""
    return uuid.uuid5(alert.clock_id or alert.complaint_id, f"{type(alert).__name__}/{label}")


class InMemoryClockStore(StagedMap[UUID, Clock]):
    """Twin of PgClockStore."""

    def __init__(self) -> None:
        super().__init__()
        self.alerts: StagedMap[UUID, SlaAlert] = StagedMap()
        self.known: StagedMap[UUID, tuple] = StagedMap()
        self.received_rows: StagedMap[tuple, tuple] = StagedMap()
        self.ratings: StagedMap[tuple, tuple] = StagedMap()

    def commit(self) -> None:
        super().commit()
        for part in (self.alerts, self.known, self.received_rows, self.ratings):
            part.commit()

    def rollback(self) -> None:
        super().rollback()
        for part in (self.alerts, self.known, self.received_rows, self.ratings):
            part.rollback()

    async def for_complaint(self, complaint_id: UUID) -> list[Clock]:
        found = [_copy(c) for c in self.values() if c.complaint_id == complaint_id]
        return sorted(found, key=lambda c: (c.started_at, c.kind))

    def reads_ahead(self, complaint_ids: list[UUID]) -> list[Read]:
        """Nothing to lock or read ahead in memory; `for_complaint` answers alike."""
        return []

    async def save(self, clocks: list[Clock]) -> None:
        for clock in clocks:
            if clock.changed:
                clock.changed = False
                self.put(clock.clock_id, _copy(clock))

    async def claim_due(self, now: datetime, limit: int) -> list[Clock]:
        due = [c for c in self.values() if c.next_fire_at is not None and c.next_fire_at <= now]
        return [_copy(c) for c in sorted(due, key=lambda c: c.next_fire_at)[:limit]]

    async def add_alerts(self, alerts: list[SlaAlert]) -> None:
        for alert in alerts:
            self.alerts.put(_event_id(alert), alert)

    async def remember(self, complaint_id, jurisdiction, category, report_type, submitted_at):
        old = self.known.find(complaint_id)
        if old:
            category, report_type = category or old[1], report_type or old[2]
        self.known.put(complaint_id, (jurisdiction, category, report_type))

    async def facts(self, complaint_id):
        return self.known.find(complaint_id)

    async def received(self, complaint_id, opd_id, jurisdiction, at):
        self.received_rows.put((complaint_id, opd_id, at), (jurisdiction,))

    async def rated(self, complaint_id, opd_id, jurisdiction, rating, at):
        self.ratings.put((complaint_id, at), (opd_id, jurisdiction, rating))

    def open_clocks(self) -> list[Clock]:
        """What still runs or waits (for tests)."""
        return [c for c in self.values() if c.open]


def _copy(clock: Clock) -> Clock:
    from dataclasses import replace
    return replace(clock, events=[], warnings_sent=list(clock.warnings_sent))


class SlaUnitOfWork(UnitOfWork, Protocol):
    """What sla's handlers see: the backbone's parts plus the clock store."""

    clocks: ClockStore


_PLANS: dict[str, PlanIds] = {}   # per schema: plan ids are a schema's rows


class SlaPgUnitOfWork(PgUnitOfWork):
    def _attach(self, conn: asyncpg.Connection) -> None:
        self.clocks = PgClockStore(conn, _PLANS.setdefault(self.schema, PlanIds()))

    def _held_writes(self) -> list[Write]:
        return self.clocks.writes()


class SlaInMemoryUnitOfWork(InMemoryUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.clocks = InMemoryClockStore()

    def parts(self) -> tuple[Transactional, ...]:
        return (*super().parts(), self.clocks)
