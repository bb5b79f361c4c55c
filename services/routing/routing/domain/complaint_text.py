"""What routing keeps of a complaint to route it again: its text, what the citizen added after
a postponement, and every OPD that rejected it. No personal data: the events it comes from
carry none."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass
class RoutedComplaint:
    complaint_id: uuid.UUID
    tracking_number: str
    jurisdiction: str
    language: str
    title: str
    description: str
    added_info: list[str] = field(default_factory=list)
    rejected_by: list[str] = field(default_factory=list)

    @property
    def full_description(self) -> str:
        """The description with everything the citizen added, as routing reads it again."""
        return " ".join([self.description, *self.added_info])
