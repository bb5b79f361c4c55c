"""How a citizen wants to hear, and the channel chain that follows from it.

Without preferences the chain follows how the citizen reached us: WhatsApp reporters hear on
WhatsApp, then SMS, then e-mail; SMS reporters on SMS, then e-mail; everyone else by e-mail,
then WhatsApp, then SMS. Only channels with an address (and a configured transport) count. A
citizen may reorder or drop channels, choose the language and their own quiet hours, with
their access token.

Anonymous reporters hear only on the channel they gave (the one they reported through, or the
one address they left): no fallback spreads their case to another address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from notify.domain.delivery import Contact, Profile
from notify.domain.quiet_hours import QuietHours

CITIZEN_CHANNELS = ("email", "sms", "whatsapp")
_BY_SUBMISSION = {
    "whatsapp": ("whatsapp", "sms", "email"),
    "sms": ("sms", "email", "whatsapp"),
}
_DEFAULT = ("email", "whatsapp", "sms")


@dataclass(frozen=True)
class Preferences:
    channels: tuple[str, ...] | None = None      # None: the default order
    language: str | None = None                  # None: the language they reported in
    quiet_hours: str | None = None               # None: the city's; "off": never hold

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> "Preferences":
        data = data or {}
        channels = data.get("channels")
        return cls(tuple(channels) if channels is not None else None, data.get("language"),
                   data.get("quiet_hours"))

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in (("channels", list(self.channels) if self.channels is not None
                                   else None), ("language", self.language),
                                  ("quiet_hours", self.quiet_hours)) if v is not None}

    def quiet(self, default: QuietHours) -> QuietHours | None:
        if self.quiet_hours == "off":
            return None
        return QuietHours.parse(self.quiet_hours) if self.quiet_hours else default


def reachable(contact: Contact) -> set[str]:
    found = set()
    if contact.has_email:
        found.add("email")
    if contact.has_phone:
        found.update(("sms", "whatsapp"))
    return found


def citizen_chain(contact: Contact, profile: Profile | None, available: frozenset[str]) -> tuple[str, ...]:
    """The channels to try, in order, for a citizen; empty if none can be used."""
    usable = reachable(contact) & available
    submitted = profile.channel if profile else "web"
    preferred = Preferences.from_json(contact.preferences).channels
    anonymous = profile.anonymous if profile else True   # unknown: be as careful as for anonim
    if anonymous:
        given = _BY_SUBMISSION.get(submitted, _DEFAULT)
        first = next((c for c in given if c in usable), None)
        return (first,) if first else ()
    order = preferred if preferred is not None else _BY_SUBMISSION.get(submitted, _DEFAULT)
    return tuple(c for c in order if c in usable)


def language_of(contact: Contact) -> str:
    chosen = Preferences.from_json(contact.preferences).language
    lang = chosen or contact.language
    return lang if lang in ("id", "en") else "id"
