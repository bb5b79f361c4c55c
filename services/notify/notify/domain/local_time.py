"""Instants as people in Indonesia read them: 'Senin, 16 Maret 2026 23.59 WIB', in the
jurisdiction's time zone, with Babel's CLDR data for day and month names."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

_ZONES = {7: "WIB", 8: "WITA", 9: "WIT"}


def local_text(moment: datetime, tz: str, language: str) -> str:
    zone = ZoneInfo(tz)
    offset = moment.astimezone(zone).utcoffset()
    hours = int(offset.total_seconds() // 3600) if offset is not None else 0
    name = _ZONES.get(hours, f"UTC{hours:+d}")
    if language == "en":
        return f"{format_datetime(moment, 'EEEE, d MMMM y HH:mm', tzinfo=zone, locale='en')} {name}"
    return f"{format_datetime(moment, 'EEEE, d MMMM y HH.mm', tzinfo=zone, locale='id')} {name}"


def local_date_text(moment: datetime, tz: str, language: str) -> str:
    return format_datetime(moment, "EEEE, d MMMM y", tzinfo=ZoneInfo(tz),
                           locale="en" if language == "en" else "id")
