"""Jurisdictions and their OPDs (names, time zones), read from routing's public API and kept a
minute: every page names OPDs and writes times in the jurisdiction's zone, and asking routing on
each page would double the console's calls for something that changes a few times a year."""

from __future__ import annotations

import time
from dataclasses import dataclass

from console.adapters.platform import Platform, Unavailable

TTL_SECONDS = 60.0


@dataclass(frozen=True)
class Place:
    id: str
    name: str
    timezone: str
    opds: tuple[tuple[str, str], ...]     # (id, name), in the configuration's order

    @property
    def opd_names(self) -> dict[str, str]:
        return dict(self.opds)


class Directory:
    def __init__(self, platform: Platform, default_jurisdiction: str,
                 clock=time.monotonic) -> None:
        self._platform = platform
        self._default = default_jurisdiction
        self._clock = clock
        self._places: dict[str, tuple[float, Place]] = {}
        self._list: tuple[float, list[dict]] | None = None

    async def jurisdictions(self) -> list[dict]:
        now = self._clock()
        if self._list is None or now - self._list[0] > TTL_SECONDS:
            self._list = (now, await self._platform.jurisdictions())
        return self._list[1]

    async def place(self, jurisdiction: str | None) -> Place:
        """The jurisdiction's OPDs and zone; an unknown or unreachable one reads as having
        no OPDs, in Jakarta time, so a page still draws."""
        key = jurisdiction or self._default
        now = self._clock()
        kept = self._places.get(key)
        if kept is not None and now - kept[0] <= TTL_SECONDS:
            return kept[1]
        try:
            config = await self._platform.jurisdiction(key)
        except Unavailable:
            config = None
        if config is None:
            return kept[1] if kept else Place(key, key, "Asia/Jakarta", ())
        place = Place(config["id"], config["name"], config["timezone"],
                      tuple((o["id"], o["name"]) for o in config.get("opds", ())))
        self._places[key] = (now, place)
        return place
