"""PostgreSQL for a service: one schema it owns, a pool bound to it, migrations applied at start.

Every connection carries timeouts, so no loop or request can wait forever on a database that
is gone or a lock that is never released: connect and pool acquire (`connect_timeout`), each
command (`command_timeout`, client side), `statement_timeout`, `lock_timeout` and
`idle_in_transaction_session_timeout` (server side). An exceeded timeout is a transient error
(backbone.errors): retried, never dead-lettered.

Every statement is planned for the values it is given (`plan_cache_mode = force_custom_plan`).
Nearly every statement here passes a batch as an array (`= ANY($1)`, `unnest($1, ...)`), whose
length a cached generic plan cannot know: it assumes ten elements and, on tables of a few
thousand rows (an outbox, the clocks, notify's complaints), reads the whole table instead of the
index. Paced, planning each execution costs far less than those reads did; in a saturated closed
loop it costs a little more. The README's benchmark history has the numbers.

Advisory locks use PostgreSQL's two-key form with a namespace per purpose (`LockSpace`). The
two-key space never overlaps the one-key space, and each purpose has its own first key, so a
client-chosen string (an Idempotency-Key) can only ever collide with another of its kind, never
with the relay's or the migrations' locks.

Migrations are plain numbered SQL files per service, applied in order under an advisory lock so
that several replicas starting together apply each file once. (A library such as yoyo or alembic
would bring a second, synchronous driver or SQLAlchemy for what is thirty lines on asyncpg.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any
from importlib import resources
from importlib.abc import Traversable

import asyncpg


class LockSpace(IntEnum):
    """First key of every advisory lock the platform takes; the second is hashtext(name), or
    for FOLLOWERS a bucket of complaint ids (notify.adapters.merges). See `lock_until_commit`."""

    MIGRATIONS = 1
    OUTBOX_RELAY = 2
    IDEMPOTENCY_KEY = 3
    FOLLOWERS = 4
    CONFIG_VERSIONS = 5     # "<table>:<jurisdiction>": one writer of a configuration at a time
    DUPLICATE_SEARCH = 6    # a jurisdiction: one batch keeping and searching its complaints


@dataclass(frozen=True)
class DbTimeouts:
    connect: float = 5.0              # TCP connect and pool acquire, seconds
    command: float = 15.0             # client side, per command
    statement_ms: int = 10_000        # server side
    lock_ms: int = 5_000
    idle_in_transaction_ms: int = 30_000


def _server_settings(schema: str, name: str, t: DbTimeouts) -> dict[str, str]:
    return {
        "search_path": schema, "application_name": name[:63],
        "statement_timeout": str(t.statement_ms), "lock_timeout": str(t.lock_ms),
        "idle_in_transaction_session_timeout": str(t.idle_in_transaction_ms),
        "plan_cache_mode": "force_custom_plan",
    }


async def ensure_schema(dsn: str, schema: str, timeouts: DbTimeouts = DbTimeouts()) -> None:
    conn = await asyncpg.connect(dsn, timeout=timeouts.connect)
    try:
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    finally:
        await conn.close()


async def create_pool(dsn: str, schema: str, max_size: int = 10,
                      timeouts: DbTimeouts = DbTimeouts()) -> asyncpg.Pool:
    """Create the schema if needed and return a pool whose search_path is that schema.

    The pool starts empty and connects lazily, so a service can start its HTTP side and report
    "not ready" while the database is still away, instead of crashing at start."""
    await ensure_schema(dsn, schema, timeouts)
    return await asyncpg.create_pool(
        dsn, min_size=0, max_size=max_size, timeout=timeouts.connect,
        command_timeout=timeouts.command, max_inactive_connection_lifetime=60,
        server_settings=_server_settings(schema, schema, timeouts),
        reset=_no_session_state,
    )


async def _no_session_state(conn: asyncpg.Connection) -> None:
    """Pooled connections never keep session state (advisory locks are transaction-scoped,
    LISTEN and session locks live on dedicated connections, nothing is SET or left open), so the
    reset asyncpg runs on every release is one round trip per transaction for nothing."""


async def connect(dsn: str, schema: str, name: str,
                  timeouts: DbTimeouts = DbTimeouts()) -> asyncpg.Connection:
    """A dedicated connection (not from the pool) for a loop that holds a session lock: when
    the database restarts the loop drops it and connects anew."""
    return await asyncpg.connect(
        dsn, timeout=timeouts.connect, command_timeout=timeouts.command,
        server_settings=_server_settings(schema, name, timeouts),
    )


async def lock_until_commit(conn: Any, space: LockSpace, keys: Iterable[str] | Iterable[int], *,
                            shared: bool = False) -> None:
    """Transaction-scoped advisory locks of `space`, one per distinct key, held until the
    transaction ends: names (hashed by PostgreSQL's `hashtext`) or whole numbers in int4's
    range. All in one statement, in one order, so two transactions that each take several
    never wait for each other the wrong way round. `conn`: a connection, or a unit of work's."""
    distinct = sorted(set(keys))
    if not distinct:
        return
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    key, kind = ("hashtext(k)", "text") if isinstance(distinct[0], str) else ("k", "int")
    await conn.execute(f"SELECT {function}($1, {key}) FROM unnest($2::{kind}[]) k",
                       space, distinct)


def _sql_files(folder: Traversable) -> list[Traversable]:
    return sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)


async def apply_migrations(pool: asyncpg.Pool, schema: str, *packages: str) -> list[str]:
    """Apply each package's `migrations/*.sql` not yet recorded; returns what was applied."""
    applied: list[str] = []
    async with pool.acquire() as conn:
        async with conn.transaction():
            # DDL on a busy table may wait for locks longer than the service's default.
            await conn.execute("SET LOCAL lock_timeout = '60s'; SET LOCAL statement_timeout = 0")
            await lock_until_commit(conn, LockSpace.MIGRATIONS, [schema])
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
            for package in dict.fromkeys(packages):
                for file in _sql_files(resources.files(package) / "migrations"):
                    version = f"{package}:{file.name}"
                    if version in done:
                        continue
                    await conn.execute(file.read_text(encoding="utf-8"))
                    await conn.execute(
                        "INSERT INTO schema_migrations (version) VALUES ($1)", version
                    )
                    applied.append(version)
    return applied


def columns(rows: Iterable[tuple]) -> list[list]:
    """Rows (at least one) as one list per column: the parameters of an `unnest($1::t[], ...)`
    that writes a batch of rows in one statement."""
    return [list(column) for column in zip(*rows)]
