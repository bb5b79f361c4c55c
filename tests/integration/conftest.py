from __future__ import annotations

import uuid

import pytest

from backbone.db import apply_migrations, create_pool


@pytest.fixture
def prefix() -> str:
    """A topic prefix (and schema name) no other test uses."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def bootstrap(infra) -> str:
    return f"127.0.0.1:{infra.c.kafka_port}"


@pytest.fixture
def dsn(infra) -> str:
    return infra.dsn


@pytest.fixture
async def pool(infra, prefix):
    """A pool on a fresh schema with the backbone's tables (outbox, inbox)."""
    schema = prefix.rstrip(".")
    pool = await create_pool(infra.dsn, schema)
    await apply_migrations(pool, schema, "backbone")
    yield pool
    await pool.close()
