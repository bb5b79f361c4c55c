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

from backbone.db import columns
from backbone.reads import Read, Row, names
from backbone.uow import StagedMap
from backbone.writes import Write
from contracts.events import Location
from routing.domain.complaint_text import RoutedComplaint

_COLUMNS = ("complaint_id, tracking_number, jurisdiction, language, title, description,"
            " added_info, rejected_by, category, location, anonymous, confidential, with_opd")

_READ_COLUMNS = names(_COLUMNS)


class RoutedComplaints(Protocol):
    async def keep(self, complaint: RoutedComplaint) -> None:
        """Insert or replace."""

    async def get(self, complaint_id: uuid.UUID) -> RoutedComplaint | None:
        """The kept complaint, locked for the rest of the unit of work."""

    def reads_ahead(self, complaint_ids: list[uuid.UUID]) -> list[Read]:
        """Lock and read these complaints at once (a consumer batch's, with its inbox claim),
        so `get` reads nothing."""


# keep: a batch's rows in one statement. The two text arrays travel as JSON arrays: an array of
# arrays cannot be unnested row by row.
_KEEP = (
    f"INSERT INTO routed_complaints ({_COLUMNS}) SELECT x.complaint_id, x.tracking_number,"
    " x.jurisdiction, x.language, x.title, x.description,"
    " ARRAY(SELECT jsonb_array_elements_text(x.added_info)),"
    " ARRAY(SELECT jsonb_array_elements_text(x.rejected_by)), x.category, x.location,"
    " x.anonymous, x.confidential, x.with_opd FROM unnest($1::uuid[], $2::text[], $3::text[],"
    " $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::jsonb[], $9::text[], $10::jsonb[],"
    " $11::bool[], $12::bool[], $13::text[]) AS x(complaint_id, tracking_number, jurisdiction,"
    " language, title, description, added_info, rejected_by, category, location, anonymous,"
    " confidential, with_opd)"
    " ON CONFLICT (complaint_id) DO UPDATE SET tracking_number = EXCLUDED.tracking_number,"
    " jurisdiction = EXCLUDED.jurisdiction, language = EXCLUDED.language,"
    " title = EXCLUDED.title, description = EXCLUDED.description,"
    " added_info = EXCLUDED.added_info, rejected_by = EXCLUDED.rejected_by,"
    " category = EXCLUDED.category, location = EXCLUDED.location,"
    " anonymous = EXCLUDED.anonymous, confidential = EXCLUDED.confidential,"
    " with_opd = EXCLUDED.with_opd")


class PgRoutedComplaints:
    """One per unit of work. What it read or kept is remembered for the rest of the
    transaction: the row is locked by then, so nobody else changes it, and a batch that carries
    a complaint's submission, its assignment and four clock events reads it once, not seven
    times (`RoutedComplaint` is immutable, so handing the same one out again is safe). What is
    kept is written once per complaint, with the batch's others, before the commit (`writes`)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._locked: dict[uuid.UUID, RoutedComplaint | None] = {}     # None: not kept yet
        self._changed: dict[uuid.UUID, RoutedComplaint] = {}

    async def keep(self, c: RoutedComplaint) -> None:
        if self._locked.get(c.complaint_id) == c:
            return              # kept as it is already (the feed keeps what the router kept)
        self._locked[c.complaint_id] = self._changed[c.complaint_id] = c

    def reads_ahead(self, complaint_ids: list[uuid.UUID]) -> list[Read]:
        wanted = sorted({i for i in complaint_ids if i not in self._locked})
        if not wanted:
            return []

        def take(rows: list[Row]) -> None:
            self._locked.update(dict.fromkeys(wanted))
            for row in rows:
                self._locked[row["complaint_id"]] = _load(row)

        return [Read(f"SELECT {_COLUMNS} FROM routed_complaints WHERE complaint_id ="
                     " ANY($1::uuid[]) ORDER BY complaint_id FOR UPDATE", (wanted,),
                     _READ_COLUMNS, take)]
    async def get(self, complaint_id: uuid.UUID) -> RoutedComplaint | None:
        if complaint_id in self._locked:
            return self._locked[complaint_id]
        row = await self._conn.fetchrow(
            f"SELECT {_COLUMNS} FROM routed_complaints WHERE complaint_id = $1 FOR UPDATE",
            complaint_id)
        found = self._locked[complaint_id] = _load(row) if row is not None else None
        return found

    def writes(self) -> list[Write]:
        """What was kept, handed over at the commit: one write for the batch's complaints."""
        if not self._changed:
            return []
        changed, self._changed = list(self._changed.values()), {}
        return [Write(_KEEP, tuple(columns([
            (c.complaint_id, c.tracking_number, c.jurisdiction, c.language, c.title,
             c.description, json.dumps(list(c.added_info)), json.dumps(list(c.rejected_by)),
             c.category, c.location.model_dump_json() if c.location is not None else None,
             c.anonymous, c.confidential, c.with_opd) for c in changed])))]


def _load(row: Row) -> RoutedComplaint:
    return RoutedComplaint(
        row["complaint_id"], row["tracking_number"], row["jurisdiction"], row["language"],
        row["title"], row["description"], tuple(row["added_info"]), tuple(row["rejected_by"]),
        category=row["category"],
        location=Location.model_validate(json.loads(row["location"])) if row["location"] else None,
        anonymous=row["anonymous"], confidential=row["confidential"], with_opd=row["with_opd"])


class InMemoryRoutedComplaints(StagedMap[uuid.UUID, RoutedComplaint]):
    async def keep(self, complaint: RoutedComplaint) -> None:
        self.put(complaint.complaint_id, complaint)

    async def get(self, complaint_id: uuid.UUID) -> RoutedComplaint | None:
        return self.find(complaint_id)

    def reads_ahead(self, complaint_ids: list[uuid.UUID]) -> list[Read]:
        """Nothing to lock or read ahead in memory."""
        return []
