"""Unit of work: one database transaction holding a service's state changes, the inbox claim
and the outbox records, committed or rolled back together.

Services subclass `PgUnitOfWork` to add their repositories (`_attach`), and `InMemoryUnitOfWork`
for unit tests. Handlers only ever see the service's unit of work.
"""

from __future__ import annotations

from typing import Any, Self

import asyncpg

from backbone.inbox import InMemoryInbox, PgInbox
from backbone.outbox import InMemoryOutbox, PgOutbox


class PgUnitOfWork:
    def __init__(self, pool: asyncpg.Pool, source: str, topic_prefix: str) -> None:
        self._pool = pool
        self._source = source
        self._prefix = topic_prefix

    def _attach(self, conn: asyncpg.Connection) -> None:
        """Subclasses create their repositories on `conn` here."""

    async def __aenter__(self) -> Self:
        self.conn = await self._pool.acquire()
        self._tx = self.conn.transaction()
        await self._tx.start()
        self.outbox = PgOutbox(self.conn, self._source, self._prefix)
        self.inbox = PgInbox(self.conn)
        self._attach(self.conn)
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None:
                await self._tx.commit()
            else:
                await self._tx.rollback()
        finally:
            await self._pool.release(self.conn)


class InMemoryUnitOfWork:
    """Twin of PgUnitOfWork: the same commit-or-nothing contract, in memory."""

    def __init__(self) -> None:
        self.outbox = InMemoryOutbox()
        self.inbox = InMemoryInbox()
        self.commits = 0

    def _parts(self) -> list[Any]:
        """Everything staged that commits together; subclasses add their repositories."""
        return [self.outbox, self.inbox]

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        for part in self._parts():
            part.commit() if exc_type is None else part.rollback()
        if exc_type is None:
            self.commits += 1
