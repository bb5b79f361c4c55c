"""The routing decision log, on PostgreSQL and in memory."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

import asyncpg

from backbone.uow import InMemoryUnitOfWork, PgUnitOfWork, StagedMap, Transactional, UnitOfWork
from routing.domain.rules import Decision


class DecisionLog(Protocol):
    async def record(self, complaint_id: uuid.UUID, tracking_number: str, jurisdiction: str,
                     decision: Decision, at: datetime) -> None: ...


class PgDecisionLog:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def record(self, complaint_id, tracking_number, jurisdiction, decision, at) -> None:
        await self._conn.execute(
            "INSERT INTO routing_decisions (complaint_id, tracking_number, jurisdiction, opd_id,"
            " confidence, reason, suggestions, decided_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
            complaint_id, tracking_number, jurisdiction, decision.opd_id, decision.confidence,
            decision.reason, list(decision.suggestions), at,
        )


class InMemoryDecisionLog(StagedMap[uuid.UUID, Decision]):
    async def record(self, complaint_id, tracking_number, jurisdiction, decision, at) -> None:
        if complaint_id in self:
            raise ValueError("complaint already routed")
        self.put(complaint_id, decision)


class RoutingUnitOfWork(UnitOfWork, Protocol):
    """What routing's handlers see: the backbone's parts plus the decision log."""

    decisions: DecisionLog


class RoutingPgUnitOfWork(PgUnitOfWork):
    def _attach(self, conn: asyncpg.Connection) -> None:
        self.decisions = PgDecisionLog(conn)


class RoutingInMemoryUnitOfWork(InMemoryUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.decisions = InMemoryDecisionLog()

    def parts(self) -> tuple[Transactional, ...]:
        return (*super().parts(), self.decisions)
