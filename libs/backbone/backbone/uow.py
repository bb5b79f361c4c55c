"""Unit of work: one database transaction holding a service's state changes, the inbox claim
and the outbox records, committed or rolled back together.

Services subclass `PgUnitOfWork` to add their repositories (`_attach`), and `InMemoryUnitOfWork`
for unit tests. Handlers only ever see the service's unit of work.
"""

from __future__ import annotations

from typing import Any, Generic, Self, TypeVar

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


K = TypeVar("K")
V = TypeVar("V")


class StagedMap(Generic[K, V]):
    """The storage of an in-memory twin: writes are staged and become visible to later units
    of work only on commit, as rows of a committed transaction would."""

    def __init__(self) -> None:
        self.rows: dict[K, V] = {}
        self._staged: dict[K, V] = {}

    def find(self, key: K) -> V | None:
        return self._staged.get(key, self.rows.get(key))

    def __contains__(self, key: object) -> bool:
        return key in self._staged or key in self.rows

    def put(self, key: K, value: V) -> None:
        self._staged[key] = value

    def values(self) -> list[V]:
        return list({**self.rows, **self._staged}.values())

    def commit(self) -> None:
        self.rows.update(self._staged)
        self._staged.clear()

    def rollback(self) -> None:
        self._staged.clear()


class InMemoryUnitOfWork:
    """Twin of PgUnitOfWork: the same commit-or-nothing contract, in memory. Every attribute
    that can commit and roll back (outbox, inbox, a subclass's repositories) takes part."""

    def __init__(self) -> None:
        self.outbox = InMemoryOutbox()
        self.inbox = InMemoryInbox()
        self.commits = 0

    def _parts(self) -> list[Any]:
        return [part for part in vars(self).values()
                if callable(getattr(part, "commit", None)) and callable(getattr(part, "rollback", None))]

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        for part in self._parts():
            part.commit() if exc_type is None else part.rollback()
        if exc_type is None:
            self.commits += 1
