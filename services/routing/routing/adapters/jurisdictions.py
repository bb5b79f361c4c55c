"""Every version of every jurisdiction's configuration (table `jurisdiction_versions`), on
PostgreSQL and in memory: the audit history (who, when, why, from a file or the API) and,
as its latest row, the configuration in force.

Versions are numbered 1, 2, 3 per jurisdiction and only ever appended. Two writers (two
replicas syncing the same file at start, two operators saving at once) are serialised by
`lock`, a transaction-scoped advisory lock per jurisdiction, so the second one sees the
first one's version before deciding; `append` with `expected_version` refuses a change made
on a stale copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

import asyncpg

from backbone.db import LockSpace, lock_until_commit
from backbone.uow import StagedMap

Source = Literal["file", "api"]


@dataclass(frozen=True)
class StoredVersion:
    jurisdiction_id: str
    version: int
    config: dict
    source: Source
    changed_by: str
    changed_at: datetime
    reason: str


class StaleVersion(Exception):
    """The change was made on another version than the current one."""

    def __init__(self, current: int) -> None:
        super().__init__(f"the current version is {current}")
        self.current = current


class JurisdictionStore(Protocol):
    async def lock(self, jurisdiction_id: str) -> None:
        """Hold changes to this jurisdiction by others until this unit of work ends."""

    async def append(self, jurisdiction_id: str, config: dict, *, source: Source, changed_by: str,
                     reason: str, at: datetime, expected_version: int | None = None) -> int:
        """Record a new version (the next number) and return its number."""

    async def latest(self, jurisdiction_id: str, source: Source | None = None
                     ) -> StoredVersion | None:
        """The newest version, or the newest that came from `source`."""

    async def version(self, jurisdiction_id: str, version: int) -> StoredVersion | None: ...

    async def history(self, jurisdiction_id: str) -> list[StoredVersion]:
        """Every version, newest first."""

    async def current_all(self) -> list[StoredVersion]:
        """The newest version of each jurisdiction, by id."""

    async def heads(self) -> dict[str, int]:
        """Each jurisdiction's newest version number: a cheap check for caches."""


_COLUMNS = "jurisdiction_id, version, config, source, changed_by, changed_at, reason"


def _row(r: asyncpg.Record) -> StoredVersion:
    return StoredVersion(r["jurisdiction_id"], r["version"], json.loads(r["config"]), r["source"],
                         r["changed_by"], r["changed_at"], r["reason"])


class PgJurisdictionStore:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def lock(self, jurisdiction_id: str) -> None:
        await lock_until_commit(self._conn, LockSpace.CONFIG_VERSIONS,
                                [f"jurisdiction_versions:{jurisdiction_id}"])

    async def append(self, jurisdiction_id, config, *, source, changed_by, reason, at,
                     expected_version=None) -> int:
        await self.lock(jurisdiction_id)
        current = await self._conn.fetchval(
            "SELECT coalesce(max(version), 0) FROM jurisdiction_versions"
            " WHERE jurisdiction_id = $1", jurisdiction_id)
        if expected_version is not None and expected_version != current:
            raise StaleVersion(current)
        await self._conn.execute(
            f"INSERT INTO jurisdiction_versions ({_COLUMNS}) VALUES ($1,$2,$3::jsonb,$4,$5,$6,$7)",
            jurisdiction_id, current + 1, json.dumps(config, ensure_ascii=False), source,
            changed_by, at, reason)
        return current + 1

    async def latest(self, jurisdiction_id, source=None) -> StoredVersion | None:
        row = await self._conn.fetchrow(
            f"SELECT {_COLUMNS} FROM jurisdiction_versions WHERE jurisdiction_id = $1"
            " AND ($2::text IS NULL OR source = $2) ORDER BY version DESC LIMIT 1",
            jurisdiction_id, source)
        return _row(row) if row else None

    async def version(self, jurisdiction_id, version) -> StoredVersion | None:
        row = await self._conn.fetchrow(
            f"SELECT {_COLUMNS} FROM jurisdiction_versions WHERE jurisdiction_id = $1"
            " AND version = $2", jurisdiction_id, version)
        return _row(row) if row else None

    async def history(self, jurisdiction_id) -> list[StoredVersion]:
        rows = await self._conn.fetch(
            f"SELECT {_COLUMNS} FROM jurisdiction_versions WHERE jurisdiction_id = $1"
            " ORDER BY version DESC", jurisdiction_id)
        return [_row(r) for r in rows]

    async def current_all(self) -> list[StoredVersion]:
        rows = await self._conn.fetch(
            f"SELECT DISTINCT ON (jurisdiction_id) {_COLUMNS} FROM jurisdiction_versions"
            " ORDER BY jurisdiction_id, version DESC")
        return [_row(r) for r in rows]

    async def heads(self) -> dict[str, int]:
        rows = await self._conn.fetch(
            "SELECT jurisdiction_id, max(version) AS v FROM jurisdiction_versions GROUP BY 1")
        return {r["jurisdiction_id"]: r["v"] for r in rows}


class InMemoryJurisdictionStore(StagedMap[tuple[str, int], StoredVersion]):
    async def lock(self, jurisdiction_id: str) -> None:
        """One event loop, no interleaving inside a handler: nothing to hold."""

    def _of(self, jurisdiction_id: str) -> list[StoredVersion]:
        return sorted((v for v in self.values() if v.jurisdiction_id == jurisdiction_id),
                      key=lambda v: v.version, reverse=True)

    async def append(self, jurisdiction_id, config, *, source, changed_by, reason, at,
                     expected_version=None) -> int:
        versions = self._of(jurisdiction_id)
        current = versions[0].version if versions else 0
        if expected_version is not None and expected_version != current:
            raise StaleVersion(current)
        # A JSON round trip, as jsonb does: nothing the caller mutates later leaks in.
        self.put((jurisdiction_id, current + 1), StoredVersion(
            jurisdiction_id, current + 1, json.loads(json.dumps(config)), source, changed_by, at,
            reason))
        return current + 1

    async def latest(self, jurisdiction_id, source=None) -> StoredVersion | None:
        return next((v for v in self._of(jurisdiction_id) if source in (None, v.source)), None)

    async def version(self, jurisdiction_id, version) -> StoredVersion | None:
        return self.find((jurisdiction_id, version))

    async def history(self, jurisdiction_id) -> list[StoredVersion]:
        return self._of(jurisdiction_id)

    async def current_all(self) -> list[StoredVersion]:
        ids = sorted({v.jurisdiction_id for v in self.values()})
        return [self._of(i)[0] for i in ids]

    async def heads(self) -> dict[str, int]:
        return {v.jurisdiction_id: v.version for v in await self.current_all()}
