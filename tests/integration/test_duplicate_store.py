"""Duplicate candidates' storage: the in-memory twin and PostgreSQL find the same earlier
complaints by band keys (jurisdiction and time window kept), keep each pair once, list and page
them, dismiss an open pair only once, settle a merge either way round, and roll back together."""

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from backbone.db import LockSpace, apply_migrations
from routing.adapters.decisions import RoutingInMemoryUnitOfWork, RoutingPgUnitOfWork
from routing.adapters.duplicates import Indexed, Lookup, NotOpen, Pair
from routing.domain.duplicates import DuplicateRules, fingerprint, vicinity
from tests.integration.helpers import HeldAtCommit, held_at_commit, race, twin_or_postgres

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
ROAD = ("Jalan berlubang di Jl. Merdeka", "Mhn diperbaiki, jalan berlubang besar di depan SDN 3.")
ROAD_AGAIN = ("Jalan berlubang Jl Merdeka", "Mohon diperbaiki jalan yg berlubang besar depan SDN 3.")
ROAD_LONGER = ("Jalan berlubang di Jl. Merdeka", "Mohon segera diperbaiki, jalan berlubang besar"
               " di depan SDN 3 sudah seminggu.")     # about 0.8 alike: half the keys shared
RUBBISH = ("Sampah menumpuk di TPS", "Sampah di TPS dekat pasar tidak diangkut seminggu.")


@pytest.fixture(params=["memory", "postgres"])
async def make_uow(request, pool, prefix):
    return await twin_or_postgres(request.param, pool, prefix, "routing", RoutingInMemoryUnitOfWork,
                                  lambda schema: RoutingPgUnitOfWork(pool, "/test", prefix, schema))


def kept(text, at, tn, jurisdiction="kota-bandung", kecamatan="Sumur Bandung", category="pupr",
         where=(-6.9147, 107.6098)):
    lat, lon = where or (None, None)
    return Indexed(uuid.uuid4(), tn, jurisdiction,
                   fingerprint(*text, at, category, lat, lon, kecamatan))


async def keep_and_find(uow, item: Indexed, since, limit: int):
    """`keep_and_find_many` for one complaint."""
    [found] = await uow.duplicates.keep_and_find_many([Lookup(item, since, limit)])
    return found


def pair(new: Indexed, old: Indexed, found_at, similarity=0.8, distance=12.5):
    return Pair(new.jurisdiction, new.complaint_id, new.tracking_number, old.complaint_id,
                old.tracking_number, old.fingerprint.submitted_at, similarity, distance, found_at)


async def test_earlier_complaints_are_found_by_band_within_jurisdiction_and_window(make_uow):
    road = kept(ROAD, T0, "1001")
    rubbish = kept(RUBBISH, T0, "1002")
    old_road = kept(ROAD, T0 - timedelta(days=30), "0999")
    makassar = kept(ROAD, T0, "1003", jurisdiction="kota-makassar")
    async with make_uow() as uow:
        for item in (road, rubbish, old_road, makassar):
            assert await uow.duplicates.index(item)
        assert not await uow.duplicates.index(road), "twice: kept once, and told so"
    new = kept(ROAD_AGAIN, T0 + timedelta(days=1), "1004")
    async with make_uow() as uow:
        found = await uow.duplicates.sharing_a_band(
            "kota-bandung", new.fingerprint.bands(), T0 - timedelta(days=6), new.complaint_id, 100)
        itself = await uow.duplicates.sharing_a_band(
            "kota-bandung", road.fingerprint.bands(), T0 - timedelta(days=6), road.complaint_id, 100)
    assert [f.complaint_id for f in found] == [road.complaint_id]
    assert found[0] == road, "signature, place, category and time read back as written"
    assert itself == []


