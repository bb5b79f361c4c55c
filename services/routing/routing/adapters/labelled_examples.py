"""Labelled examples (table `labelled_examples`), on PostgreSQL and in memory: what operators
and OPDs taught routing, kept for the next training run (`python -m
routing.training.export_examples`).

One example per (complaint, OPD, sign): an operator who disposes the same complaint to the same
OPD twice teaches nothing new, so a repeat keeps the first row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import asyncpg

from backbone.uow import StagedMap


@dataclass(frozen=True)
class LabelledExample:
    complaint_id: uuid.UUID
    tracking_number: str
    jurisdiction: str
    title: str
    description: str
    opd_id: str
    positive: bool          # True: belongs to this OPD; False: this OPD said bukan wewenang
    source: str             # operator_assign, operator_reassign, rejection
    decided_by: str
    recorded_at: datetime


class LabelledExamples(Protocol):
    async def add(self, example: LabelledExample) -> None: ...
    async def since(self, moment: datetime, limit: int = 10_000) -> list[LabelledExample]: ...


_FIELDS = ("complaint_id", "tracking_number", "jurisdiction", "title", "description", "opd_id",
           "positive", "source", "decided_by", "recorded_at")


class PgLabelledExamples:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def add(self, example: LabelledExample) -> None:
        await self._conn.execute(
            f"INSERT INTO labelled_examples ({', '.join(_FIELDS)})"
            " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
            " ON CONFLICT (complaint_id, opd_id, positive) DO NOTHING",
            *(getattr(example, f) for f in _FIELDS))

    async def since(self, moment: datetime, limit: int = 10_000) -> list[LabelledExample]:
        rows = await self._conn.fetch(
            f"SELECT {', '.join(_FIELDS)} FROM labelled_examples WHERE recorded_at >= $1"
            " ORDER BY recorded_at, id LIMIT $2", moment, limit)
        return [LabelledExample(**dict(r)) for r in rows]


class InMemoryLabelledExamples(StagedMap[tuple[uuid.UUID, str, bool], LabelledExample]):
    async def add(self, example: LabelledExample) -> None:
        key = (example.complaint_id, example.opd_id, example.positive)
        if self.find(key) is None:
            self.put(key, example)

    async def since(self, moment: datetime, limit: int = 10_000) -> list[LabelledExample]:
        found = sorted((e for e in self.values() if e.recorded_at >= moment),
                       key=lambda e: e.recorded_at)
        return found[:limit]
