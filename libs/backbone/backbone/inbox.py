"""The inbox: which events a consumer has already applied. Claiming an event id happens in the
same transaction as the effect, so a redelivered event is recognised and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import asyncpg

from backbone.reads import Read, arrays_of, hand_over


class Inbox(Protocol):
    async def claim(self, consumer: str, event_id: str) -> bool:
        """True the first time; False if this consumer already applied the event."""

    async def claim_many(self, consumer: str, event_ids: list[str],
                         reads: Sequence[Read] = ()) -> set[str]:
        """The ids of `event_ids` claimed now (not applied before), and the rows of `reads`
        handed to each, in one round trip."""


_CLAIM = ("INSERT INTO inbox (consumer, event_id) SELECT $1, unnest($2::text[])"
          " ON CONFLICT DO NOTHING")


class PgInbox:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def claim(self, consumer: str, event_id: str) -> bool:
        inserted = await self._conn.fetchval(
            "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING RETURNING true",
            consumer, event_id,
        )
        return bool(inserted)

    async def claim_many(self, consumer: str, event_ids: list[str],
                         reads: Sequence[Read] = ()) -> set[str]:
        if not reads:
            rows = await self._conn.fetch(_CLAIM + " RETURNING event_id", consumer, event_ids)
            return {r["event_id"] for r in rows}
        items, args = arrays_of(reads, 3)
        row = await self._conn.fetchrow(
            f"WITH claimed AS ({_CLAIM} RETURNING event_id)"
            f" SELECT ARRAY(SELECT event_id FROM claimed), {items}", consumer, event_ids, *args)
        for n, read in enumerate(reads, start=1):
            hand_over(read, row[n])
        return set(row[0])


class InMemoryInbox:
    """Twin of PgInbox; claims made in a rolled-back unit of work are forgotten."""

    def __init__(self) -> None:
        self.applied: set[tuple[str, str]] = set()
        self.staged: set[tuple[str, str]] = set()

    async def claim(self, consumer: str, event_id: str) -> bool:
        key = (consumer, event_id)
        if key in self.applied or key in self.staged:
            return False
        self.staged.add(key)
        return True

    async def claim_many(self, consumer: str, event_ids: list[str],
                         reads: Sequence[Read] = ()) -> set[str]:
        """Twins' repositories read nothing ahead, so there are no `reads` to run here."""
        return {event_id for event_id in event_ids if await self.claim(consumer, event_id)}

    def commit(self) -> None:
        self.applied |= self.staged
        self.staged.clear()

    def rollback(self) -> None:
        self.staged.clear()