async def test_many_copies_are_read_a_bounded_number_most_keys_shared_then_newest(make_uow):
    """Twenty copies of one text and a longer version of it: `limit` caps what one lookup reads,
    and the copies sharing every key come before the longer text sharing only some, newest
    first, although it is newer."""
    copies = [kept(ROAD, T0 + timedelta(minutes=i), str(4000 + i)) for i in range(20)]
    reworded = kept(ROAD_LONGER, T0 + timedelta(minutes=30), "4100")
    async with make_uow() as uow:
        for item in (*copies, reworded):
            await uow.duplicates.index(item)
    new = kept(ROAD, T0 + timedelta(hours=1), "4200")
    async with make_uow() as uow:
        five = await uow.duplicates.sharing_a_band(
            "kota-bandung", new.fingerprint.bands(), T0 - timedelta(days=1), new.complaint_id, 5)
        wide = await uow.duplicates.sharing_a_band(
            "kota-bandung", new.fingerprint.bands(), T0 - timedelta(days=1), new.complaint_id, 50)
    assert [f.tracking_number for f in five] == ["4019", "4018", "4017", "4016", "4015"]
    assert len(wide) == 21 and wide[-1].tracking_number == "4100"
    assert [f.tracking_number for f in wide[:20]] == [str(4019 - i) for i in range(20)]


async def test_the_vicinity_leaves_out_other_categories_places_and_kecamatan(make_uow):
    """Band-sharing complaints the rule could never accept are not read: another main category,
    outside the box around the place, another kecamatan when a side has no coordinates. Unknown
    parts rule nothing out. Counted and ranked as if the others were not there."""
    rules = DuplicateRules(radius_m=300)
    at = [T0 + timedelta(minutes=i) for i in range(8)]
    same = kept(ROAD, at[0], "6000")
    unknown_category = kept(ROAD, at[1], "6001", category=None)
    close_by = kept(ROAD, at[2], "6002", where=(-6.9160, 107.6105))         # ~165 m
    other_category = kept(ROAD, at[3], "6003", category="lh")
    far_away = kept(ROAD, at[4], "6004", where=(-6.9550, 107.6300))          # ~5 km
    unlocated_same_kecamatan = kept(ROAD, at[5], "6005", where=None)
    unlocated_elsewhere = kept(ROAD, at[6], "6006", where=None, kecamatan="Coblong")
    unlocated_anywhere = kept(ROAD, at[7], "6007", where=None, kecamatan=None)
    async with make_uow() as uow:
        for item in (same, unknown_category, close_by, other_category, far_away,
                     unlocated_same_kecamatan, unlocated_elsewhere, unlocated_anywhere):
            await uow.duplicates.index(item)
    new = kept(ROAD_AGAIN, T0 + timedelta(hours=1), "6100")
    unlocated_new = kept(ROAD_AGAIN, T0 + timedelta(hours=1), "6101", where=None, category=None)
    async with make_uow() as uow:
        found = await uow.duplicates.sharing_a_band(
            "kota-bandung", new.fingerprint.bands(), T0 - timedelta(days=1), new.complaint_id, 100,
            near=vicinity(new.fingerprint, rules))
        from_unlocated = await uow.duplicates.sharing_a_band(
            "kota-bandung", unlocated_new.fingerprint.bands(), T0 - timedelta(days=1),
            unlocated_new.complaint_id, 100, near=vicinity(unlocated_new.fingerprint, rules))
    assert [f.tracking_number for f in found] == ["6007", "6005", "6002", "6001", "6000"]
    assert found[-1] == same, "read back whole"
    assert [f.tracking_number for f in from_unlocated] == [
        "6007", "6005", "6004", "6003", "6002", "6001", "6000"], "by kecamatan alone"


