"""What the public may read of a complaint: transparency without unmasking anyone.

Bandung, Padang and Bekasi publish their complaints; a rahasia (confidential) report is never
listed, and an anonim reporter is shown as anonymous. Citizens also write their own phone number,
e-mail or NIK into the text ("hub saya 0812..."), so everything shown publicly is passed through
`redact`, and the timeline names roles and OPDs, never a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from contracts.lifecycle import Role
from contracts.redaction import REDACTED, redact
from intake.domain.complaint import Complaint, HistoryEntry

__all__ = ["REDACTED", "redact", "search_words", "matches_words", "public_timeline", "PublicEntry"]

_WORD = re.compile(r"\w+", re.UNICODE)


def search_words(text: str, limit: int = 8) -> tuple[str, ...]:
    """The words of a search, lower-cased, as the database's `simple` text search splits them;
    at most `limit`, so one query cannot ask for hundreds of terms."""
    return tuple(dict.fromkeys(w.lower() for w in _WORD.findall(text)))[:limit]


def matches_words(words: tuple[str, ...], *texts: str) -> bool:
    """Every word is the start of some word of the texts (what `word:*` means in PostgreSQL)."""
    found = {w.lower() for t in texts for w in _WORD.findall(t)}
    return all(any(f.startswith(w) for f in found) for w in words)


@dataclass(frozen=True)
class PublicEntry:
    """One step of the public timeline: what happened and who acted, by role or OPD."""

    at: datetime
    action: str
    status: str
    by: str
    note: str | None


def public_actor(entry: HistoryEntry, complaint: Complaint) -> str:
    """An OPD by its id, the rest by role: staff names and citizens are not published."""
    if entry.actor_role == Role.OPD.value:
        return entry.actor.split("/", 1)[0]
    if entry.actor_role == Role.CITIZEN.value:
        return "anonim" if complaint.anonymous else "pelapor"
    return entry.actor_role


def public_timeline(complaint: Complaint) -> list[PublicEntry]:
    """Staff and system notes are published (redacted); what the citizen wrote after submitting
    (replies, added information, rating comments) stays between the citizen and the OPD."""
    return [PublicEntry(
        at=h.at, action=h.action, status=h.status.value, by=public_actor(h, complaint),
        note=None if h.actor_role == Role.CITIZEN.value or not h.note else redact(h.note),
    ) for h in complaint.history]
