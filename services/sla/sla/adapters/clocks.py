"""Running deadline clocks, on PostgreSQL and in memory.

A clock is one start of a deadline: (complaint, kind, the instant it started). A complaint may
have several of a kind over its life (one first-response clock per OPD it was disposed to, one
reopen window per closing); the newest supersedes the earlier ones still running.
"""

from __future__ import annotations

from typing import Protocol

import asyncpg

from backbone.uow import InMemoryUnitOfWork, PgUnitOfWork, StagedMap, Transactional, UnitOfWork
from contracts.events import SlaClockStartedV1


class ClockStore(Protocol):
    async def start(self, clock: SlaClockStartedV1) -> bool:
        """Store a running clock and supersede the complaint's earlier running clocks of its
        kind; False (and no change) if this very start is already stored."""


class PgClockStore:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def start(self, clock: SlaClockStartedV1) -> bool:
        # One round trip; the UPDATE sees the table as before the INSERT, so never the new row.
        inserted = await self._conn.fetchval(
            "WITH started AS ("
            "  INSERT INTO clocks (complaint_id, clock, tracking_number, opd_id, started_at,"
            "  due_at, working_days, timezone) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)"
            "  ON CONFLICT DO NOTHING RETURNING complaint_id, clock, started_at),"
            " superseded AS ("
            "  UPDATE clocks c SET state = 'superseded' FROM started s"
            "  WHERE c.complaint_id = s.complaint_id AND c.clock = s.clock"
            "  AND c.started_at < s.started_at AND c.state = 'running')"
            " SELECT count(*) > 0 FROM started",
            clock.complaint_id, clock.clock, clock.tracking_number, clock.opd_id,
            clock.started_at, clock.due_at, clock.working_days, clock.timezone,
        )
        return bool(inserted)


class InMemoryClockStore(StagedMap[tuple, tuple[SlaClockStartedV1, str]]):
    """Twin of PgClockStore: rows are (clock, state), keyed like the table."""

    async def start(self, clock: SlaClockStartedV1) -> bool:
        key = (clock.complaint_id, clock.clock, clock.started_at)
        if key in self:
            return False
        for other, state in self.values():
            if (other.complaint_id, other.clock) == key[:2] and state == "running" \
                    and other.started_at < clock.started_at:
                self.put((other.complaint_id, other.clock, other.started_at), (other, "superseded"))
        self.put(key, (clock, "running"))
        return True

    def running(self) -> list[SlaClockStartedV1]:
        """What still runs (for tests)."""
        return [clock for clock, state in self.values() if state == "running"]


class SlaUnitOfWork(UnitOfWork, Protocol):
    """What sla's handlers see: the backbone's parts plus the clock store."""

    clocks: ClockStore


class SlaPgUnitOfWork(PgUnitOfWork):
    def _attach(self, conn: asyncpg.Connection) -> None:
        self.clocks = PgClockStore(conn)


class SlaInMemoryUnitOfWork(InMemoryUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.clocks = InMemoryClockStore()

    def parts(self) -> tuple[Transactional, ...]:
        return (*super().parts(), self.clocks)
