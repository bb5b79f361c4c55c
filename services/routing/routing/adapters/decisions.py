"""The decision log (table `routing_decisions`), on PostgreSQL and in memory, and routing's unit
of work.

Several rows per complaint: routing's first decision, each re-route (after "bukan wewenang",
added information, a resume) and each disposal an operator made by hand, with what triggered it
and who decided. Those pairs (what routing said, what a person then did) are the learning
material of a later issue, so the log only ever grows and `history` reads it back in order.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from collections.abc import Sequence
from typing import Protocol

import asyncpg

from backbone.db import columns
from backbone.uow import InMemoryUnitOfWork, PgUnitOfWork, StagedMap, Transactional, UnitOfWork
from backbone.writes import Write
from routing.adapters.duplicates import DuplicateStore, InMemoryDuplicateStore, PgDuplicateStore
from routing.adapters.jurisdictions import (
    InMemoryJurisdictionStore, JurisdictionStore, PgJurisdictionStore,
)
from routing.adapters.labelled_examples import (
    InMemoryLabelledExamples, LabelledExamples, PgLabelledExamples,
)
from routing.adapters.routed_complaints import (
    InMemoryRoutedComplaints, PgRoutedComplaints, RoutedComplaints,
)
from routing.domain.decision import Decision


@dataclass(frozen=True)
class LoggedDecision:
    """One row of the log, as both adapters give it back."""

    tracking_number: str
    jurisdiction: str
    opd_id: str | None
    confidence: float
    reason: str
    suggestions: tuple[str, ...]
    decided_at: datetime
    trigger: str
    decided_by: str
    # What the operator weighs in triage: each way routing could send it, best first (dicts of
    # category, confidence, opd_id, opd_name, not_ours), the subcategory read and its words.
    candidates: tuple[dict, ...] = ()
    category: str | None = None
    explanation: tuple[str, ...] = ()

    @classmethod
    def of(cls, tracking_number: str, jurisdiction: str, decision: Decision, at: datetime,
           trigger: str, decided_by: str) -> LoggedDecision:
        # The column is `real`: confidences are kept to 3 decimals (as the classifier gives
        # them) so the twin and the table read back the same value.
        read = decision.classification
        return cls(tracking_number, jurisdiction, decision.opd_id, round(decision.confidence, 3),
                   decision.reason, tuple(decision.suggestions), at, trigger, decided_by,
                   tuple({"category": c.category, "confidence": round(c.confidence, 3),
                          "opd_id": c.destination.opd_id, "opd_name": c.destination.opd_name,
                          "not_ours": c.destination.not_ours} for c in decision.candidates),
                   read.subcategory if read is not None else None,
                   tuple(read.explanation) if read is not None else ())


class DecisionLog(Protocol):
    async def record(self, complaint_id: uuid.UUID, tracking_number: str, jurisdiction: str,
                     decision: Decision, at: datetime, trigger: str = "submitted",
                     decided_by: str = "routing") -> None: ...

    async def history(self, complaint_id: uuid.UUID) -> list[LoggedDecision]:
        """Every decision about the complaint, oldest first."""

    async def history_by_numbers(self, tracking_numbers: Sequence[str]
                                 ) -> dict[str, list[LoggedDecision]]:
        """The same for several complaints at once, by the tracking numbers staff work with;
        a number routing never decided on is left out."""


class PgDecisionLog:
    """One per unit of work. Rows recorded are held and written together, in one statement, before
    the commit (`flush`): a consumer batch decides on many complaints. Reads write them first."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._held: list[tuple] = []

    async def record(self, complaint_id, tracking_number, jurisdiction, decision, at,
                     trigger="submitted", decided_by="routing") -> None:
        row = LoggedDecision.of(tracking_number, jurisdiction, decision, at, trigger, decided_by)
        self._held.append((
            complaint_id, row.tracking_number, row.jurisdiction, row.opd_id, row.confidence,
            row.reason, json.dumps(list(row.suggestions)), row.decided_at, row.trigger,
            row.decided_by, json.dumps(list(row.candidates)), row.category,
            json.dumps(list(row.explanation))))

    def writes(self) -> list[Write]:
        """The held rows as one write, handed over at the commit."""
        if not self._held:
            return []
        held, self._held = self._held, []
        return [Write(_RECORD, tuple(columns(held)))]

    async def flush(self) -> None:
        """Write the held rows now (a read of the log must see them)."""
        for write in self.writes():
            await self._conn.execute(write.sql, *write.args)

    async def history(self, complaint_id: uuid.UUID) -> list[LoggedDecision]:
        await self.flush()
        return _logged(await self._conn.fetch(
            f"SELECT {_COLUMNS} FROM routing_decisions WHERE complaint_id = $1 ORDER BY id",
            complaint_id))

    async def history_by_numbers(self, tracking_numbers: Sequence[str]
                                 ) -> dict[str, list[LoggedDecision]]:
        await self.flush()
        return _by_number(_logged(await self._conn.fetch(
            f"SELECT {_COLUMNS} FROM routing_decisions WHERE tracking_number = ANY($1::text[])"
            " ORDER BY id", list(tracking_numbers))))


