"""routing's tables: the in-memory twins and PostgreSQL keep texts and decisions alike."""

import uuid
from datetime import datetime, timezone

import pytest

from backbone.db import apply_migrations
from routing.adapters.decisions import RoutingInMemoryUnitOfWork, RoutingPgUnitOfWork
from routing.domain.complaint_text import RoutedComplaint
from routing.domain.rules import Decision

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["memory", "postgres"])
async def make_uow(request, pool, prefix):
    if request.param == "memory":
        twin = RoutingInMemoryUnitOfWork()
        return lambda: twin
    schema = prefix.rstrip(".")
    await apply_migrations(pool, schema, "routing")
    return lambda: RoutingPgUnitOfWork(pool, "/test", prefix, schema)


async def test_texts_are_kept_updated_and_decisions_pile_up(make_uow):
    cid = uuid.uuid4()
    kept = RoutedComplaint(cid, "1000001", "kota-contoh", "id", "Sampah", "Menumpuk di TPS")
    async with make_uow() as uow:
        await uow.complaints.keep(kept)
        await uow.decisions.record(cid, "1000001", "kota-contoh", Decision("dlh", "DLH", 1.0, "r"), NOW)
    async with make_uow() as uow:
        again = await uow.complaints.get(cid)
        again.added_info.append("Jl. Kenanga")
        again.rejected_by.append("dlh")
        await uow.complaints.keep(again)
        await uow.decisions.record(cid, "1000001", "kota-contoh", Decision(None, None, 0, "r"), NOW,
                                   trigger="rejected")
    async with make_uow() as uow:
        final = await uow.complaints.get(cid)
        assert await uow.complaints.get(uuid.uuid4()) is None
    assert (final.added_info, final.rejected_by, final.title) == (["Jl. Kenanga"], ["dlh"], "Sampah")
    assert final.full_description == "Menumpuk di TPS Jl. Kenanga"
