"""What routing keeps of a complaint to route it again: its text, what was added after a
postponement, and every OPD that rejected it. No personal data: the events it comes from
carry none.

Immutable: each change returns a new value, so a handler cannot half-update what it then
stores, and the in-memory twin needs no defensive copies.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from contracts.events import Location


@dataclass(frozen=True)
class RoutedComplaint:
    complaint_id: uuid.UUID
    tracking_number: str
    jurisdiction: str
    language: str
    title: str
    description: str
    added_info: tuple[str, ...] = ()
    rejected_by: tuple[str, ...] = ()
    # What an OPD's view needs besides the text (per-OPD feeds, `domain.opd_feed`): the
    # submitted category, place and privacy choices, and the OPD the feed last gave it to.
    category: str | None = None
    location: Location | None = None
    anonymous: bool = False
    confidential: bool = False
    with_opd: str | None = None

    @classmethod
    def without_text(cls, complaint_id: uuid.UUID, tracking_number: str,
                     jurisdiction: str) -> RoutedComplaint:
        """A complaint routing never saw submitted (filed before routing kept texts): what a
        later lifecycle event alone tells. Empty title and description mean "text unknown";
        intake never accepts a complaint without them."""
        return cls(complaint_id, tracking_number, jurisdiction, "id", "", "")

    @property
    def has_text(self) -> bool:
        return bool(self.title or self.description)

    @property
    def excluded(self) -> frozenset[str]:
        """The OPDs it must never be sent, nor suggested, to again."""
        return frozenset(self.rejected_by)

    @property
    def full_description(self) -> str:
        """The description with everything added since, as routing reads it again."""
        return " ".join(part for part in (self.description, *self.added_info) if part)

    def with_text(self, title: str, description: str, language: str) -> RoutedComplaint:
        return replace(self, title=title, description=description, language=language)

    def with_information(self, text: str | None) -> RoutedComplaint:
        """Blank text adds nothing (a resume without a note)."""
        if not text or not text.strip():
            return self
        return replace(self, added_info=(*self.added_info, text.strip()))

    def with_view(self, category: str | None, location: Location | None, anonymous: bool,
                  confidential: bool) -> RoutedComplaint:
        """What the citizen said besides the text, as submitted."""
        return replace(self, category=category, location=location, anonymous=anonymous,
                       confidential=confidential)

    def held_by(self, opd_id: str | None) -> RoutedComplaint:
        """The OPD the complaint is with now, as its feed was told (None: no OPD)."""
        return replace(self, with_opd=opd_id)

    def with_rejections(self, *opd_ids: str) -> RoutedComplaint:
        """Adds rejecters, keeping the order they rejected in; a rejecter is never forgotten,
        whatever a replayed or partial event says."""
        return replace(self, rejected_by=tuple(dict.fromkeys((*self.rejected_by, *opd_ids))))