# The log's rows in one statement, in the order recorded (ids ascend with it: `history` reads
# in id order). The text arrays travel as JSON arrays, as in routed_complaints' keep.
_RECORD = (
    "INSERT INTO routing_decisions (complaint_id, tracking_number, jurisdiction, opd_id,"
    " confidence, reason, suggestions, decided_at, trigger, decided_by, candidates, category,"
    " explanation) SELECT x.complaint_id, x.tracking_number, x.jurisdiction, x.opd_id,"
    " x.confidence, x.reason, ARRAY(SELECT jsonb_array_elements_text(x.suggestions)),"
    " x.decided_at, x.trigger, x.decided_by, x.candidates, x.category,"
    " ARRAY(SELECT jsonb_array_elements_text(x.explanation))"
    " FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::real[], $6::text[],"
    " $7::jsonb[], $8::timestamptz[], $9::text[], $10::text[], $11::jsonb[], $12::text[],"
    " $13::jsonb[]) WITH ORDINALITY AS x(complaint_id, tracking_number, jurisdiction, opd_id,"
    " confidence, reason, suggestions, decided_at, trigger, decided_by, candidates, category,"
    " explanation, n) ORDER BY x.n")

_COLUMNS = ("tracking_number, jurisdiction, opd_id, confidence, reason, suggestions, decided_at,"
            " trigger, decided_by, candidates, category, explanation")


def _by_number(rows: list[LoggedDecision]) -> dict[str, list[LoggedDecision]]:
    found: dict[str, list[LoggedDecision]] = {}
    for row in rows:
        found.setdefault(row.tracking_number, []).append(row)
    return found


def _logged(rows) -> list[LoggedDecision]:
    return [LoggedDecision(r["tracking_number"], r["jurisdiction"], r["opd_id"],
                           round(r["confidence"], 3), r["reason"], tuple(r["suggestions"]),
                           r["decided_at"], r["trigger"], r["decided_by"],
                           tuple(json.loads(r["candidates"])), r["category"],
                           tuple(r["explanation"])) for r in rows]


class InMemoryDecisionLog(StagedMap[uuid.UUID, tuple[LoggedDecision, ...]]):
    async def record(self, complaint_id, tracking_number, jurisdiction, decision, at,
                     trigger="submitted", decided_by="routing") -> None:
        row = LoggedDecision.of(tracking_number, jurisdiction, decision, at, trigger, decided_by)
        self.put(complaint_id, (*(self.find(complaint_id) or ()), row))

    async def history(self, complaint_id: uuid.UUID) -> list[LoggedDecision]:
        return list(self.find(complaint_id) or ())

    async def history_by_numbers(self, tracking_numbers: Sequence[str]
                                 ) -> dict[str, list[LoggedDecision]]:
        wanted = set(tracking_numbers)
        return _by_number([row for rows in self.values() for row in rows
                           if row.tracking_number in wanted])


class RoutingUnitOfWork(UnitOfWork, Protocol):
    """What routing's handlers see: the backbone's parts, the decision log, the kept texts."""

    decisions: DecisionLog
    complaints: RoutedComplaints
    examples: LabelledExamples
    jurisdictions: JurisdictionStore
    duplicates: DuplicateStore


class RoutingPgUnitOfWork(PgUnitOfWork):
    def _attach(self, conn: asyncpg.Connection) -> None:
        self.decisions = PgDecisionLog(conn)
        self.complaints = PgRoutedComplaints(conn)
        self.examples = PgLabelledExamples(conn)
        self.jurisdictions = PgJurisdictionStore(conn)
        self.duplicates = PgDuplicateStore(conn)

    def _held_writes(self) -> list[Write]:
        return [*self.complaints.writes(), *self.decisions.writes()]


class RoutingInMemoryUnitOfWork(InMemoryUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.decisions = InMemoryDecisionLog()
        self.complaints = InMemoryRoutedComplaints()
        self.examples = InMemoryLabelledExamples()
        self.jurisdictions = InMemoryJurisdictionStore()
        self.duplicates = InMemoryDuplicateStore()

    def parts(self) -> tuple[Transactional, ...]:
        return (*super().parts(), self.decisions, self.complaints, self.examples,
                self.jurisdictions, self.duplicates)
