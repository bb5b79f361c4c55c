"""Merge links: which complaints were merged into which, so the reporter of a duplicate hears
what happens to the complaint it was merged into. On PostgreSQL and in memory.

Links chain: a duplicate of a complaint that is itself merged later follows the final one. A
link counts from its instant on, so news older than a merge never reaches the duplicate's
reporter, whatever order the two are read in.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

import asyncpg

from backbone.reads import Read, Row
from backbone.uow import StagedMap


class MergeLinks(Protocol):
    def reads_ahead(self, complaint_ids: list[uuid.UUID]) -> list[Read]:
        """Find out, in one go (with a consumer batch's inbox claim), which of these complaints
        have anything merged into them: for the others `followers` needs no query."""

    async def link(self, complaint_id: uuid.UUID, into_complaint_id: uuid.UUID,
                   merged_at: datetime) -> bool:
        """Record that `complaint_id` was merged; False if that was known already."""

    async def followers(self, complaint_id: uuid.UUID, at: datetime) -> list[uuid.UUID]:
        """Complaints merged into `complaint_id` by `at`, directly or through others."""

    async def target_of(self, complaint_id: uuid.UUID) -> tuple[uuid.UUID, datetime] | None:
        """Where `complaint_id` was merged into, and when; None if it was not."""


class PgMergeLinks:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._alone: set[uuid.UUID] = set()     # nothing merged into them, as read ahead

    def reads_ahead(self, complaint_ids) -> list[Read]:
        def take(rows: list[Row]) -> None:
            self._alone.update(set(complaint_ids) - {r["into_complaint_id"] for r in rows})

        return [Read("SELECT DISTINCT into_complaint_id FROM merges"
                     " WHERE into_complaint_id = ANY($1::uuid[])", (complaint_ids,),
                     ("into_complaint_id",), take)]

    async def link(self, complaint_id, into_complaint_id, merged_at) -> bool:
        self._alone.discard(into_complaint_id)
        inserted = await self._conn.fetchval(
            "INSERT INTO merges (complaint_id, into_complaint_id, merged_at) VALUES ($1,$2,$3)"
            " ON CONFLICT (complaint_id) DO NOTHING RETURNING true",
            complaint_id, into_complaint_id, merged_at)
        return bool(inserted)

    async def followers(self, complaint_id, at) -> list[uuid.UUID]:
        if complaint_id in self._alone:
            return []
        # UNION (not UNION ALL) drops rows already found, so even a cycle ends.
        rows = await self._conn.fetch(
            "WITH RECURSIVE followers (complaint_id) AS ("
            "  SELECT complaint_id FROM merges WHERE into_complaint_id = $1 AND merged_at <= $2"
            "  UNION"
            "  SELECT m.complaint_id FROM merges m JOIN followers f"
            "  ON m.into_complaint_id = f.complaint_id WHERE m.merged_at <= $2)"
            " SELECT complaint_id FROM followers WHERE complaint_id <> $1",
            complaint_id, at)
        return [r["complaint_id"] for r in rows]

    async def target_of(self, complaint_id) -> tuple[uuid.UUID, datetime] | None:
        row = await self._conn.fetchrow(
            "SELECT into_complaint_id, merged_at FROM merges WHERE complaint_id = $1", complaint_id)
        return (row["into_complaint_id"], row["merged_at"]) if row else None


class InMemoryMergeLinks(StagedMap[uuid.UUID, tuple[uuid.UUID, datetime]]):
    """Twin of PgMergeLinks: duplicate -> (target, merged_at)."""

    def reads_ahead(self, complaint_ids) -> list[Read]:
        """Nothing to read ahead in memory."""
        return []

    async def link(self, complaint_id, into_complaint_id, merged_at) -> bool:
        if complaint_id in self:
            return False
        self.put(complaint_id, (into_complaint_id, merged_at))
        return True

    async def followers(self, complaint_id, at) -> list[uuid.UUID]:
        links = {**self.rows, **self._staged}
        found: list[uuid.UUID] = []
        frontier = [complaint_id]
        while frontier:
            into = frontier.pop()
            for duplicate, (target, merged_at) in links.items():
                if target == into and merged_at <= at and duplicate not in found \
                        and duplicate != complaint_id:
                    found.append(duplicate)
                    frontier.append(duplicate)
        return found

    async def target_of(self, complaint_id) -> tuple[uuid.UUID, datetime] | None:
        return self.find(complaint_id)
