"""The calendars in force (see `versioned` for how files, operators and replicas agree). A
jurisdiction without a calendar of its own gets the national one ('*', WIB)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Protocol

import asyncpg

from sla.domain.calendar import WorkingCalendar
from sla.domain.calendar_spec import CalendarSpec, build_calendar
from sla.versioned import DEFAULT, Version, VersionedRegistry, load_documents

CalendarVersion = Version[CalendarSpec]


def load_calendar_files(directory: Path | str | None = None) -> list[CalendarSpec]:
    """`_national.yaml` and `<jurisdiction>.yaml`; unset: the shipped ones."""
    folder = resources.files("sla") / "calendars" if directory is None else directory
    return load_documents(folder, CalendarSpec, "_national")


class Calendars(Protocol):
    async def calendar(self, jurisdiction: str) -> WorkingCalendar:
        """The jurisdiction's calendar in force (the national one when it has none)."""


class FixedCalendars:
    """Twin for unit tests: the given documents (by default the shipped files), never changing."""

    def __init__(self, specs: list[CalendarSpec] | None = None) -> None:
        self._by = {s.jurisdiction: s for s in (load_calendar_files() if specs is None else specs)}

    async def calendar(self, jurisdiction: str) -> WorkingCalendar:
        spec = self._by.get(jurisdiction) or self._by[DEFAULT]
        return build_calendar(spec, 1)

    def cached(self, jurisdiction: str) -> CalendarVersion | None:
        spec = self._by.get(jurisdiction)
        return Version(jurisdiction, 1, spec, "file", None, None, None) if spec else None


class CalendarRegistry(VersionedRegistry[CalendarSpec]):
    def __init__(self, pool: asyncpg.Pool, files: list[CalendarSpec], *,
                 refresh_seconds: float = 5.0) -> None:
        super().__init__(pool, "calendar_versions", CalendarSpec, files,
                         refresh_seconds=refresh_seconds)

    @classmethod
    def for_settings(cls, pool: asyncpg.Pool, settings) -> "CalendarRegistry":
        return cls(pool, load_calendar_files(settings.calendars_dir),
                   refresh_seconds=settings.config_refresh_seconds)

    async def calendar(self, jurisdiction: str) -> WorkingCalendar:
        await self._refresh()
        found = self._cache.get(jurisdiction) or self._cache[DEFAULT]
        return build_calendar(found.spec, found.version)
