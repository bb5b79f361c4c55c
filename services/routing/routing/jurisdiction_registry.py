"""The jurisdictions in force, cached in the process, and how configuration files and operator
changes become versions.

Precedence (files versus the API): the newest version is in force, whatever its source. At
start, each configuration file is compared with the newest version that came from a FILE; only
when the file differs (a deploy changed it) is it recorded as a new version, which then
supersedes any operator change before it. An unchanged file never overwrites an operator's
change on restart. Either way the older versions stay in the history.

Cache: routing decides many complaints a second and must not read PostgreSQL for each, yet an
operator's change must take effect at once. The replica that takes the change through the API
puts it in its cache in the same request; every replica also checks, at most every
`refresh_seconds`, the newest version number of each jurisdiction (one small indexed query) and
reloads only what changed. So a change is in force at once where it was made, and within
`refresh_seconds` on the other replicas, without a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

import yaml
from pydantic import ValidationError

from routing.adapters.jurisdictions import StoredVersion
from routing.domain.jurisdictions import Jurisdiction

log = logging.getLogger(__name__)
Listener = Callable[[Jurisdiction], Awaitable[None]]


def sample_directory() -> Traversable:
    """The sample jurisdictions shipped in the package (`routing/jurisdictions/*.yaml`)."""
    return resources.files("routing") / "jurisdictions"


def load_files(directory: Traversable | Path | str | None = None) -> list[Jurisdiction]:
    """Every `*.yaml` of the directory, validated; a broken file stops the start with its name."""
    folder = sample_directory() if directory is None else (
        Path(directory) if isinstance(directory, str) else directory)
    found = []
    for entry in sorted((e for e in folder.iterdir() if e.name.endswith((".yaml", ".yml"))),
                        key=lambda e: e.name):
        try:
            jurisdiction = Jurisdiction.model_validate(yaml.safe_load(entry.read_text("utf-8")))
        except (ValidationError, yaml.YAMLError) as exc:
            raise ValueError(f"jurisdiction file {entry.name} is not valid: {exc}") from exc
        if entry.name.rsplit(".", 1)[0] != jurisdiction.id:   # one file per id, named by it
            raise ValueError(f"jurisdiction file {entry.name} holds id {jurisdiction.id!r}: "
                             f"name it {jurisdiction.id}.yaml")
        found.append(jurisdiction)
    return found


class JurisdictionRegistry:
    """What routing reads (`current`, `all`) and how operators change a jurisdiction (`change`)."""

    def __init__(self, unit_of_work: Callable[[], object], clock: Callable[[], datetime], *,
                 files: Sequence[Jurisdiction] = (), refresh_seconds: float = 5.0) -> None:
        self._uow = unit_of_work
        self._clock = clock
        self._files = list(files)
        self._refresh_seconds = refresh_seconds
        self._cache: dict[str, Jurisdiction] = {}
        self._checked_at: float | None = None
        self._synced = False
        self._lock = asyncio.Lock()
        self._listeners: list[Listener] = []

    def on_change(self, listener: Listener) -> None:
        """Call `listener` with each jurisdiction version this process loads (first load too),
        e.g. to create the topics of a newly configured OPD."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Record changed files and load everything (idempotent; the first read does it too)."""
        await self._fresh(force=True)

    async def current(self, jurisdiction_id: str) -> Jurisdiction | None:
        await self._fresh()
        return self._cache.get(jurisdiction_id)

    def cached(self, jurisdiction_id: str) -> Jurisdiction | None:
        """What is in force now, without waiting for a refresh (for synchronous callers)."""
        return self._cache.get(jurisdiction_id)

    async def all(self) -> list[Jurisdiction]:
        await self._fresh()
        return [self._cache[k] for k in sorted(self._cache)]

    async def change(self, config: Jurisdiction, *, changed_by: str, reason: str,
                     expected_version: int | None = None) -> Jurisdiction:
        """An operator's change: a new version (StaleVersion when `expected_version` is not the
        current one), in force in this process at once."""
        async with self._uow() as uow:
            version = await uow.jurisdictions.append(
                config.id, config.config(), source="api", changed_by=changed_by, reason=reason,
                at=self._clock(), expected_version=expected_version)
        saved = config.model_copy(update={"version": version})
        async with self._lock:
            await self._adopt(saved)
        return saved

    async def _fresh(self, force: bool = False) -> None:
        due = (force or self._checked_at is None
               or time.monotonic() - self._checked_at >= self._refresh_seconds)
        if not due:
            return
        async with self._lock:
            if not force and self._checked_at is not None and (
                    time.monotonic() - self._checked_at < self._refresh_seconds):
                return   # another task refreshed while this one waited
            if not self._synced:
                await self._sync_files()
                self._synced = True
            await self._reload_changed()
            self._checked_at = time.monotonic()

    async def _sync_files(self) -> None:
        for config in self._files:
            async with self._uow() as uow:
                store = uow.jurisdictions
                await store.lock(config.id)   # two replicas starting together record it once
                last_file = await store.latest(config.id, source="file")
                if last_file is not None and last_file.config == config.config():
                    continue
                version = await store.append(
                    config.id, config.config(), source="file", changed_by="configuration file",
                    reason=("first load of" if last_file is None else "changed")
                    + f" {config.id}.yaml", at=self._clock())
            log.info("jurisdiction file recorded",
                     extra={"jurisdiction": config.id, "version": version})

    async def _reload_changed(self) -> None:
        async with self._uow() as uow:
            heads = await uow.jurisdictions.heads()
            stale = [j for j, v in heads.items()
                     if j not in self._cache or self._cache[j].version != v]
            rows = [await uow.jurisdictions.latest(j) for j in stale]
        for row in rows:
            if row is not None:
                parsed = _parse(row)
                if parsed is not None:
                    await self._adopt(parsed)

    async def _adopt(self, jurisdiction: Jurisdiction) -> None:
        known = self._cache.get(jurisdiction.id)
        if known is not None and known.version >= jurisdiction.version:
            return
        self._cache[jurisdiction.id] = jurisdiction
        for listener in self._listeners:
            try:
                await listener(jurisdiction)
            except Exception:   # a listener's failure must not keep the new rules out
                log.exception("jurisdiction listener failed",
                              extra={"jurisdiction": jurisdiction.id})


def _parse(row: StoredVersion) -> Jurisdiction | None:
    try:
        return Jurisdiction.model_validate({**row.config, "version": row.version})
    except ValidationError as exc:
        # Only possible if the taxonomy lost a code a stored version used: keep the last good one.
        log.error("stored jurisdiction version is no longer valid",
                  extra={"jurisdiction": row.jurisdiction_id, "version": row.version,
                         "errors": exc.error_count()})
        return None


class FixedJurisdictions:
    """In-memory twin of `JurisdictionRegistry.current` for handler tests: the jurisdictions
    given (by default the shipped samples), never changing."""

    def __init__(self, jurisdictions: list[Jurisdiction] | None = None) -> None:
        self._by_id = {j.id: j for j in (load_files() if jurisdictions is None else jurisdictions)}

    async def current(self, jurisdiction_id: str) -> Jurisdiction | None:
        return self._by_id.get(jurisdiction_id)

    def cached(self, jurisdiction_id: str) -> Jurisdiction | None:
        return self._by_id.get(jurisdiction_id)
