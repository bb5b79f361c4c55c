"""What staff ask of the complaint list: the filters of the OPD queue and the operators' list,
and the page they want. The OPD's own id is forced by the edge, never taken from the query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from contracts.lifecycle import Status


@dataclass(frozen=True)
class ComplaintQuery:
    statuses: tuple[Status, ...] = ()
    opd_id: str | None = None
    category: str | None = None
    jurisdiction: str | None = None
    submitted_from: datetime | None = None   # inclusive
    submitted_to: datetime | None = None     # exclusive
    overdue: bool | None = None              # True: with an OPD and past its deadline
    sort: Literal["newest", "oldest", "due"] = "newest"
    page: int = 1
    page_size: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size
