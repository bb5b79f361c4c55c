"""Quiet hours: what can wait is not sent by SMS or WhatsApp at night, in the recipient's local
time; it goes out when the quiet hours end. E-mail and webhooks are not intrusive and are never
held. What cannot wait (a tracking number just issued, a breach) goes at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

HELD_CHANNELS = frozenset({"sms", "whatsapp"})


@dataclass(frozen=True)
class QuietHours:
    start: time = time(21, 0)
    end: time = time(7, 0)

    @classmethod
    def parse(cls, text: str) -> "QuietHours":
        """'21:00-07:00'; raises ValueError."""
        start, _, end = text.partition("-")
        quiet = cls(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
        if quiet.start == quiet.end:
            raise ValueError("quiet hours must not start and end at the same time")
        return quiet

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def _quiet_at(self, t: time) -> bool:
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end       # across midnight

    def release(self, now: datetime, tz: str) -> datetime | None:
        """When a message held now may go (UTC), or None if now is not quiet."""
        local = now.astimezone(ZoneInfo(tz))
        if not self._quiet_at(local.timetz().replace(tzinfo=None)):
            return None
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(timezone.utc)
