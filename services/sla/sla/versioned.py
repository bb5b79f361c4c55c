"""Versioned documents (SLA policies, calendars): files seeded as versions, operators' changes
as new versions, an in-process cache every replica refreshes.

Same precedence as routing's jurisdictions: at start a file is recorded as a new version only
when it differs from the newest version that came from a file, so an unchanged file never undoes
an operator's change; the newest version is in force. Lifecycle facts read the cache; each
replica checks the newest version numbers (one indexed query) at most every `refresh_seconds`,
so a change is in force at once where it was made and within seconds elsewhere.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Generic, TypeVar

import asyncpg
import yaml
from pydantic import BaseModel, ValidationError

from backbone.db import LockSpace, lock_until_commit

log = logging.getLogger(__name__)
DEFAULT = "*"
Spec = TypeVar("Spec", bound=BaseModel)


def load_documents(folder, model: type[Spec], default_file: str) -> list[Spec]:
    """Every `*.yaml` of `folder`, validated; each named by its jurisdiction (`default_file`
    for '*'); a broken file stops the start with its name."""
    folder = Path(folder) if isinstance(folder, str) else folder
    found = []
    for entry in sorted((e for e in folder.iterdir() if e.name.endswith((".yaml", ".yml"))),
                        key=lambda e: e.name):
        try:
            spec = model.model_validate(yaml.safe_load(entry.read_text("utf-8")))
        except (ValidationError, yaml.YAMLError) as exc:
            raise ValueError(f"{entry.name} is not valid: {exc}") from exc
        expected = default_file if spec.jurisdiction == DEFAULT else spec.jurisdiction
        if entry.name.rsplit(".", 1)[0] != expected:
            raise ValueError(f"{entry.name} is for {spec.jurisdiction!r}: name it {expected}.yaml")
        found.append(spec)
    if not any(s.jurisdiction == DEFAULT for s in found):
        raise ValueError(f"no national default ({default_file}.yaml) in {folder}")
    return found


@dataclass(frozen=True)
class Version(Generic[Spec]):
    jurisdiction: str
    version: int
    spec: Spec
    source: str
    actor: str | None
    note: str | None
    created_at: datetime | None


class StaleVersion(Exception):
    """The caller changed a version that is no longer the newest."""


Listener = Callable[[str, "Version", "Version | None"], Awaitable[None]]


class VersionedRegistry(Generic[Spec]):
    """The documents of one table (`policy_versions`, `calendar_versions`) on PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool, table: str, model: type[Spec], files: list[Spec], *,
                 refresh_seconds: float = 5.0) -> None:
        self._pool = pool
        self._table = table
        self._model = model
        self._files = files
        self._refresh_seconds = refresh_seconds
        self._cache: dict[str, Version[Spec]] = {}
        self._checked_at: float | None = None
        self._lock = asyncio.Lock()
        self._listeners: list[Listener] = []

    def on_change(self, listener: Listener) -> None:
        """Called with (jurisdiction, new version, previous version or None) for each version
        this process adopts after the first load."""
        self._listeners.append(listener)

    async def start(self) -> None:
        async with self._pool.acquire() as conn:
            for spec in self._files:
                async with conn.transaction():
                    await self._lock_writers(conn, spec.jurisdiction)
                    last = await conn.fetchval(
                        f"SELECT spec FROM {self._table} WHERE jurisdiction = $1 AND source = 'file'"
                        " ORDER BY version DESC LIMIT 1", spec.jurisdiction)
                    if last is not None and json.loads(last) == _json(spec):
                        continue
                    await conn.execute(
                        f"INSERT INTO {self._table} (jurisdiction, spec, source, actor, note)"
                        " VALUES ($1, $2::jsonb, 'file', 'configuration file', $3)",
                        spec.jurisdiction, json.dumps(_json(spec)),
                        ("first load" if last is None else "changed") + " of the file")
        await self._refresh(force=True, notify=False)

    async def _lock_writers(self, conn: asyncpg.Connection, jurisdiction: str) -> None:
        """One writer of this jurisdiction's versions at a time (replicas seeding the same
        file, two operators saving at once), until the transaction ends."""
        await lock_until_commit(conn, LockSpace.CONFIG_VERSIONS, [f"{self._table}:{jurisdiction}"])

    async def current(self, jurisdiction: str) -> Version[Spec] | None:
        await self._refresh()
        return self._cache.get(jurisdiction)

    def cached(self, jurisdiction: str) -> Version[Spec] | None:
        return self._cache.get(jurisdiction)

    async def all(self) -> list[Version[Spec]]:
        await self._refresh()
        return [self._cache[k] for k in sorted(self._cache)]

    async def change(self, spec: Spec, *, actor: str, note: str | None,
                     expected_version: int | None = None) -> Version[Spec]:
        async with self._pool.acquire() as conn, conn.transaction():
            await self._lock_writers(conn, spec.jurisdiction)
            newest = await conn.fetchval(
                f"SELECT max(version) FROM {self._table} WHERE jurisdiction = $1", spec.jurisdiction)
            if expected_version is not None and newest != expected_version:
                raise StaleVersion(f"version {expected_version} is not the newest ({newest})")
            row = await conn.fetchrow(
                f"INSERT INTO {self._table} (jurisdiction, spec, source, actor, note)"
                " VALUES ($1, $2::jsonb, 'api', $3, $4) RETURNING version, created_at",
                spec.jurisdiction, json.dumps(_json(spec)), actor, note)
        saved = Version(spec.jurisdiction, row["version"], spec, "api", actor, note,
                        row["created_at"])
        await self._adopt(saved, notify=True)
        return saved

    async def history(self, jurisdiction: str, limit: int = 50) -> list[Version[Spec]]:
        rows = await self._pool.fetch(
            f"SELECT * FROM {self._table} WHERE jurisdiction = $1 ORDER BY version DESC LIMIT $2",
            jurisdiction, limit)
        return [self._version(r) for r in rows]

    async def _refresh(self, force: bool = False, notify: bool = True) -> None:
        def fresh() -> bool:
            return not force and self._checked_at is not None and \
                time.monotonic() - self._checked_at < self._refresh_seconds
        if fresh():
            return
        async with self._lock:
            if fresh():
                return
            heads = await self._pool.fetch(
                f"SELECT jurisdiction, max(version) AS version FROM {self._table} GROUP BY 1")
            for head in heads:
                known = self._cache.get(head["jurisdiction"])
                if known is not None and known.version >= head["version"]:
                    continue
                row = await self._pool.fetchrow(
                    f"SELECT * FROM {self._table} WHERE version = $1", head["version"])
                try:
                    await self._adopt(self._version(row), notify=notify)
                except ValidationError:
                    log.error("stored version is not valid", extra={
                        "table": self._table, "jurisdiction": row["jurisdiction"],
                        "version": row["version"]})
            self._checked_at = time.monotonic()

    async def _adopt(self, version: Version[Spec], notify: bool) -> None:
        previous = self._cache.get(version.jurisdiction)
        if previous is not None and previous.version >= version.version:
            return
        self._cache[version.jurisdiction] = version
        if notify:
            for listener in self._listeners:
                try:
                    await listener(version.jurisdiction, version, previous)
                except Exception:   # a listener's failure must not keep the new version out
                    log.exception("version listener failed", extra={"table": self._table})

    def _version(self, row: asyncpg.Record) -> Version[Spec]:
        return Version(row["jurisdiction"], row["version"],
                       self._model.model_validate(json.loads(row["spec"])), row["source"],
                       row["actor"], row["note"], row["created_at"])


def _json(spec: BaseModel) -> dict:
    return spec.model_dump(mode="json", exclude_none=True)
