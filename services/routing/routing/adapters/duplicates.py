"""Duplicate candidates' storage (tables `duplicate_signatures`, `duplicate_bands`,
`duplicate_candidates`, migration 0005), on PostgreSQL and in memory.

Recent complaints are found by their LSH band keys (`domain.duplicates.band_keys`): one indexed
query for all 32 keys of a new complaint, limited to its jurisdiction and the time window and,
per key, to the newest `limit` complaints, of which the `limit` sharing the most keys are
returned. So the work per complaint does not grow with the number of complaints kept, nor with
a burst of copies of one text (a campaign, a forwarded message), which all share every key.
Each band row carries what the rule needs besides the text (main category, place, kecamatan;
migration 0009), so the complaints a `Vicinity` rules out are dropped in the index scan: only
the signatures of complaints that could be duplicates are read, sent and compared. The
pairs found are the operators' list; an operator dismisses one here, or merges the complaints
through intake (routing then hears `ComplaintMerged` and marks the pair merged).

Two replicas may keep copies of one text at the same moment (a campaign's burst), each in a
transaction the other cannot see into: each would miss the other's. So keeping and searching
takes a lock per jurisdiction until the commit: the second batch waits for the first, and its
search then finds what the first kept.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, Protocol

import asyncpg

from backbone.db import LockSpace, columns, lock_until_commit
from backbone.uow import StagedMap
from routing.domain.duplicates import Fingerprint, Vicinity

Status = Literal["open", "merged", "dismissed"]


@dataclass(frozen=True)
class Indexed:
    """An earlier complaint as kept for comparison."""

    complaint_id: uuid.UUID
    tracking_number: str
    jurisdiction: str
    fingerprint: Fingerprint


@dataclass(frozen=True)
class Pair:
    """A complaint and an earlier one it may duplicate; `id` is None until stored."""

    jurisdiction: str
    complaint_id: uuid.UUID
    tracking_number: str
    candidate_id: uuid.UUID
    candidate_tracking_number: str
    candidate_submitted_at: datetime
    similarity: float
    distance_m: float | None
    found_at: datetime
    status: Status = "open"
    decided_by: str | None = None
    decided_at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True)
class Lookup:
    """One complaint of `keep_and_find_many`, and where its search looks."""

    item: Indexed
    since: datetime
    limit: int
    near: Vicinity | None = None


class NotOpen(Exception):
    """The pair was already merged or dismissed."""

    def __init__(self, status: str) -> None:
        super().__init__(f"the pair is already {status}")
        self.status = status


class DuplicateStore(Protocol):
    async def index(self, item: Indexed) -> bool:
        """Keep `item` for later comparisons (its signature and band keys); False when it was
        kept already (a replay)."""

    async def sharing_a_band(self, jurisdiction: str, band_keys: list[int], since: datetime,
                             exclude: uuid.UUID, limit: int,
                             near: Vicinity | None = None) -> list[Indexed]:
        """Complaints of `jurisdiction` submitted at or after `since` with any of the keys: per
        key the newest `limit` (ties by id), of those the ones `near` admits (all without it),
        and of those the `limit` that share the most keys, then the newest, in that order."""

    async def keep_and_find_many(self, lookups: list[Lookup]) -> list[list[Indexed] | None]:
        """For each of `lookups` in order, `index` then `sharing_a_band` for it (its
        jurisdiction and keys, itself excluded), as if one after the other (a later one finds
        the earlier ones), in one round trip: a consumer batch's new complaints in one
        statement. None for one kept already (a replay), and then nothing is read for it."""

    async def add(self, pairs: list[Pair]) -> list[Pair]:
        """Store new pairs (an existing (complaint, candidate) pair is kept as it is)."""

    async def get(self, pair_id: int) -> Pair | None: ...

    async def listing(self, jurisdiction: str | None, status: Status | None, limit: int,
                      offset: int) -> tuple[list[Pair], int]:
        """Newest first, and how many match in all."""

    async def of_complaint(self, tracking_number: str) -> list[Pair]:
        """Every pair the complaint is in, on either side, newest first."""

    async def decide(self, pair_id: int, status: Status, by: str, at: datetime) -> Pair | None:
        """An open pair becomes `status`; None when there is no such pair, NotOpen when it is
        decided already."""

    async def merged(self, complaint_id: uuid.UUID, into_id: uuid.UUID, by: str,
                     at: datetime) -> int:
        """Open pairs of these two complaints (either way round) become merged; how many."""


_PAIR_COLUMNS = ("id, jurisdiction, complaint_id, tracking_number, candidate_id,"
                 " candidate_tracking_number, candidate_submitted_at, similarity, distance_m,"
                 " found_at, status, decided_by, decided_at")


def _pair(r: asyncpg.Record) -> Pair:
    return Pair(r["jurisdiction"], r["complaint_id"], r["tracking_number"], r["candidate_id"],
                r["candidate_tracking_number"], r["candidate_submitted_at"],
                round(r["similarity"], 3),
                None if r["distance_m"] is None else round(r["distance_m"], 1), r["found_at"],
                r["status"], r["decided_by"], r["decided_at"], r["id"])


# Keep a complaint's signature and its band keys: $1..$10 as `_keep_args` gives them. The bands
# are written only with a signature this statement kept, so a replay writes none (migration 0011).
_KEEP = (
    "kept AS (INSERT INTO duplicate_signatures (complaint_id, tracking_number, jurisdiction,"
    " submitted_at, category, lat, lon, kecamatan, packed)"
    " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (complaint_id) DO NOTHING"
    " RETURNING complaint_id),"
    " bands AS (INSERT INTO duplicate_bands (jurisdiction, band_key, complaint_id,"
    " submitted_at, category, lat, lon, kecamatan)"
    " SELECT $3, k, kept.complaint_id, $4, $5, $6, $7, $8 FROM kept,"
    " unnest($10::bigint[]) AS k)")


def _signature_args(item: Indexed) -> tuple:
    """A `duplicate_signatures` row of `item`, in its column order."""
    fp = item.fingerprint
    return (item.complaint_id, item.tracking_number, item.jurisdiction, fp.submitted_at,
            fp.category, fp.lat, fp.lon, fp.kecamatan, fp.signature)


def _keep_args(item: Indexed) -> tuple:
    return (*_signature_args(item), item.fingerprint.bands())


def _admitted(category: str, lat0: str, lat1: str, lon0: str, lon1: str, kecamatan: str) -> str:
    """`Vicinity.admits` in SQL, for a band row `h`, over the given parameters or columns."""
    return (f"({category}::text IS NULL OR h.category IS NULL OR h.category = {category})"
            f" AND CASE WHEN {lat0}::float8 IS NOT NULL AND h.lat IS NOT NULL AND h.lon IS NOT NULL"
            f"  THEN h.lat BETWEEN {lat0} AND {lat1}"
            f"   AND ({lon0}::float8 IS NULL OR h.lon BETWEEN {lon0} AND {lon1})"
            f"  WHEN {kecamatan}::text IS NOT NULL AND h.kecamatan IS NOT NULL"
            f"   THEN h.kecamatan = {kecamatan}"
            f"  ELSE true END")


# A kept complaint as `_indexed` reads it, from `duplicate_signatures s`. Its signature is
# packed (migration 0010); a row an older replica kept during an upgrade has only the bigint[]
# column, and is packed here the same way.
_SIGNATURE_ROW = (
    "s.complaint_id, s.tracking_number, s.jurisdiction, s.submitted_at, s.category, s.lat, s.lon,"
    " s.kecamatan, COALESCE(s.packed, (SELECT string_agg(substring(int8send(v) FROM 5 FOR 4),"
    " ''::bytea ORDER BY n) FROM unnest(s.signature) WITH ORDINALITY AS u(v, n))) AS signature")


def _indexed(r: asyncpg.Record) -> Indexed:
    return Indexed(r["complaint_id"], r["tracking_number"], r["jurisdiction"], Fingerprint(
        r["signature"], r["submitted_at"], r["category"], r["lat"], r["lon"], r["kecamatan"]))


def _search_many(keep: bool) -> str:
    """The statement of `keep_and_find_many` (`keep`) and of `sharing_a_band` (not `keep`):
    $1..$17 the lookups as parallel arrays (`_many_args`), $18/$19 their band keys flattened
    with each key's lookup number. Kept, a lookup's signature and keys are written and it is
    searched only if this statement kept it (a replay is neither written twice nor searched).
    Per key an index range scan of at most the lookup's limit (duplicate_bands_near, 0009),
    whose included columns filter by the vicinity without a heap read; of those, the limit that
    share the most keys, then the newest. The search reads the statement's snapshot: it finds
    only complaints kept before it (`_with_earlier_of_batch` adds the batch's own)."""
    searched = (
        " kept AS (INSERT INTO duplicate_signatures (complaint_id, tracking_number, jurisdiction,"
        " submitted_at, category, lat, lon, kecamatan, packed)"
        " SELECT complaint_id, tracking_number, jurisdiction, submitted_at, category, lat, lon,"
        " kecamatan, packed FROM items ON CONFLICT (complaint_id) DO NOTHING"
        " RETURNING complaint_id),"
        " mine AS (SELECT i.* FROM items i JOIN kept ON kept.complaint_id = i.complaint_id),"
        " bands AS (INSERT INTO duplicate_bands (jurisdiction, band_key, complaint_id,"
        " submitted_at, category, lat, lon, kecamatan) SELECT i.jurisdiction, k.key,"
        " i.complaint_id, i.submitted_at, i.category, i.lat, i.lon, i.kecamatan"
        " FROM mine i JOIN keys k ON k.n = i.n),"
        if keep else " mine AS (SELECT * FROM items),")
    return (
        "WITH items AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[],"
        " $4::timestamptz[], $5::text[], $6::float8[], $7::float8[], $8::text[], $9::bytea[],"
        " $10::timestamptz[], $11::int[], $12::text[], $13::float8[], $14::float8[],"
        " $15::float8[], $16::float8[], $17::text[]) WITH ORDINALITY AS i(complaint_id,"
        " tracking_number, jurisdiction, submitted_at, category, lat, lon, kecamatan, packed,"
        " since, lim, near_category, lat0, lat1, lon0, lon1, near_kecamatan, n)),"
        " keys AS (SELECT * FROM unnest($18::int[], $19::bigint[]) AS k(n, key)),"
        + searched +
        " hits AS (SELECT i.n, h.complaint_id, h.submitted_at FROM mine i JOIN keys k ON k.n = i.n"
        " CROSS JOIN LATERAL ("
        "  SELECT b.complaint_id, b.submitted_at, b.category, b.lat, b.lon, b.kecamatan"
        "  FROM duplicate_bands b"
        "  WHERE b.jurisdiction = i.jurisdiction AND b.band_key = k.key"
        "  AND b.submitted_at >= i.since AND b.complaint_id <> i.complaint_id"
        "  ORDER BY b.submitted_at DESC, b.complaint_id LIMIT i.lim) h"
        " WHERE " + _admitted("i.near_category", "i.lat0", "i.lat1", "i.lon0", "i.lon1",
                              "i.near_kecamatan") + "),"
        " ranked AS (SELECT n, complaint_id, count(*) AS shared, max(submitted_at) AS at,"
        "  row_number() OVER (PARTITION BY n ORDER BY count(*) DESC, max(submitted_at) DESC,"
        "  complaint_id) AS place FROM hits GROUP BY n, complaint_id)"
        f" SELECT i.n, m.n IS NOT NULL AS kept, r.shared, {_SIGNATURE_ROW} FROM items i"
        " LEFT JOIN mine m ON m.n = i.n"
        " LEFT JOIN (ranked r JOIN duplicate_signatures s USING (complaint_id))"
        "  ON r.n = i.n AND r.place <= i.lim"
        " ORDER BY i.n, r.shared DESC, r.at DESC, s.complaint_id")


_KEEP_AND_FIND_MANY = _search_many(keep=True)
_FIND = _search_many(keep=False)


def _near_args(near: Vicinity | None) -> tuple:
    near = near or Vicinity()
    lat, lon = near.lat_range or (None, None), near.lon_range or (None, None)
    return (near.category, *lat, *lon, near.kecamatan)


def _many_args(lookups: list[Lookup], bands: list[list[int]]) -> tuple:
    """The statement's parameters: the lookups' columns, then each band key with its lookup's
    number (`bands`: each lookup's keys)."""
    cols = columns((*_signature_args(lk.item), lk.since, lk.limit, *_near_args(lk.near))
                   for lk in lookups)
    key_of = [(n, key) for n, keys in enumerate(bands, start=1) for key in keys]
    return (*cols, [n for n, _ in key_of], [key for _, key in key_of])


def _with_earlier_of_batch(lookups: list[Lookup], bands: list[list[int]],
                           stored: list[list[tuple[int, Indexed]] | None]
                           ) -> list[list[Indexed] | None]:
    """What each lookup would have found had the batch's lookups run one after the other: its
    stored finds (with how many keys each shares) and the batch's earlier kept complaints that
    share a key, pass its window and vicinity, ranked as the search ranks (most keys shared,
    newest, id) and cut to its limit. (The search also takes only the newest `limit` per key
    before counting; within one batch that bound is not applied.)"""
    by_key: dict[int, list[int]] = {}
    out: list[list[Indexed] | None] = []
    for n, (lookup, found) in enumerate(zip(lookups, stored)):
        keys = set(bands[n])
        if found is None:
            out.append(None)
            continue
        shared: dict[int, int] = {}
        for key in keys:
            for m in by_key.get(key, ()):
                shared[m] = shared.get(m, 0) + 1
        near, item = lookup.near or Vicinity(), lookup.item
        ranked = list(found)
        for m, count in shared.items():
            other = lookups[m].item
            fp = other.fingerprint
            if (other.jurisdiction == item.jurisdiction and fp.submitted_at >= lookup.since
                    and near.admits(fp.category, fp.lat, fp.lon, fp.kecamatan)):
                ranked.append((count, other))
        ranked.sort(key=lambda x: (-x[0], -x[1].fingerprint.submitted_at.timestamp(),
                                   x[1].complaint_id))
        out.append([i for _, i in ranked[:lookup.limit]])
        for key in keys:
            by_key.setdefault(key, []).append(n)
    return out


class PgDuplicateStore:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def index(self, item: Indexed) -> bool:
        return await self._conn.fetchval(      # signature and band keys in one round trip
            f"WITH {_KEEP} SELECT EXISTS (SELECT 1 FROM kept)", *_keep_args(item))

    async def sharing_a_band(self, jurisdiction, band_keys, since, exclude, limit,
                             near=None) -> list[Indexed]:
        rows = await self._conn.fetch(
            _FIND, [exclude], [None], [jurisdiction], *([None] for _ in range(6)), [since],
            [limit], *([v] for v in _near_args(near)), [1] * len(band_keys), list(band_keys))
        return [_indexed(r) for r in rows if r["complaint_id"] is not None]

    async def keep_and_find_many(self, lookups: list[Lookup]) -> list[list[Indexed] | None]:
        if not lookups:
            return []
        # A complaint twice in one batch: the second is a replay of the first.
        first: dict[uuid.UUID, int] = {}
        for n, lk in enumerate(lookups):
            first.setdefault(lk.item.complaint_id, n)
        unique = [lk for n, lk in enumerate(lookups) if first[lk.item.complaint_id] == n]
        bands = [lk.item.fingerprint.bands() for lk in unique]   # 32 hashes each: once
        await lock_until_commit(self._conn, LockSpace.DUPLICATE_SEARCH,
                                (lk.item.jurisdiction for lk in unique))
        rows = await self._conn.fetch(_KEEP_AND_FIND_MANY, *_many_args(unique, bands))
        stored: list[list[tuple[int, Indexed]] | None] = [[] for _ in unique]
        for r in rows:
            n = r["n"] - 1
            if not r["kept"]:
                stored[n] = None
            elif r["complaint_id"] is not None:
                stored[n].append((r["shared"], _indexed(r)))
        found = dict(zip((lk.item.complaint_id for lk in unique),
                         _with_earlier_of_batch(unique, bands, stored)))
        return [found[lk.item.complaint_id] if first[lk.item.complaint_id] == n else None
                for n, lk in enumerate(lookups)]

    async def add(self, pairs: list[Pair]) -> list[Pair]:
        """All of them in one statement (one round trip), returned in the order given."""
        if not pairs:
            return []
        rows = await self._conn.fetch(
            "INSERT INTO duplicate_candidates (jurisdiction, complaint_id, tracking_number,"
            " candidate_id, candidate_tracking_number, candidate_submitted_at, similarity,"
            " distance_m, found_at) SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[],"
            " $4::uuid[], $5::text[], $6::timestamptz[], $7::real[], $8::real[],"
            " $9::timestamptz[])"
            f" ON CONFLICT (complaint_id, candidate_id) DO NOTHING RETURNING {_PAIR_COLUMNS}",
            *columns((p.jurisdiction, p.complaint_id, p.tracking_number, p.candidate_id,
                      p.candidate_tracking_number, p.candidate_submitted_at, p.similarity,
                      p.distance_m, p.found_at) for p in pairs))
        order = {(p.complaint_id, p.candidate_id): i for i, p in enumerate(pairs)}
        return sorted((_pair(r) for r in rows),
                      key=lambda p: order[(p.complaint_id, p.candidate_id)])

    async def get(self, pair_id: int) -> Pair | None:
        row = await self._conn.fetchrow(
            f"SELECT {_PAIR_COLUMNS} FROM duplicate_candidates WHERE id = $1", pair_id)
        return None if row is None else _pair(row)

    async def listing(self, jurisdiction, status, limit, offset) -> tuple[list[Pair], int]:
        where = "($1::text IS NULL OR jurisdiction = $1) AND ($2::text IS NULL OR status = $2)"
        total = await self._conn.fetchval(
            f"SELECT count(*) FROM duplicate_candidates WHERE {where}", jurisdiction, status)
        rows = await self._conn.fetch(
            f"SELECT {_PAIR_COLUMNS} FROM duplicate_candidates WHERE {where}"
            " ORDER BY found_at DESC, id DESC LIMIT $3 OFFSET $4",
            jurisdiction, status, limit, offset)
        return [_pair(r) for r in rows], total

    async def of_complaint(self, tracking_number: str) -> list[Pair]:
        rows = await self._conn.fetch(
            f"SELECT {_PAIR_COLUMNS} FROM duplicate_candidates WHERE tracking_number = $1"
            " OR candidate_tracking_number = $1 ORDER BY found_at DESC, id DESC", tracking_number)
        return [_pair(r) for r in rows]

    async def decide(self, pair_id, status, by, at) -> Pair | None:
        row = await self._conn.fetchrow(
            f"UPDATE duplicate_candidates SET status = $2, decided_by = $3, decided_at = $4"
            f" WHERE id = $1 AND status = 'open' RETURNING {_PAIR_COLUMNS}", pair_id, status, by, at)
        if row is not None:
            return _pair(row)
        found = await self.get(pair_id)
        if found is not None:
            raise NotOpen(found.status)
        return None

    async def merged(self, complaint_id, into_id, by, at) -> int:
        status = await self._conn.execute(
            "UPDATE duplicate_candidates SET status = 'merged', decided_by = $3, decided_at = $4"
            " WHERE status = 'open' AND ((complaint_id = $1 AND candidate_id = $2)"
            " OR (complaint_id = $2 AND candidate_id = $1))", complaint_id, into_id, by, at)
        return int(status.split()[-1])


class InMemoryDuplicateStore:
    """Twin of PgDuplicateStore: two staged maps (kept complaints, pairs), same answers."""

    def __init__(self) -> None:
        self._indexed: StagedMap[uuid.UUID, Indexed] = StagedMap()
        self._pairs: StagedMap[int, Pair] = StagedMap()
        self._ids = itertools.count(1)

    def commit(self) -> None:
        self._indexed.commit()
        self._pairs.commit()

    def rollback(self) -> None:
        self._indexed.rollback()
        self._pairs.rollback()

    async def index(self, item: Indexed) -> bool:
        if item.complaint_id in self._indexed:
            return False
        self._indexed.put(item.complaint_id, item)
        return True

    async def sharing_a_band(self, jurisdiction, band_keys, since, exclude, limit,
                             near=None) -> list[Indexed]:
        near = near or Vicinity()
        recent = [i for i in self._indexed.values()
                  if i.jurisdiction == jurisdiction and i.complaint_id != exclude
                  and i.fingerprint.submitted_at >= since]
        bands = {i.complaint_id: set(i.fingerprint.bands()) for i in recent}
        shared: dict[uuid.UUID, int] = {}
        for key in set(band_keys):
            having = sorted((i for i in recent if key in bands[i.complaint_id]),
                            key=lambda i: (-i.fingerprint.submitted_at.timestamp(), i.complaint_id))
            for i in having[:limit]:
                fp = i.fingerprint
                if near.admits(fp.category, fp.lat, fp.lon, fp.kecamatan):
                    shared[i.complaint_id] = shared.get(i.complaint_id, 0) + 1
        found = [i for i in recent if i.complaint_id in shared]
        found.sort(key=lambda i: (-shared[i.complaint_id], -i.fingerprint.submitted_at.timestamp(),
                                  i.complaint_id))
        return found[:limit]

    async def keep_and_find_many(self, lookups: list[Lookup]) -> list[list[Indexed] | None]:
        found: list[list[Indexed] | None] = []
        for lk in lookups:
            item = lk.item
            found.append(await self.sharing_a_band(
                item.jurisdiction, item.fingerprint.bands(), lk.since, item.complaint_id,
                lk.limit, lk.near) if await self.index(item) else None)
        return found

    async def add(self, pairs: list[Pair]) -> list[Pair]:
        known = {(p.complaint_id, p.candidate_id) for p in self._pairs.values()}
        stored = []
        for p in pairs:
            if (p.complaint_id, p.candidate_id) in known:
                continue
            known.add((p.complaint_id, p.candidate_id))
            kept = replace(p, id=next(self._ids), similarity=round(p.similarity, 3),
                           status="open", decided_by=None, decided_at=None)
            self._pairs.put(kept.id, kept)
            stored.append(kept)
        return stored

    async def get(self, pair_id: int) -> Pair | None:
        return self._pairs.find(pair_id)

    def _newest_first(self, pairs) -> list[Pair]:
        return sorted(pairs, key=lambda p: (p.found_at, p.id), reverse=True)

    async def listing(self, jurisdiction, status, limit, offset) -> tuple[list[Pair], int]:
        found = self._newest_first(p for p in self._pairs.values()
                                   if (jurisdiction is None or p.jurisdiction == jurisdiction)
                                   and (status is None or p.status == status))
        return found[offset:offset + limit], len(found)

    async def of_complaint(self, tracking_number: str) -> list[Pair]:
        return self._newest_first(p for p in self._pairs.values() if tracking_number in (
            p.tracking_number, p.candidate_tracking_number))

    async def decide(self, pair_id, status, by, at) -> Pair | None:
        found = self._pairs.find(pair_id)
        if found is None:
            return None
        if found.status != "open":
            raise NotOpen(found.status)
        decided = replace(found, status=status, decided_by=by, decided_at=at)
        self._pairs.put(pair_id, decided)
        return decided

    async def merged(self, complaint_id, into_id, by, at) -> int:
        both = {complaint_id, into_id}
        hits = [p for p in self._pairs.values()
                if p.status == "open" and {p.complaint_id, p.candidate_id} == both]
        for p in hits:
            self._pairs.put(p.id, replace(p, status="merged", decided_by=by, decided_at=at))
        return len(hits)
