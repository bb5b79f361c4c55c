"""PostgreSQL for a service: one schema it owns, a pool bound to it, migrations applied at start.

Migrations are plain numbered SQL files per service, applied in order under an advisory lock so
that several replicas starting together apply each file once. (A library such as yoyo or alembic
would bring a second, synchronous driver or SQLAlchemy for what is thirty lines on asyncpg.)
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable

import asyncpg


async def create_pool(dsn: str, schema: str, max_size: int = 10) -> asyncpg.Pool:
    """Create the schema if needed and return a pool whose search_path is that schema."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    finally:
        await conn.close()
    return await asyncpg.create_pool(
        dsn, min_size=1, max_size=max_size,
        server_settings={"search_path": schema, "application_name": schema},
    )


def _sql_files(folder: Traversable) -> list[Traversable]:
    return sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)


async def apply_migrations(pool: asyncpg.Pool, schema: str, *packages: str) -> list[str]:
    """Apply each package's `migrations/*.sql` not yet recorded; returns what was applied."""
    applied: list[str] = []
    async with pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"migrate:{schema}")
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
