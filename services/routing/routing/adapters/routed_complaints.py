"""The text each complaint is routed by (table `routed_complaints`), on PostgreSQL and in memory.

`keep` replaces the whole row in both, so the twin and the table never disagree about what a
second `keep` does; merging (never forgetting a rejecter) is the domain's job, in
`RoutedComplaint`.
"""

from __future__ import annotations

import json
import uuid
from typing import Protocol

import asyncpg

from backbone.uow import StagedMap
from contracts.events import Location
from routing.domain.complaint_text import RoutedComplaint

_COLUMNS = ("complaint_id, tracking_number, jurisdiction, language, title, description,"
            " added_info, rejected_by, category, location, anonymous, confidential, with_opd")


class RoutedComplaints(Protocol):
    async def keep(self, complaint: RoutedComplaint) -> None:
        """Insert or replace."""

    async def get(self, complaint_id: uuid.UUID) -> RoutedComplaint | None:
        """The kept complaint, locked for the rest of the unit of work."""


class PgRoutedComplaints:
    """One per unit of work. What it read or kept is remembered for the rest of the
    transaction: the row is locked by then, so nobody else changes it, and a batch that carries
    a complaint's submission, its assignment and four clock events reads it once, not seven
    times (`RoutedComplaint` is immutable, so handing the same one out again is safe)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._locked: dict[uuid.UUID, RoutedComplaint] = {}

    async def keep(self, c: RoutedComplaint) -> None:
        if self._locked.get(c.complaint_id) == c:
            return              # kept as it is already (the feed keeps what the router kept)
        await self._conn.execute(
            f"INSERT INTO routed_complaints ({_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,"
            "$9,$10::jsonb,$11,$12,$13)"
            " ON CONFLICT (complaint_id) DO UPDATE SET tracking_number = EXCLUDED.tracking_number,"
            " jurisdiction = EXCLUDED.jurisdiction, language = EXCLUDED.language,"
            " title = EXCLUDED.title, description = EXCLUDED.description,"
            " added_info = EXCLUDED.added_info, rejected_by = EXCLUDED.rejected_by,"
            " category = EXCLUDED.category, location = EXCLUDED.location,"
            " anonymous = EXCLUDED.anonymous, confidential = EXCLUDED.confidential,"
            " with_opd = EXCLUDED.with_opd",
            c.complaint_id, c.tracking_number, c.jurisdiction, c.language, c.title,
            c.description, list(c.added_info), list(c.rejected_by), c.category,
            c.location.model_dump_json() if c.location is not None else None,
            c.anonymous, c.confidential, c.with_opd)
        self._locked[c.complaint_id] = c

    async def get(self, complaint_id: uuid.UUID) -> RoutedComplaint | None:
        if complaint_id in self._locked:
            return self._locked[complaint_id]
        row = await self._conn.fetchrow(
            f"SELECT {_COLUMNS} FROM routed_complaints WHERE complaint_id = $1 FOR UPDATE",
            complaint_id)
        if row is None:
            return None
        found = self._locked[complaint_id] = RoutedComplaint(
            row["complaint_id"], row["tracking_number"], row["jurisdiction"], row["language"],
            row["title"], row["description"], tuple(row["added_info"]), tuple(row["rejected_by"]),
            category=row["category"],
            location=Location.model_validate(json.loads(row["location"])) if row["location"] else None,
            anonymous=row["anonymous"], confidential=row["confidential"], with_opd=row["with_opd"])
        return found


class InMemoryRoutedComplaints(StagedMap[uuid.UUID, RoutedComplaint]):
    async def keep(self, complaint: RoutedComplaint) -> None:
        self.put(complaint.complaint_id, complaint)

    async def get(self, complaint_id: uuid.UUID) -> RoutedComplaint | None:
        return self.find(complaint_id)
