"""Running deadline clocks, on PostgreSQL and in memory."""

from __future__ import annotations

from typing import Protocol

import asyncpg

from backbone.uow import InMemoryUnitOfWork, PgUnitOfWork, StagedMap, Transactional, UnitOfWork
from contracts.events import SlaClockStartedV1


class ClockStore(Protocol):
    async def start(self, clock: SlaClockStartedV1) -> bool:
        """Store a running clock; False if that clock already runs for the complaint."""


class PgClockStore:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def start(self, clock: SlaClockStartedV1) -> bool:
        inserted = await self._conn.fetchval(
            "INSERT INTO clocks (complaint_id, clock, tracking_number, opd_id, started_at,"
            " due_at, working_days, timezone) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)"
            " ON CONFLICT DO NOTHING RETURNING true",
            clock.complaint_id, clock.clock, clock.tracking_number, clock.opd_id,
            clock.started_at, clock.due_at, clock.working_days, clock.timezone,
        )
        return bool(inserted)


class InMemoryClockStore(StagedMap[tuple, SlaClockStartedV1]):
    async def start(self, clock: SlaClockStartedV1) -> bool:
        key = (clock.complaint_id, clock.clock)
        if key in self:
            return False
        self.put(key, clock)
        return True


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
