"""On PostgreSQL: a statement given a batch as an array reads its table through the index, on
its first run and after many (backbone.db plans each execution for the values it is given)."""

import uuid

import pytest

from backbone.db import connect

pytestmark = pytest.mark.integration

# The shape of the services' combined writes: rows by key from an array, beside other writes
# in the same statement (each a relation more to plan, which makes a cached plan look cheaper).
BATCHED = ("WITH changed AS (UPDATE items i SET note = x.note"
           " FROM unnest($1::uuid[], $2::text[]) AS x(id, note) WHERE i.id = x.id RETURNING i.id),"
           + ", ".join(f"log{n} AS (INSERT INTO log SELECT * FROM unnest($2::text[]) RETURNING 1)"
                       for n in range(6))
           + " SELECT count(*) FROM changed")


@pytest.fixture
async def filled(pool):
    """A table of a thousand rows: reading all of it costs, yet a plan blind to the array's
    length prefers that to its index."""
    await pool.execute("CREATE TABLE items (id uuid PRIMARY KEY, note text)")
    await pool.execute("CREATE TABLE log (note text)")
    ids = [uuid.uuid4() for _ in range(1000)]
    await pool.execute("INSERT INTO items SELECT unnest($1::uuid[]), 'old'", ids)
    await pool.execute("ANALYZE items")
    return ids


_SEQ_SCANS = ("SELECT coalesce(sum(seq_scan), 0) FROM pg_stat_xact_user_tables"
              " WHERE relname = 'items'")


async def _full_reads(conn, ids: list[uuid.UUID], runs: int) -> int:
    """Whole-table reads of `items` over `runs` executions of the batched statement. More than
    five runs: after five, PostgreSQL may keep one generic plan. (The view also counts this
    connection's earlier statements not yet reported, hence the difference.)"""
    async with conn.transaction():
        before = await conn.fetchval(_SEQ_SCANS)
        for i in range(runs):
            await conn.execute(BATCHED, ids[i:i + 1], ["new"])
        return await conn.fetchval(_SEQ_SCANS) - before


async def test_pooled_connections_read_batches_through_the_index(pool, filled):
    async with pool.acquire() as conn:
        assert await conn.fetchval("SHOW plan_cache_mode") == "force_custom_plan"
        assert await _full_reads(conn, filled, runs=12) == 0


async def test_dedicated_connections_plan_the_same_way(infra, filled, prefix):
    conn = await connect(infra.dsn, prefix.rstrip("."), "relay-test")
    try:
        assert await conn.fetchval("SHOW plan_cache_mode") == "force_custom_plan"
        assert await _full_reads(conn, filled, runs=12) == 0
    finally:
        await conn.close()