async def test_pairs_are_kept_once_listed_paged_and_decided(make_uow):
    a, b, c = (kept(ROAD, T0 + timedelta(hours=h), str(2000 + h)) for h in range(3))
    other = kept(ROAD, T0, "3000", jurisdiction="kota-makassar")
    async with make_uow() as uow:
        stored = await uow.duplicates.add([pair(b, a, T0 + timedelta(hours=1)),
                                           pair(c, a, T0 + timedelta(hours=2), distance=None)])
        again = await uow.duplicates.add([pair(b, a, T0 + timedelta(hours=5))])
        await uow.duplicates.add([pair(other, other, T0)])
    assert [p.tracking_number for p in stored] == ["2001", "2002"] and again == []
    assert all(p.id is not None and p.status == "open" for p in stored)
    first, second = stored
    async with make_uow() as uow:
        page1, total = await uow.duplicates.listing("kota-bandung", "open", 1, 0)
        page2, _ = await uow.duplicates.listing("kota-bandung", "open", 1, 1)
        everywhere, all_total = await uow.duplicates.listing(None, None, 10, 0)
        of_a = await uow.duplicates.of_complaint("2000")
        got = await uow.duplicates.get(first.id)
    assert total == 2 and [page1[0].id, page2[0].id] == [second.id, first.id], "newest first"
    assert all_total == 3 and len(everywhere) == 3
    assert [p.id for p in of_a] == [second.id, first.id]
    assert got == first and got.similarity == 0.8 and got.distance_m == 12.5
    assert second.distance_m is None

    decided_at = T0 + timedelta(days=1)
    async with make_uow() as uow:
        dismissed = await uow.duplicates.decide(first.id, "dismissed", "op-1", decided_at)
        assert await uow.duplicates.decide(10_000_000, "dismissed", "op-1", decided_at) is None
    assert (dismissed.status, dismissed.decided_by, dismissed.decided_at) == ("dismissed", "op-1", decided_at)
    async with make_uow() as uow:
        with pytest.raises(NotOpen):
            await uow.duplicates.decide(first.id, "dismissed", "op-2", decided_at)
        # A merge settles the open pair of the two, whichever way round intake names them.
        assert await uow.duplicates.merged(a.complaint_id, c.complaint_id, "op-3", decided_at) == 1
        assert await uow.duplicates.merged(a.complaint_id, b.complaint_id, "op-3", decided_at) == 0
    async with make_uow() as uow:
        open_now, total = await uow.duplicates.listing("kota-bandung", "open", 10, 0)
        merged, _ = await uow.duplicates.listing("kota-bandung", "merged", 10, 0)
    assert total == 0 and open_now == []
    assert [(p.id, p.status, p.decided_by) for p in merged] == [(second.id, "merged", "op-3")]


async def test_a_rolled_back_unit_of_work_keeps_nothing(make_uow):
    a, b = kept(ROAD, T0, "4000"), kept(ROAD_AGAIN, T0, "4001")
    with pytest.raises(RuntimeError):
        async with make_uow() as uow:
            await uow.duplicates.index(a)
            await uow.duplicates.add([pair(b, a, T0)])
            raise RuntimeError("handler failed")
    async with make_uow() as uow:
        assert await uow.duplicates.index(a), "the rolled-back signature was not kept"
        assert await uow.duplicates.of_complaint("4001") == []


async def test_keeping_and_finding_at_once_finds_what_the_two_steps_find(make_uow):
    """Keeping and finding is `index` then `sharing_a_band` in one round trip: the earlier complaints
    it finds exclude the new one, a replay finds nothing and says so (None), and the new one is
    kept for the next."""
    road = kept(ROAD, T0, "1101")
    rubbish = kept(RUBBISH, T0, "1102")
    async with make_uow() as uow:
        for item in (road, rubbish):
            assert await uow.duplicates.index(item)
    again = kept(ROAD_AGAIN, T0 + timedelta(hours=2), "1103")
    since = T0 - timedelta(days=6)
    async with make_uow() as uow:
        found = await keep_and_find(uow, again, since, 100)
        assert await keep_and_find(uow, again, since, 100) is None, "a replay"
    assert found == [road]
    third = kept(ROAD, T0 + timedelta(hours=3), "1104")
    async with make_uow() as uow:
        found = await keep_and_find(uow, third, since, 100)
        alone = await keep_and_find(
            uow, kept(RUBBISH, T0, "1105", jurisdiction="kota-makassar"), since, 100)
    assert {f.complaint_id for f in found} == {road.complaint_id, again.complaint_id}
    assert alone == [], "kept, and nothing earlier in its jurisdiction"


