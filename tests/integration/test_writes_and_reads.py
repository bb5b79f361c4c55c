"""On PostgreSQL: a unit of work's writes go as one statement, and a batch's reads ride on its
inbox claim; both keep what they promise (all or nothing, typed rows, locks held)."""

import uuid
from datetime import datetime, timezone

import asyncpg
import pytest

from backbone.inbox import PgInbox
from backbone.reads import Read
from backbone.uow import PgUnitOfWork
from backbone.writes import Write
from contracts.events import NotificationSentV1


def sent() -> NotificationSentV1:
    return NotificationSentV1(complaint_id=uuid.uuid4(), occurred_at=datetime.now(timezone.utc),
                              tracking_number="1", channel="email", template="t", language="id",
                              about_event_id=uuid.uuid4())


@pytest.fixture
async def tables(pool):
    await pool.execute("CREATE TABLE things (id int PRIMARY KEY, tags text[], at timestamptz,"
                       " body jsonb, ref uuid)")
    await pool.execute("CREATE TABLE notes (id int PRIMARY KEY, note text NOT NULL)")
    return pool


class Held(PgUnitOfWork):
    """A unit of work whose repositories held these writes back until the commit."""

    held: list[Write] = []

    def _held_writes(self) -> list[Write]:
        return list(self.held)


async def test_held_writes_and_outbox_commit_together_or_not_at_all(tables, prefix):
    schema = prefix.rstrip(".")
    uow = Held(tables, "/test", prefix, schema)
    uow.held = [Write("INSERT INTO things (id, tags) SELECT i, t::text[] FROM unnest($1::int[],"
                      " $2::text[]) AS x(i, t)",
                      ([1, 2], ["{a}", "{b,c}"])),
                Write("INSERT INTO notes VALUES ($1, $2)", (1, "kept"))]
    async with uow:
        await uow.outbox.record(sent())
    assert await tables.fetchval("SELECT count(*) FROM things") == 2
    assert await tables.fetchval("SELECT count(*) FROM outbox") == 1
    assert await tables.fetchval("SELECT note FROM notes WHERE id = 1") == "kept"
    uow = Held(tables, "/test", prefix, schema)
    uow.held = [Write("INSERT INTO things (id) VALUES ($1)", (3,)),
                Write("INSERT INTO notes VALUES ($1, $2)", (2, None))]   # NOT NULL: refused
    with pytest.raises(asyncpg.NotNullViolationError):
        async with uow:
            await uow.outbox.record(sent())
    assert await tables.fetchval("SELECT count(*) FROM things") == 2, "nothing of a failed commit"
    assert await tables.fetchval("SELECT count(*) FROM outbox") == 1, "nor of its outbox rows"


async def test_reads_ride_on_the_claim_typed_and_locked(tables, dsn, prefix):
    ref, at = uuid.uuid4(), datetime(2026, 11, 24, 9, tzinfo=timezone.utc)
    await tables.execute("INSERT INTO things VALUES (1, '{x,y}', $1, '{\"k\": 1}', $2),"
                         " (2, NULL, NULL, NULL, NULL)", at, ref)
    taken: dict[str, list] = {}
    reads = [Read("SELECT id, tags, at, body, ref FROM things WHERE id = ANY($1::int[])"
                  " ORDER BY id FOR UPDATE", ([1, 2, 9],), ("id", "tags", "at", "body", "ref"),
                  lambda rows: taken.__setitem__("things", rows)),
             Read("SELECT note FROM notes WHERE id = $1", (5,), ("note",),
                  lambda rows: taken.__setitem__("notes", rows))]
    async with tables.acquire() as conn:
        async with conn.transaction():
            fresh = await PgInbox(conn).claim_many("c", ["e1", "e2"], reads)
            assert fresh == {"e1", "e2"}
            assert taken["things"] == [
                {"id": 1, "tags": ["x", "y"], "at": at, "body": '{"k": 1}', "ref": ref},
                {"id": 2, "tags": None, "at": None, "body": None, "ref": None}]
            assert taken["notes"] == []
            other = await asyncpg.connect(dsn, server_settings={"search_path": prefix.rstrip(".")})
            try:
                with pytest.raises(asyncpg.LockNotAvailableError):
                    await other.execute("SET lock_timeout = '100ms';"
                                        " SELECT * FROM things WHERE id = 1 FOR UPDATE")
            finally:
                await other.close()
        async with conn.transaction():
            assert await PgInbox(conn).claim_many("c", ["e2", "e3"], reads) == {"e3"}
