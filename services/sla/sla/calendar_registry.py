"""The calendars in force, per jurisdiction. A jurisdiction without a calendar of its own gets
the national one ('*', WIB): asking for an unknown jurisdiction is never an error.

`CalendarRegistry` keeps the versions on PostgreSQL (`calendar_versions`; see `versioned` for
how files, operators and replicas agree: the files are seeded as versions at start, an
operator's change is a new version with who, when and why, the newest wins, and every replica
picks up a change made elsewhere within `refresh_seconds`). `FixedCalendars` is its in-memory
twin for unit tests. Both build each version's `WorkingCalendar` once and hand out that same
immutable object, since clocks ask for it on every lifecycle fact and every firing.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Protocol

import asyncpg

from sla.domain.calendar import WorkingCalendar
from sla.domain.calendar_spec import CalendarSpec, build_calendar
from sla.versioned import DEFAULT, StaleVersion, Version, VersionedRegistry, load_documents

__all__ = ["DEFAULT", "CalendarListener", "CalendarRegistry", "CalendarVersion", "Calendars",
           "FixedCalendars", "StaleVersion", "load_calendar_files"]

CalendarVersion = Version[CalendarSpec]
CalendarListener = Callable[[str, WorkingCalendar, WorkingCalendar], Awaitable[None]]
"""Called with (jurisdiction, the calendar it had, the calendar it has now) when a version is
adopted after the start; for '*', every jurisdiction without a calendar of its own changed."""


def load_calendar_files(directory: Path | str | None = None) -> list[CalendarSpec]:
    """`_national.yaml` and `<jurisdiction>.yaml`; unset: the shipped ones."""
    folder = resources.files("sla") / "calendars" if directory is None else directory
    return load_documents(folder, CalendarSpec, "_national")


class Calendars(Protocol):
    async def calendar(self, jurisdiction: str) -> WorkingCalendar:
        """The jurisdiction's calendar in force (the national one when it has none)."""


class _Built:
    """Each version's calendar, built once."""

    def __init__(self) -> None:
        self._built: dict[str, tuple[int, WorkingCalendar]] = {}

    def _calendar_of(self, found: CalendarVersion) -> WorkingCalendar:
        known = self._built.get(found.jurisdiction)
        if known is None or known[0] != found.version:
            known = (found.version, build_calendar(found.spec, found.version))
            self._built[found.jurisdiction] = known
        return known[1]


class CalendarRegistry(VersionedRegistry[CalendarSpec], _Built):
    def __init__(self, pool: asyncpg.Pool, files: list[CalendarSpec], *,
                 refresh_seconds: float = 5.0) -> None:
        VersionedRegistry.__init__(self, pool, "calendar_versions", CalendarSpec, files,
                                   refresh_seconds=refresh_seconds)
        _Built.__init__(self)

    @classmethod
    def for_settings(cls, pool: asyncpg.Pool, settings) -> "CalendarRegistry":
        return cls(pool, load_calendar_files(settings.calendars_dir),
                   refresh_seconds=settings.config_refresh_seconds)

    async def in_force(self, jurisdiction: str) -> tuple[CalendarVersion, WorkingCalendar]:
        """The version in force for `jurisdiction` (maybe the national one) and its calendar."""
        await self._refresh()
        found = self._cache.get(jurisdiction) or self._cache[DEFAULT]
        return found, self._calendar_of(found)

    async def calendar(self, jurisdiction: str) -> WorkingCalendar:
        return (await self.in_force(jurisdiction))[1]

    def add_listener(self, listener: CalendarListener) -> None:
        """`listener(jurisdiction, old, new)` for every calendar this process adopts after the
        start (its own operators' changes at once, other replicas' within `refresh_seconds`).
        It runs while the registry refreshes: keep it short, or hand the work on."""

        async def adopted(jurisdiction: str, new: CalendarVersion,
                          previous: CalendarVersion | None) -> None:
            before = previous or self._cache.get(DEFAULT)
            if before is None or before.version == new.version:
                return
            await listener(jurisdiction, build_calendar(before.spec, before.version),
                           self._calendar_of(new))

        self.on_change(adopted)


class FixedCalendars(_Built):
    """In-memory twin of `CalendarRegistry` for unit tests: the given documents (by default the
    shipped files) as version 1, 2, ...; changes are kept in memory, in force at once."""

    def __init__(self, specs: list[CalendarSpec] | None = None) -> None:
        super().__init__()
        self._numbers = itertools.count(1)
        self._versions: dict[str, list[CalendarVersion]] = {}
        self._listeners: list[CalendarListener] = []
        for spec in load_calendar_files() if specs is None else specs:
            self._versions[spec.jurisdiction] = [self._version(spec, "file", "configuration file",
                                                               "first load of the file")]
        assert DEFAULT in self._versions, "FixedCalendars needs the national calendar ('*')"

    def _version(self, spec: CalendarSpec, source: str, actor: str | None,
                 note: str | None) -> CalendarVersion:
        return Version(spec.jurisdiction, next(self._numbers), spec, source, actor, note,
                       datetime.now(timezone.utc))

    async def start(self) -> None:
        """Nothing to seed: the documents are in memory already."""

    def cached(self, jurisdiction: str) -> CalendarVersion | None:
        found = self._versions.get(jurisdiction)
        return found[-1] if found else None

    async def current(self, jurisdiction: str) -> CalendarVersion | None:
        return self.cached(jurisdiction)

    async def all(self) -> list[CalendarVersion]:
        return [self._versions[k][-1] for k in sorted(self._versions)]

    async def history(self, jurisdiction: str, limit: int = 50) -> list[CalendarVersion]:
        return list(reversed(self._versions.get(jurisdiction, [])))[:limit]

    async def in_force(self, jurisdiction: str) -> tuple[CalendarVersion, WorkingCalendar]:
        found = self.cached(jurisdiction) or self._versions[DEFAULT][-1]
        return found, self._calendar_of(found)

    async def calendar(self, jurisdiction: str) -> WorkingCalendar:
        return (await self.in_force(jurisdiction))[1]

    async def change(self, spec: CalendarSpec, *, actor: str, note: str | None,
                     expected_version: int | None = None) -> CalendarVersion:
        own = self.cached(spec.jurisdiction)
        newest = own.version if own else None
        if expected_version is not None and newest != expected_version:
            raise StaleVersion(f"version {expected_version} is not the newest ({newest})")
        before = await self.calendar(spec.jurisdiction)
        saved = self._version(spec, "api", actor, note)
        self._versions.setdefault(spec.jurisdiction, []).append(saved)
        after = self._calendar_of(saved)
        for listener in self._listeners:
            await listener(spec.jurisdiction, before, after)
        return saved

    def add_listener(self, listener: CalendarListener) -> None:
        self._listeners.append(listener)