async def test_a_batch_kept_and_found_at_once_finds_what_one_by_one_finds(make_uow):
    """`keep_and_find_many` answers as if each lookup were kept and searched in order: a later
    lookup finds the batch's earlier ones (here none of them kept before the statement) as well
    as complaints kept before, ranked by keys shared, within its jurisdiction, window and
    vicinity; a complaint kept before, or twice in the batch, is a replay (None)."""
    road = kept(ROAD, T0, "1201")
    async with make_uow() as uow:
        assert await uow.duplicates.index(road)
    since = T0 - timedelta(days=6)
    rules = DuplicateRules(jaccard=0.5, radius_m=300, window_days=7)
    again = kept(ROAD_AGAIN, T0 + timedelta(hours=1), "1202")
    rubbish = kept(RUBBISH, T0 + timedelta(hours=1), "1203")
    longer = kept(ROAD_LONGER, T0 + timedelta(hours=2), "1204")
    makassar = kept(ROAD, T0 + timedelta(hours=2), "1205", jurisdiction="kota-makassar")
    far = kept(ROAD, T0 + timedelta(hours=3), "1206", where=(-6.95, 107.70))
    stale = kept(ROAD, T0 + timedelta(hours=3), "1207")
    batch = [again, rubbish, road, longer, makassar, far, again, stale]
    async with make_uow() as uow:
        found = await uow.duplicates.keep_and_find_many([
            Lookup(item, since if item is not stale else T0 + timedelta(minutes=90), 100,
                   vicinity(item.fingerprint, rules))
            for item in batch])
    ids = [None if f is None else [i.tracking_number for i in f] for f in found]
    assert ids[0] == ["1201"], "kept before the batch"
    assert ids[1] == [], "nothing about rubbish before it"
    assert ids[2] is None, "kept before: a replay"
    assert set(ids[3]) == {"1201", "1202"}, "the batch's earlier road complaint too"
    assert ids[4] == [], "another jurisdiction"
    assert ids[5] == [], "kilometres away: outside its vicinity"
    assert ids[6] is None, "twice in one batch: the second is a replay"
    assert set(ids[7]) == {"1204"}, "only what its window reaches: the batch's later ones"
    async with make_uow() as uow:
        assert not await uow.duplicates.index(longer), "the batch's complaints are kept"
        after = await keep_and_find(uow, kept(ROAD, T0 + timedelta(hours=4), "1208"),
                                                   since, 100)
    assert {i.tracking_number for i in after} >= {"1201", "1202", "1204", "1207"}


