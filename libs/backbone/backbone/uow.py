"""Unit of work: one database transaction holding a service's state changes, the inbox claim
and the outbox records, committed or rolled back together.

`UnitOfWork` is the Protocol handlers are typed against; each service extends it with its
repositories (e.g. `IntakeUnitOfWork`), so a handler's needs are declared, not discovered.
Services subclass `PgUnitOfWork` to add their repositories (`_attach`), and
`InMemoryUnitOfWork` for unit tests (declaring their parts in `parts()`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, Self, TypeVar

import asyncpg

from backbone.inbox import InMemoryInbox, Inbox, PgInbox
from backbone.outbox import InMemoryOutbox, Outbox, PgOutbox, outbox_write
from backbone.writes import Write, together


class UnitOfWork(Protocol):
    """What every handler may use: the outbox for what it tells, the inbox for what it heard."""

    outbox: Outbox
    inbox: Inbox

    def before_commit(self, key: str, make: Callable[[], S]) -> S:
        """This transaction's step `key`, made by `make` on first use: its `run()` is awaited
        once, after the last handler and before the commit, in the same transaction. For work
        handlers can do for a whole batch at once rather than per event (routing compares a
        batch's new complaints for duplicates in one statement); each handler adds its part to
        the step. Steps run in the order they were made; a new transaction starts with none."""

    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None: ...


class Step(Protocol):
    """What `before_commit` runs."""

    async def run(self) -> None: ...


S = TypeVar("S", bound=Step)


class _Steps:
    """A transaction's `before_commit` steps, by key, in the order they were made."""

    def __init__(self) -> None:
        self._steps: dict[str, Step] = {}

    def get(self, key: str, make: Callable[[], S]) -> S:
        if key not in self._steps:
            self._steps[key] = make()
        return self._steps[key]  # type: ignore[return-value]

    async def run(self) -> None:
        """Each once; a step may make another, which runs too."""
        done: set[str] = set()
        while pending := [k for k in self._steps if k not in done]:
            for key in pending:
                done.add(key)
                await self._steps[key].run()


class Transactional(Protocol):
    """A part of an in-memory unit of work: staged changes kept or dropped with the whole."""

    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class Deferred:
    """A unit of work's connection as its repositories see it: `before` runs ahead of each
    statement (the unit of work begins its transaction there, and writes what must precede the
    statement). Repositories send only `execute`, `fetch`, `fetchrow` and `fetchval`; `raw` is
    the connection itself, for what needs no transaction (a sequence's next values)."""

    def __init__(self, conn: asyncpg.Connection, before: Callable[[], Awaitable[None]]) -> None:
        self.raw = conn
        self._before = before

    async def execute(self, query: str, *args: Any, **kwargs: Any) -> str:
        await self._before()
        return await self.raw.execute(query, *args, **kwargs)

    async def fetch(self, query: str, *args: Any, **kwargs: Any) -> list[asyncpg.Record]:
        await self._before()
        return await self.raw.fetch(query, *args, **kwargs)

    async def fetchrow(self, query: str, *args: Any, **kwargs: Any) -> asyncpg.Record | None:
        await self._before()
        return await self.raw.fetchrow(query, *args, **kwargs)

    async def fetchval(self, query: str, *args: Any, **kwargs: Any) -> Any:
        await self._before()
        return await self.raw.fetchval(query, *args, **kwargs)


class PgUnitOfWork:
    """One transaction on a pooled connection, begun by the first statement a repository sends
    (see `_before_statement`). After a commit that wrote outbox rows it calls
    `wake_relay` (the relay of this process), and any `after_commit` callbacks a repository
    registered (e.g. notify's dispatcher for new deliveries): an in-process wake-up instead of
    LISTEN/NOTIFY, because a NOTIFY holds a cluster-wide lock across the commit's WAL flush and
    so serialises every committing transaction (measured: 5,249 commits/s without it, 2,035
    with it, pgbench on the bundled server). A relay in another replica finds the rows by
    polling."""

    wake_relay: Callable[[], None] | None = None

    def __init__(self, pool: asyncpg.Pool, source: str, topic_prefix: str, schema: str) -> None:
        self._pool = pool
        self._source = source
        self._prefix = topic_prefix
        self.schema = schema
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        if callback not in self._after_commit:
            self._after_commit.append(callback)

    def before_commit(self, key: str, make: Callable[[], S]) -> S:
        return self._steps.get(key, make)

    def _attach(self, conn: asyncpg.Connection) -> None:
        """Subclasses create their repositories on `conn` here."""

    async def _before_commit(self) -> None:
        """Subclasses write here what their repositories held back until the end of the
        transaction and cannot hand over as a `Write` (intake's complaint update, which has
        a WITH clause of its own)."""

    def _held_writes(self) -> list[Write]:
        """Subclasses hand over here what their repositories held back until the commit, as
        writes: the unit of work sends them and its outbox rows as one statement
        (`backbone.writes.together`)."""
        return []

    async def _write_held(self) -> None:
        """Subclasses write here what their repositories hold back that another statement may
        need written first (intake's new complaint, before a row that refers to it)."""

    async def _commit_at_once(self) -> int | None:
        """Subclasses may write everything the unit of work holds, outbox rows included, in one
        statement on `self.conn` when no statement has begun the transaction (PostgreSQL runs
        a lone statement atomically): returns how many outbox rows it wrote, or None to commit
        the usual way."""
        return None

    async def _before_statement(self) -> None:
        """The transaction begins with the repositories' first statement, not with the unit of
        work: one that sends nothing until its commit, and writes everything then in one
        statement (`_commit_at_once`), spends no BEGIN and no COMMIT round trip."""
        if not self._begun:
            self._tx = self.conn.transaction()
            await self._tx.start()
            self._begun = True
        if not self._writing_held:      # what `_write_held` sends comes back through here
            self._writing_held = True
            try:
                await self._write_held()
            finally:
                self._writing_held = False

    async def __aenter__(self) -> Self:
        self.conn = await self._pool.acquire()
        self._begun = self._writing_held = False
        self._steps = _Steps()
        db = Deferred(self.conn, self._before_statement)
        self.outbox = PgOutbox(self._source, self._prefix)
        self.inbox = PgInbox(db)
        self._attach(db)   # type: ignore[arg-type]  # a Deferred does what repositories use
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None:
                try:
                    await self._steps.run()
                    published = None if self._begun else await self._commit_at_once()
                    if published is None:
                        await self._before_commit()
                        published = await self._write_at_commit()
                    if published and self.wake_relay is not None:
                        self.after_commit(self.wake_relay)
                except BaseException:
                    if self._begun:
                        await self._tx.rollback()
                    raise
                if self._begun:
                    await self._tx.commit()
            elif self._begun:
                await self._tx.rollback()
        finally:
            await self._release()
        if exc_type is None:
            for callback in self._after_commit:
                callback()

    async def _write_at_commit(self) -> int:
        """The held writes and the outbox rows in one statement; returns how many rows went to
        the outbox. Sent alone (nothing began the transaction) it needs no BEGIN or COMMIT."""
        rows = self.outbox.take()
        writes = self._held_writes()
        if rows:
            writes.append(outbox_write(rows))
        if writes:
            statement = together(writes)
            await self.conn.execute(statement.sql, *statement.args)
        return len(rows)

    async def _release(self) -> None:
        """Back to the pool; a connection broken by a database restart is dropped instead."""
        if self.conn.is_closed():
            self.conn.terminate()
        await self._pool.release(self.conn, timeout=5)


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
    """Twin of PgUnitOfWork: the same commit-or-nothing contract, in memory. Every part that
    can commit and roll back is declared in `parts()`; subclasses add theirs."""

    def __init__(self) -> None:
        self.outbox = InMemoryOutbox()
        self.inbox = InMemoryInbox()
        self.commits = 0
        self._steps = _Steps()

    def before_commit(self, key: str, make: Callable[[], S]) -> S:
        return self._steps.get(key, make)

    def parts(self) -> tuple[Transactional, ...]:
        return (self.outbox, self.inbox)

    async def __aenter__(self) -> Self:
        self._steps = _Steps()
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        steps, self._steps = self._steps, _Steps()
        if exc_type is None:
            try:
                await steps.run()
            except BaseException:
                for part in self.parts():
                    part.rollback()
                raise
        for part in self.parts():
            part.commit() if exc_type is None else part.rollback()
        if exc_type is None:
            self.commits += 1
