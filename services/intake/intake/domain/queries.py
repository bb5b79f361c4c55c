"""What is asked of the complaint list: the filters of the OPD queue, the operators' list and
the public transparency list, and the page wanted. The OPD's own id is forced by the edge, never
taken from the query; `public` lists only what the public may see (never a rahasia report)."""

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
    text: str | None = None                  # every word, as a word prefix, in title or description
    kecamatan: str | None = None             # the location's kecamatan, case-insensitive
    tracking_numbers: tuple[str, ...] = ()
    public: bool = False                     # only what the public may see: no rahasia report
    sort: Literal["newest", "oldest", "due"] = "newest"
    page: int = 1
    page_size: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size