async def test_the_upgrade_packs_kept_signatures_and_reads_an_older_replicas(pool, prefix):
    """Migration 0010 packs the signatures kept before it; a replica of the previous version
    still running during the upgrade keeps the bigint[] column only, and its rows read back
    packed the same way. Either way the fingerprint reads back as it was made."""
    import struct
    from importlib import resources

    from backbone.db import apply_migrations

    schema = prefix.rstrip(".")
    folder = resources.files("routing") / "migrations"
    names = sorted(f.name for f in folder.iterdir() if f.name.endswith(".sql"))
    before = [name for name in names if name < "0010"]
    road, again = kept(ROAD, T0, "1001"), kept(ROAD_AGAIN, T0 + timedelta(hours=1), "1002")

    async def keep_as_before(conn, item: Indexed) -> None:
        fp = item.fingerprint
        await conn.execute(
            "WITH kept AS (INSERT INTO duplicate_signatures (complaint_id, tracking_number,"
            " jurisdiction, submitted_at, category, lat, lon, kecamatan, signature)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING complaint_id)"
            " INSERT INTO duplicate_bands (jurisdiction, band_key, complaint_id, submitted_at,"
            " category, lat, lon, kecamatan) SELECT $3, k, $1, $4, $5, $6, $7, $8"
            " FROM kept, unnest($10::bigint[]) AS k",
            item.complaint_id, item.tracking_number, item.jurisdiction, fp.submitted_at,
            fp.category, fp.lat, fp.lon, fp.kecamatan,
            list(struct.unpack(">128I", fp.signature)), fp.bands())

    async with pool.acquire() as conn:      # a database at 0009, with one complaint kept
        for name in before:
            await conn.execute((folder / name).read_text(encoding="utf-8"))
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)",
                               f"routing:{name}")
        await keep_as_before(conn, road)
    assert await apply_migrations(pool, schema, "routing") == [
        f"routing:{name}" for name in names if name >= "0010"]
    async with pool.acquire() as conn:      # the previous version's replica keeps another
        assert await conn.fetchval("SELECT packed FROM duplicate_signatures WHERE complaint_id"
                                   " = $1", road.complaint_id) == road.fingerprint.signature
        await keep_as_before(conn, again)
    new = kept(ROAD_LONGER, T0 + timedelta(hours=2), "1003")
    async with RoutingPgUnitOfWork(pool, "/test", prefix, schema) as uow:
        found = await keep_and_find(uow, new, T0 - timedelta(days=1), 100)
    assert sorted(found, key=lambda i: i.tracking_number) == [road, again]


async def test_a_replay_writes_no_second_set_of_bands(pool, prefix):
    """The bands have no key to refuse a copy (migration 0011): the statement that keeps a
    signature must write its bands once, and a replay, kept nothing, must write none."""
    from backbone.db import apply_migrations

    schema = prefix.rstrip(".")
    await apply_migrations(pool, schema, "routing")
    road = kept(ROAD, T0, "1201")
    since = T0 - timedelta(days=6)
    for _ in range(2):
        async with RoutingPgUnitOfWork(pool, "/test", prefix, schema) as uow:
            await keep_and_find(uow, road, since, 100)
            await uow.duplicates.index(road)
    async with pool.acquire() as conn:
        rows = await conn.fetchval(f"SELECT count(*) FROM {schema}.duplicate_bands"
                                   " WHERE complaint_id = $1", road.complaint_id)
    assert rows == len(set(road.fingerprint.bands())) == len(road.fingerprint.bands())


class HeldRouting(HeldAtCommit, RoutingPgUnitOfWork):
    """A routing batch another replica is still applying."""


async def test_copies_kept_at_once_by_two_replicas_find_each_other(pool, prefix):
    """A campaign's copies reach two routing replicas at the same moment: the second batch
    waits for the first to commit, so its search finds the first's copy."""
    schema = prefix.rstrip(".")
    await apply_migrations(pool, schema, "routing")
    first, second = kept(ROAD, T0, "5001"), kept(ROAD_AGAIN, T0 + timedelta(seconds=1), "5002")
    elsewhere = kept(ROAD, T0, "5003", jurisdiction="kota-makassar")

    async def keep(item, **held):
        cls = HeldRouting if held else RoutingPgUnitOfWork
        async with cls(pool, "/test", prefix, schema, **held) as uow:
            return await keep_and_find(uow, item, T0 - timedelta(days=1), 10)

    found_first, found_second = await race(
        pool, LockSpace.DUPLICATE_SEARCH,
        lambda at_commit, gate: keep(first, at_commit=at_commit, gate=gate),
        lambda: keep(second))
    assert found_first == []
    assert [f.complaint_id for f in found_second] == [first.complaint_id]
    # Another jurisdiction's batch is not held up by one under way, nor finds its copy.
    async with held_at_commit(lambda at_commit, gate: keep(kept(ROAD, T0, "5004"),
                                                           at_commit=at_commit, gate=gate)):
        assert await asyncio.wait_for(keep(elsewhere), 10) == []
