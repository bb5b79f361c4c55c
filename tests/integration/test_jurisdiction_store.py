"""Jurisdiction versions: the in-memory twin and PostgreSQL keep the same history, and the
registry on PostgreSQL records a file once when two replicas start together, and sees another
replica's change without a restart."""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from routing.adapters.decisions import RoutingInMemoryUnitOfWork, RoutingPgUnitOfWork
from routing.adapters.jurisdictions import StaleVersion
from routing.domain.jurisdictions import resolve
from routing.jurisdiction_registry import JurisdictionRegistry, load_files
from tests.integration.helpers import eventually, twin_or_postgres

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
CONFIG = {"id": "kota-uji", "name": "Kota Uji", "timezone": "Asia/Makassar",
          "opds": [{"id": "dinkes", "name": "Dinas Kesehatan", "contacts": {"email": "d@uji.example"}}],
          "rules": [{"category": "kesehatan", "polygon": [[119.4, -5.2], [119.5, -5.2], [119.5, -5.1]],
                     "opd": "dinkes"}]}


@pytest.fixture(params=["memory", "postgres"])
async def make_uow(request, pool, prefix):
    return await twin_or_postgres(request.param, pool, prefix, "routing", RoutingInMemoryUnitOfWork,
                                  lambda schema: RoutingPgUnitOfWork(pool, "/test", prefix, schema))


async def test_versions_are_numbered_kept_whole_and_read_back_newest_first(make_uow):
    async with make_uow() as uow:
        assert await uow.jurisdictions.latest("kota-uji") is None
        assert await uow.jurisdictions.append("kota-uji", CONFIG, source="file",
                                              changed_by="configuration file", reason="first",
                                              at=NOW) == 1
    changed = {**CONFIG, "name": "Kota Uji Baru"}
    async with make_uow() as uow:
        assert await uow.jurisdictions.append("kota-uji", changed, source="api", changed_by="op-1",
                                              reason="rename", at=NOW + timedelta(hours=1),
                                              expected_version=1) == 2
        await uow.jurisdictions.append("kota-lain", CONFIG, source="file", changed_by="f",
                                       reason="r", at=NOW)
    async with make_uow() as uow:
        with pytest.raises(StaleVersion) as stale:
            await uow.jurisdictions.append("kota-uji", CONFIG, source="api", changed_by="op-2",
                                           reason="late", at=NOW, expected_version=1)
    assert stale.value.current == 2
    async with make_uow() as uow:
        store = uow.jurisdictions
        latest, last_file = await store.latest("kota-uji"), await store.latest("kota-uji", "file")
        history = await store.history("kota-uji")
        first = await store.version("kota-uji", 1)
        assert await store.version("kota-uji", 3) is None
        heads = await store.heads()
        current = await store.current_all()
    assert (latest.version, latest.source, latest.config, latest.changed_by) == (2, "api", changed, "op-1")
    assert latest.changed_at == NOW + timedelta(hours=1) and latest.reason == "rename"
    assert (last_file.version, first.config) == (1, CONFIG)
    assert [v.version for v in history] == [2, 1]
    assert heads == {"kota-uji": 2, "kota-lain": 1}
    assert [(v.jurisdiction_id, v.version) for v in current] == [("kota-lain", 1), ("kota-uji", 2)]


async def test_a_rolled_back_change_leaves_no_version(make_uow):
    with pytest.raises(RuntimeError):
        async with make_uow() as uow:
            await uow.jurisdictions.append("kota-uji", CONFIG, source="api", changed_by="op",
                                           reason="r", at=NOW)
            raise RuntimeError("boom")
    async with make_uow() as uow:
        assert await uow.jurisdictions.history("kota-uji") == []


async def test_replicas_starting_together_record_each_file_once_and_share_changes(pool, prefix):
    make_uow = await twin_or_postgres("postgres", pool, prefix, "routing", None,
                                      lambda schema: RoutingPgUnitOfWork(pool, "/test", prefix, schema))
    files = load_files()
    replicas = [JurisdictionRegistry(make_uow, lambda: NOW, files=files, refresh_seconds=0.05)
                for _ in range(3)]
    await asyncio.gather(*(r.start() for r in replicas))
    async with make_uow() as uow:
        assert await uow.jurisdictions.heads() == {"kota-bandung": 1, "kota-jayapura": 1,
                                                   "kota-makassar": 1}
    one, other = replicas[0], replicas[1]
    bandung = await one.current("kota-bandung")
    assert resolve(bandung, "pupr.jalan-rusak").opd_id == "dinas-pupr"
    rules = list(bandung.rules)
    at = next(i for i, r in enumerate(rules) if r.category == "pupr")
    rules[at] = rules[at].model_copy(update={"opd": "bpbd"})
    await one.change(bandung.model_copy(update={"rules": tuple(rules)}), changed_by="op-1",
                     reason="jalan rusak ke BPBD selama tanggap darurat", expected_version=1)

    async def other_sees_it():
        return resolve(await other.current("kota-bandung"), "pupr.jalan-rusak").opd_id == "bpbd"

    await eventually(other_sees_it, "the other replica never saw the change", timeout=10)
    # A restart with the same files keeps the operator's change.
    restarted = JurisdictionRegistry(make_uow, lambda: NOW, files=files)
    await restarted.start()
    assert (await restarted.current("kota-bandung")).version == 2
