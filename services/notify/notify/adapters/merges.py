"""Merge links: which complaints were merged into which, so the reporter of a duplicate hears
what happens to the complaint it was merged into. On PostgreSQL and in memory.

Links chain: a duplicate of a complaint that is itself merged later follows the final one. A
link counts from its instant on, so news older than a merge never reaches the duplicate's
reporter, whatever order the two are read in.

A merge and news of its target may be applied at the same time (their events travel on
different partitions, and notify runs more than one replica). Each would miss the other's
uncommitted writes: the news would owe only the target's own citizen, the merge's catch-up would
not find the news. So a consumer batch `share`s a lock on each of its complaints before it reads
anything, and a merge `hold`s the same lock exclusively on the complaints whose followers it
changes before it reads their news: it waits for every batch that read before it, and every
batch after it waits for its commit. The lock is transaction-scoped, on a bucket of the
complaint id (`BUCKETS`), so a batch holds at most that many whatever its size.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

import asyncpg

from backbone.db import LockSpace, lock_until_commit
from backbone.reads import Read, Row
from backbone.uow import StagedMap

# Lock buckets: two complaints in one bucket only make a merge wait for a batch it need not.
BUCKETS = 1024


def bucket(complaint_id: uuid.UUID) -> int:
    return complaint_id.int % BUCKETS


class MergeLinks(Protocol):
    async def share(self, complaint_ids: list[uuid.UUID]) -> None:
        """Before a consumer batch reads anything: no merge into these complaints is made
        until this transaction ends (a merge under way is waited for)."""

    async def hold(self, *complaint_ids: uuid.UUID) -> None:
        """Before a merge reads the followers or news of these complaints: every batch that
        shares them has committed, and none begins until this transaction ends."""

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

    async def share(self, complaint_ids) -> None:
        # Batches never wait for each other here, only for a merge. Two batches that each
        # hold a merge into a complaint of the other's can deadlock: PostgreSQL ends one
        # (40P01), a transient error, and the consumer tries its batch again.
        await lock_until_commit(self._conn, LockSpace.FOLLOWERS, map(bucket, complaint_ids),
                                shared=True)

    async def hold(self, *complaint_ids) -> None:
        await lock_until_commit(self._conn, LockSpace.FOLLOWERS, map(bucket, complaint_ids))

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
    """Twin of PgMergeLinks: duplicate -> (target, merged_at). One unit of work at a time
    uses it, so there is nothing to lock."""

    async def share(self, complaint_ids) -> None:
        return None

    async def hold(self, *complaint_ids) -> None:
        return None

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
