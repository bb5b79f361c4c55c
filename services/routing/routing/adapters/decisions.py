"""Routing's tables, on PostgreSQL and in memory: the decision log (every decision, what
triggered it and who took it: the learning material of a later issue) and the text each
complaint is routed by."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

import asyncpg

from backbone.uow import InMemoryUnitOfWork, PgUnitOfWork, StagedMap, Transactional, UnitOfWork
from routing.domain.complaint_text import RoutedComplaint
from routing.domain.rules import Decision


class DecisionLog(Protocol):
    async def record(self, complaint_id: uuid.UUID, tracking_number: str, jurisdiction: str,
                     decision: Decision, at: datetime, trigger: str = "submitted",
                     decided_by: str = "routing") -> None: ...


class RoutedComplaints(Protocol):
    async def keep(self, complaint: RoutedComplaint) -> None:
        """Insert or replace."""

    async def get(self, complaint_id: uuid.UUID) -> RoutedComplaint | None: ...


class PgDecisionLog:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def record(self, complaint_id, tracking_number, jurisdiction, decision, at,
                     trigger="submitted", decided_by="routing") -> None:
        await self._conn.execute(
            "INSERT INTO routing_decisions (complaint_id, tracking_number, jurisdiction, opd_id,"
            " confidence, reason, suggestions, decided_at, trigger, decided_by)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
            complaint_id, tracking_number, jurisdiction, decision.opd_id, decision.confidence,
            decision.reason, list(decision.suggestions), at, trigger, decided_by,
        )


class PgRoutedComplaints:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def keep(self, c: RoutedComplaint) -> None:
        await self._conn.execute(
            "INSERT INTO routed_complaints (complaint_id, tracking_number, jurisdiction, language,"
            " title, description, added_info, rejected_by) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)"
            " ON CONFLICT (complaint_id) DO UPDATE SET added_info = EXCLUDED.added_info,"
            " rejected_by = EXCLUDED.rejected_by",
            c.complaint_id, c.tracking_number, c.jurisdiction, c.language, c.title,
            c.description, c.added_info, c.rejected_by)

    async def get(self, complaint_id: uuid.UUID) -> RoutedComplaint | None:
        row = await self._conn.fetchrow(
            "SELECT complaint_id, tracking_number, jurisdiction, language, title, description,"
            " added_info, rejected_by FROM routed_complaints WHERE complaint_id=$1 FOR UPDATE",
            complaint_id)
        if row is None:
            return None
        return RoutedComplaint(**{k: (list(v) if isinstance(v, list) else v) for k, v in row.items()})


class InMemoryDecisionLog(StagedMap[uuid.UUID, list[tuple[str, str, Decision]]]):
    async def record(self, complaint_id, tracking_number, jurisdiction, decision, at,
                     trigger="submitted", decided_by="routing") -> None:
        self.put(complaint_id, [*(self.find(complaint_id) or []), (trigger, decided_by, decision)])


class InMemoryRoutedComplaints(StagedMap[uuid.UUID, RoutedComplaint]):
    async def keep(self, complaint: RoutedComplaint) -> None:
        self.put(complaint.complaint_id, RoutedComplaint(**{
            **complaint.__dict__, "added_info": list(complaint.added_info),
            "rejected_by": list(complaint.rejected_by)}))

    async def get(self, complaint_id: uuid.UUID) -> RoutedComplaint | None:
        found = self.find(complaint_id)
        return None if found is None else RoutedComplaint(**{
            **found.__dict__, "added_info": list(found.added_info),
            "rejected_by": list(found.rejected_by)})


class RoutingUnitOfWork(UnitOfWork, Protocol):
    """What routing's handlers see: the backbone's parts, the decision log, the texts."""

    decisions: DecisionLog
    complaints: RoutedComplaints


class RoutingPgUnitOfWork(PgUnitOfWork):
    def _attach(self, conn: asyncpg.Connection) -> None:
        self.decisions = PgDecisionLog(conn)
        self.complaints = PgRoutedComplaints(conn)


class RoutingInMemoryUnitOfWork(InMemoryUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.decisions = InMemoryDecisionLog()
        self.complaints = InMemoryRoutedComplaints()

    def parts(self) -> tuple[Transactional, ...]:
        return (*super().parts(), self.decisions, self.complaints)
