"""The complaint aggregate: its status moves only through the shared lifecycle, every change
leaves a history entry a citizen can read, and every fact worth telling is recorded as an event
for the outbox (published after commit, never before)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from contracts.events import (
    CitizenContactProvidedV2, ComplaintSubmittedV1, Event, Location,
)
from contracts.lifecycle import Action, Status, next_status


_MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
              "September", "Oktober", "November", "Desember")
_ZONES_ID = {7: "WIB", 8: "WITA", 9: "WIT"}


def local_time_id(moment: datetime) -> str:
    """'27 November 2026 pukul 23.59 WIB': how a deadline reads to an Indonesian citizen."""
    offset = moment.utcoffset()
    hours = int(offset.total_seconds() // 3600) if offset is not None else 0
    zone = _ZONES_ID.get(hours, f"UTC{hours:+d}")
    return (f"{moment.day} {_MONTHS_ID[moment.month - 1]} {moment.year}"
            f" pukul {moment.hour:02d}.{moment.minute:02d} {zone}")


@dataclass(frozen=True)
class Reporter:
    """Who complained. Personal data: encrypted at rest, never on OPD-facing topics or logs."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    nik: str | None = None

    @property
    def reachable(self) -> bool:
        return bool(self.email or self.phone)

    def contact(self) -> dict[str, str | None]:
        """What notify needs to reach the citizen (never the NIK)."""
        return {"name": self.name, "email": self.email, "phone": self.phone}


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    status: Status
    action: str
    actor: str
    note: str


@dataclass
class Complaint:
    id: uuid.UUID
    tracking_number: str
    jurisdiction: str
    channel: str
    title: str
    description: str
    category: str | None
    location: Location | None
    anonymous: bool
    confidential: bool
    language: Literal["id", "en"]
    reporter: Reporter | None
    access_token_hash: str
    submitted_at: datetime
    status: Status = Status.SUBMITTED
    assigned_opd_id: str | None = None
    assigned_opd_name: str | None = None
    first_response_due_at: datetime | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    events: list[Event] = field(default_factory=list, repr=False)
    new_history: list[HistoryEntry] = field(default_factory=list, repr=False)

    @classmethod
    def submit(
        cls, *, id: uuid.UUID, tracking_number: str, jurisdiction: str, channel: str,
        title: str, description: str, category: str | None, location: Location | None,
        anonymous: bool, confidential: bool, language: Literal["id", "en"],
        reporter: Reporter | None, access_token_hash: str, now: datetime, sealed_contact: str,
    ) -> "Complaint":
        """A new complaint; `sealed_contact` is the reporter's name, e-mail and phone already
        sealed by the caller (the domain holds no keys), as notify will receive them."""
        complaint = cls(
            id=id, tracking_number=tracking_number, jurisdiction=jurisdiction, channel=channel,
            title=title, description=description, category=category, location=location,
            anonymous=anonymous, confidential=confidential, language=language,
            reporter=reporter, access_token_hash=access_token_hash, submitted_at=now,
        )
        complaint._note(now, "submit", "citizen", "Pengaduan diterima dan nomor lacak diterbitkan.")
        complaint.events.append(ComplaintSubmittedV1(
            complaint_id=id, occurred_at=now, tracking_number=tracking_number,
            jurisdiction=jurisdiction, channel=channel, title=title, description=description,
            category=category, location=location, anonymous=anonymous,
            confidential=confidential, language=language,
        ))
        # Always told, even when empty: notify then knows there is no one to write to,
        # rather than waiting for a contact that will never come.
        who = reporter or Reporter()
        complaint.events.append(CitizenContactProvidedV2(
            complaint_id=id, occurred_at=now, tracking_number=tracking_number,
            sealed_contact=sealed_contact, has_email=bool(who.email), has_phone=bool(who.phone),
            language=language,
        ))
        return complaint

    def assign(self, opd_id: str, opd_name: str, at: datetime) -> None:
        self.status = next_status(self.status, Action.ASSIGN)
        self.assigned_opd_id, self.assigned_opd_name = opd_id, opd_name
        self._note(at, Action.ASSIGN, "routing", f"Didisposisikan ke {opd_name}.")

    def send_to_triage(self, reason: str, at: datetime) -> None:
        self.status = next_status(self.status, Action.SEND_TO_TRIAGE)
        self._note(at, Action.SEND_TO_TRIAGE, "routing",
                   "Menunggu verifikasi admin untuk menentukan instansi yang berwenang.")

    def set_first_response_deadline(self, due_at: datetime, at: datetime) -> None:
        self.first_response_due_at = due_at
        self._note(at, "deadline_set", "sla",
                   f"Batas waktu tindak lanjut pertama: {local_time_id(due_at)}.")

    def record_notification(self, channel: str, at: datetime) -> None:
        self._note(at, "citizen_notified", "notify", f"Pemberitahuan dikirim melalui {channel}.")

    def _note(self, at: datetime, action: str, actor: str, note: str) -> None:
        entry = HistoryEntry(at=at, status=self.status, action=str(action), actor=actor, note=note)
        self.history.append(entry)
        self.new_history.append(entry)
