"""The complaint aggregate: its status moves only through the shared lifecycle, every change
leaves a history entry (who, in which role, when, from, to, why), and every fact worth telling
is recorded as an event for the outbox (published after commit, never before).

`take` is the one door for every action, by anyone: the role is checked against the lifecycle's
table, the status against its transitions, then what depends on this complaint (the reopen
window, one rating per closing, never back to an OPD that rejected it, ...)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from contracts import events as ev
from contracts.events import CitizenContactProvidedV2, ComplaintSubmittedV1, Event, Location
from contracts.lifecycle import TERMINAL, Action, Role, Status, check_role, next_status
from intake.domain.actions import ActionRefused, TakeAction
from intake.domain.actors import Actor


_MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
              "September", "Oktober", "November", "Desember")
_ZONES_ID = {7: "WIB", 8: "WITA", 9: "WIT"}


_DEADLINE_SET = {
    "verification": "Batas waktu verifikasi dan disposisi: {due}.",
    "first_response": "Batas waktu tindak lanjut pertama: {due}.",
    "resolution": "Target penyelesaian: {due}.",
    "auto_close": "Pengaduan ditutup otomatis bila tidak ada tanggapan pelapor sampai {due}.",
    "reopen_window": "Pengaduan dapat dibuka kembali sampai {due}.",
}
_CLOCK_NAME = {
    "verification": "batas waktu verifikasi", "first_response": "batas waktu tindak lanjut",
    "resolution": "target penyelesaian", "auto_close": "batas waktu tutup otomatis",
    "reopen_window": "masa buka kembali",
}


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
    status: Status                      # the status after the entry
    action: str
    actor: str                          # Actor.name: never a citizen's identity
    note: str
    actor_role: str = Role.SYSTEM.value
    from_status: Status | None = None
    details: dict[str, Any] = field(default_factory=dict)


ARCHIVE_REASONS = ("unclear", "too_general", "not_public_service", "spam", "duplicate")


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
    due_at: datetime | None = None          # what the OPD must meet now (set from sla's clocks)
    rejected_by: list[str] = field(default_factory=list)
    closed_at: datetime | None = None
    reopen_until: datetime | None = None    # set from sla's reopen-window clock
    rating: int | None = None
    rating_comment: str | None = None
    merged_into: uuid.UUID | None = None
    merged_into_tracking_number: str | None = None
    updated_at: datetime | None = None      # the latest history entry's time
    history: list[HistoryEntry] = field(default_factory=list)
    events: list[Event] = field(default_factory=list, repr=False)
    new_history: list[HistoryEntry] = field(default_factory=list, repr=False)

    @classmethod
    def submit(
        cls, *, id: uuid.UUID, tracking_number: str, jurisdiction: str, channel: str,
        title: str, description: str, category: str | None, location: Location | None,
        anonymous: bool, confidential: bool, language: Literal["id", "en"],
        reporter: Reporter | None, access_token_hash: str, now: datetime, sealed_contact: str,
        frontend: str | None = None,
    ) -> "Complaint":
        """A new complaint; `sealed_contact` is the reporter's name, e-mail and phone already
        sealed by the caller (the domain holds no keys), as notify will receive them."""
        complaint = cls(
            id=id, tracking_number=tracking_number, jurisdiction=jurisdiction, channel=channel,
            title=title, description=description, category=category, location=location,
            anonymous=anonymous, confidential=confidential, language=language,
            reporter=reporter, access_token_hash=access_token_hash, submitted_at=now,
        )
        complaint._note(now, "submit", Actor.citizen(),
                        "Pengaduan diterima dan nomor lacak diterbitkan.")
        complaint.events.append(ComplaintSubmittedV1(
            complaint_id=id, occurred_at=now, tracking_number=tracking_number,
            jurisdiction=jurisdiction, channel=channel, title=title, description=description,
            category=category, location=location, anonymous=anonymous,
            confidential=confidential, language=language, frontend=frontend,
        ))
        # Always told, even when empty: notify then knows there is no one to write to,
        # rather than waiting for a contact that will never come.
        who = reporter or Reporter()
        complaint.events.append(CitizenContactProvidedV2(
            complaint_id=id, occurred_at=now, tracking_number=tracking_number,
            sealed_contact=sealed_contact, has_email=bool(who.email), has_phone=bool(who.phone),
            language=language, access_token_hash=access_token_hash,
        ))
        return complaint

    # ---- the one door for actions

    def take(self, cmd: TakeAction, actor: Actor, at: datetime,
             target: "Complaint | None" = None) -> None:
        """Apply `cmd` by `actor`, or raise RoleNotAllowed, TransitionNotAllowed or
        ActionRefused and change nothing. `target` is the surviving complaint of a merge."""
        check_role(actor.role, cmd.action)
        if actor.role is Role.OPD and actor.opd_id != self.assigned_opd_id:
            raise ActionRefused("this complaint is not assigned to your OPD")
        before = self.status
        after = next_status(before, cmd.action)
        apply = getattr(self, "_" + cmd.action.value)
        event_type, note, fields = apply(cmd, actor, at, target)
        self.status = after
        details = {k: v for k, v in fields.items() if v is not None and k != "language"}
        self._note(at, cmd.action, actor, note, before, details)
        if event_type is not None:
            self.events.append(event_type(
                complaint_id=self.id, occurred_at=at, tracking_number=self.tracking_number,
                jurisdiction=self.jurisdiction, action=cmd.action.value,
                from_status=before.value, to_status=after.value, actor_role=actor.role.value,
                actor=None if actor.role is Role.CITIZEN else actor.name,
                opd_id=self.assigned_opd_id, note=cmd.note, **fields,
            ))

    # Each returns (event type or None, the timeline's note, the event's own fields).

    def _assign(self, cmd: TakeAction, actor: Actor, at: datetime, _):
        if not cmd.opd_id:
            raise ActionRefused("say which OPD: opd_id")
        if cmd.opd_id in self.rejected_by:
            raise ActionRefused(f"{cmd.opd_id} already rejected this complaint as not its "
                                "authority (bukan wewenang); choose another OPD")
        previous = self.assigned_opd_id
        if cmd.action is Action.REASSIGN and cmd.opd_id == previous:
            raise ActionRefused(f"the complaint is already with {previous}")
        self.assigned_opd_id, self.assigned_opd_name = cmd.opd_id, cmd.opd_name or cmd.opd_id
        if self.category is None and cmd.category:
            self.category = cmd.category      # routing's reading; a category the citizen chose stays
        self.first_response_due_at = self.due_at = None   # the new OPD's clock comes from sla
        return ev.ComplaintDisposedV1, cmd.note or f"Didisposisikan ke {self.assigned_opd_name}.", {
            "opd_name": self.assigned_opd_name, "previous_opd_id": previous,
            "confidence": cmd.confidence, "reason": cmd.reason, "language": self.language,
            "category": self.category, "report_type": cmd.report_type}

    _reassign = _assign

    def _send_to_triage(self, cmd: TakeAction, actor: Actor, at: datetime, _):
        # Routing already told everyone; the timeline says why it waits.
        return None, "Menunggu verifikasi admin untuk menentukan instansi yang berwenang.", {
            "reason": cmd.reason}

    def _postpone(self, cmd: TakeAction, actor: Actor, at: datetime, _):
        _required(cmd.note, "note: what the citizen should add")
        return ev.ComplaintPostponedV1, cmd.note, {}

    def _provide_info(self, cmd: TakeAction, actor: Actor, at: datetime, _):
        _required(cmd.note, "note: the information asked for")
        return ev.ComplaintInformationAddedV1, cmd.note, {}

    def _resume(self, cmd: TakeAction, actor: Actor, at: datetime, _):
        return ev.ComplaintResumedV1, cmd.note or "Pengaduan dilanjutkan tanpa menunggu pelapor.", {}

    def _archive(self, cmd: TakeAction, actor: Actor, at: datetime, _):
        if cmd.reason not in ARCHIVE_REASONS:
            raise ActionRefused(f"reason must be one of {', '.join(ARCHIVE_REASONS)}")
        return ev.ComplaintArchivedV1, cmd.note or f"Diarsipkan: {cmd.reason}.", {"reason": cmd.reason}

    def _mark_not_ours(self, cmd: TakeAction, actor: Actor, at: datetime, _):
        _required(cmd.responsible, "responsible: who is responsible instead")
        return (ev.ComplaintMarkedNotOursV1,
                cmd.note or f"Bukan kewenangan pemerintah daerah; ditangani oleh {cmd.responsible}.",
                {"responsible": cmd.responsible})

    def _merge(self, cmd: TakeAction, actor: Actor, at: datetime, target: "Complaint | None"):
        if target is None:
            raise ActionRefused("say which complaint this one duplicates: into")
        if target.id == self.id:
            raise ActionRefused("a complaint cannot be merged into itself")
        if target.status in TERMINAL or target.status is Status.CLOSED:
            raise ActionRefused(f"complaint {target.tracking_number} is {target.status}; "
                                "merge into a complaint that is still being handled")
        if target.jurisdiction != self.jurisdiction:
            raise ActionRefused("both complaints must be of the same jurisdiction")
        self.merged_into, self.merged_into_tracking_number = target.id, target.tracking_number
        target._note(at, "duplicate_merged", actor,
                     f"Pengaduan {self.tracking_number} digabungkan ke pengaduan ini.",
                     target.status, {"duplicate": self.tracking_number})
        return ev.ComplaintMergedV1, cmd.note or f"Digabungkan ke pengaduan {target.tracking_number}.", {
            "into_complaint_id": target.id, "into_tracking_number": target.tracking_number}

    def _accept(self, cmd: TakeAction, actor: Actor, at: datetime, _):
        return ev.ComplaintAcceptedV1, cmd.note or f"Diterima oleh {self.assigned_opd_name}.", {}

    def _reject_not_authority(self, cmd: TakeAction, actor: Actor, at: datetime, _):
        _required(cmd.reason, "reason: why this is not your authority")
        rejecting = str(self.assigned_opd_id)
        self.rejected_by = [*self.rejected_by, rejecting]
        self.assigned_opd_id = self.assigned_opd_name = None
        self.first_response_due_at = self.due_at = None
        return ev.ComplaintRejectedNotAuthorityV1, f"Bukan wewenang {rejecting}: {cmd.reason}", {
            "rejecting_opd_id": rejecting, "reason": cmd.reason,
            "rejected_by": list(self.rejected_by), "suggested_opd_id": cmd.suggested_opd_id}

    def _respond(self, cmd: TakeAction, actor: Actor, at: datetime, _):
        _required(cmd.note, "note: the answer to the citizen")
        self.due_at = None   # answered: the next deadline (auto-close) is sla's to set
        return ev.ComplaintFollowedUpV1, cmd.note, {}

    def _resolve(self, cmd: TakeAction, actor: Actor, at: datetime, _):
        _required(cmd.evidence, "evidence: what was done and where to see it")
        self.due_at = None
        return ev.ComplaintResolvedV1, cmd.note or f"Selesai ditindaklanjuti: {cmd.evidence}", {
            "evidence": cmd.evidence}

    def _citizen_reply(self, cmd: TakeAction, actor: Actor, at: datetime, _):
        _required(cmd.note, "note: the reply")
        return ev.CitizenRepliedV1, cmd.note, {}

    def _close(self, cmd: TakeAction, actor: Actor, at: datetime, _):
        self.closed_at, self.reopen_until = at, None
        self.rating = self.rating_comment = None   # each closing is rated on its own
        self.due_at = None
        note = ("Ditutup oleh pelapor." if actor.role is Role.CITIZEN
                else "Ditutup otomatis: tidak ada tanggapan pelapor.")
        return ev.ComplaintClosedV1, cmd.note or note, {}

    _auto_close = _close

    def _reopen(self, cmd: TakeAction, actor: Actor, at: datetime, _):
        _required(cmd.reason, "reason: why the matter is not settled")
        if self.reopen_until is not None and at > self.reopen_until:
            raise ActionRefused(f"the reopen window ended at {local_time_id(self.reopen_until)}; "
                                "submit a new complaint instead")
        self.closed_at = self.reopen_until = None
        return ev.ComplaintReopenedV1, f"Dibuka kembali oleh pelapor: {cmd.reason}", {
            "reason": cmd.reason}

    def _rate(self, cmd: TakeAction, actor: Actor, at: datetime, _):
        if cmd.rating is None or not 1 <= cmd.rating <= 5:
            raise ActionRefused("rating must be 1 to 5")
        if self.rating is not None:
            raise ActionRefused("this closing was already rated")
        self.rating, self.rating_comment = cmd.rating, cmd.comment
        return ev.ComplaintRatedV1, f"Penilaian pelapor: {cmd.rating}/5.", {
            "rating": cmd.rating, "comment": cmd.comment}

    # ---- facts from other services that are not status changes

    def set_deadline(self, clock: str, due_at: datetime, at: datetime, *,
                     started_at: datetime | None = None, clock_id: uuid.UUID | None = None) -> bool:
        """A clock sla started: shown on the timeline; the OPD's first-response deadline and
        the reopen window are also kept on the complaint (the API shows and enforces them).
        A clock that started before the newest one of its kind seen here (a late or replayed
        fact) changes nothing: an older deadline never overwrites a newer one. True if applied."""
        started_at = started_at or at
        if self._seen(clock_id, "deadline_set") or self._superseded(clock, started_at):
            return False
        self._keep(clock, due_at)
        self._note(at, "deadline_set", Actor.system("sla"),
                   _DEADLINE_SET.get(clock, "Batas waktu ({clock}): {due}.").format(
                       clock=clock, due=local_time_id(due_at)),
                   self.status, _clock_details(clock, clock_id, started_at, due_at))
        return True

    def pause_deadline(self, clock: str, at: datetime, *,
                       clock_id: uuid.UUID | None = None) -> bool:
        """A clock waits (for the citizen): the timeline says its deadline will move."""
        started_at = self._clock_started_at(clock_id)
        if self._not_current(clock, clock_id) or any(
                h.action == "deadline_paused" and h.at == at and _same_clock(h, clock_id)
                for h in self.history):
            return False
        self._note(at, "deadline_paused", Actor.system("sla"),
                   f"{_CLOCK_NAME.get(clock, clock).capitalize()} dihentikan sementara: "
                   "menunggu tanggapan pelapor.", self.status,
                   _clock_details(clock, clock_id, started_at, None))
        return True

    def move_deadline(self, clock: str, due_at: datetime, at: datetime, *,
                      clock_id: uuid.UUID | None = None) -> bool:
        """A clock runs again: its deadline moved by the time spent waiting. A clock older
        than the newest of its kind seen here changes nothing."""
        started_at = self._clock_started_at(clock_id)
        if self._not_current(clock, clock_id) or any(
                h.action == "deadline_moved" and h.at == at
                and h.details.get("due_at") == due_at.isoformat() and _same_clock(h, clock_id)
                for h in self.history):
            return False
        self._keep(clock, due_at)
        self._note(at, "deadline_moved", Actor.system("sla"),
                   f"{_CLOCK_NAME.get(clock, clock).capitalize()} berjalan lagi, kini sampai "
                   f"{local_time_id(due_at)}.", self.status,
                   _clock_details(clock, clock_id, started_at, due_at))
        return True

    def auto_close_is_current(self, clock_id: uuid.UUID | None) -> bool:
        """Whether an auto-close that fell due still speaks for the complaint: nothing the OPD
        or the citizen did happened after its clock started, and no newer auto-close clock
        started. A clock never seen here is taken to start at the last follow-up (sla starts
        it there)."""
        if self._not_current("auto_close", clock_id):
            return False
        started_at = self._clock_started_at(clock_id)
        if started_at is None:
            answers = [h.at for h in self.history if h.action in _ANSWERS]
            started_at = max(answers) if answers else None
        if started_at is None:
            return False
        return not any(h.at > started_at for h in self.history if h.action in _MOVES_ON)

    def _keep(self, clock: str, due_at: datetime) -> None:
        if clock == "first_response":
            self.first_response_due_at = self.due_at = due_at
        elif clock == "reopen_window":
            self.reopen_until = due_at

    def _seen(self, clock_id: uuid.UUID | None, action: str) -> bool:
        return clock_id is not None and any(
            h.action == action and _same_clock(h, clock_id) for h in self.history)

    def _clock_started_at(self, clock_id: uuid.UUID | None) -> datetime | None:
        """When a clock started, as its start was recorded on the timeline (None: never seen)."""
        if clock_id is None:
            return None
        for h in self.history:
            if h.action == "deadline_set" and _same_clock(h, clock_id) and h.details.get("started_at"):
                return datetime.fromisoformat(h.details["started_at"])
        return None

    def _not_current(self, clock: str, clock_id: uuid.UUID | None) -> bool:
        """Whether a clock's pause or move speaks of a clock other than the one the timeline
        shows for its kind: one that started earlier than it, or one whose start was never
        shown (it was older already when it came) while another of its kind was."""
        started_at = self._clock_started_at(clock_id)
        if started_at is not None:
            return self._superseded(clock, started_at)
        shown = [h.details.get("clock_id") for h in self.history
                 if h.action == "deadline_set" and h.details.get("clock") == clock]
        return clock_id is not None and bool(shown) and shown[-1] is not None

    def _superseded(self, clock: str, started_at: datetime) -> bool:
        """A clock of this kind that started later was already recorded."""
        return any(datetime.fromisoformat(h.details["started_at"]) > started_at
                   for h in self.history
                   if h.action == "deadline_set" and h.details.get("clock") == clock
                   and h.details.get("started_at"))

    def record_notification(self, channel: str, at: datetime, template: str | None = None,
                            fell_back_from: list[str] | tuple = ()) -> None:
        note = f"Pemberitahuan dikirim melalui {channel}."
        if fell_back_from:
            note += f" ({', '.join(fell_back_from)} tidak dapat dipakai.)"
        self._note(at, "citizen_notified", Actor.system("notify"), note,
                   details={k: v for k, v in (("channel", channel), ("template", template),
                                              ("fell_back_from", list(fell_back_from))) if v})

    def record_notification_failure(self, channels: list[str], error_class: str, at: datetime,
                                    template: str | None = None) -> None:
        tried = ", ".join(channels) if channels else "tidak ada kontak"
        self._note(at, "citizen_notification_failed", Actor.system("notify"),
                   f"Pemberitahuan tidak dapat dikirim ({tried}).",
                   details={"channels": list(channels), "error_class": error_class,
                            **({"template": template} if template else {})})

    def _note(self, at: datetime, action: str, actor: Actor, note: str,
              from_status: Status | None = None, details: dict[str, Any] | None = None) -> None:
        entry = HistoryEntry(at=at, status=self.status, action=str(action), actor=actor.name,
                             note=note, actor_role=actor.role.value, from_status=from_status,
                             details=details or {})
        self.history.append(entry)
        self.new_history.append(entry)
        if self.updated_at is None or at > self.updated_at:
            self.updated_at = at


# What the OPD or the citizen does that makes an earlier auto-close clock out of date.
_ANSWERS = ("respond", "resolve")
_MOVES_ON = ("respond", "resolve", "citizen_reply", "reopen", "close", "auto_close")


def _clock_details(clock: str, clock_id: uuid.UUID | None, started_at: datetime | None,
                   due_at: datetime | None) -> dict[str, Any]:
    """What the timeline keeps of a clock: enough to tell a newer clock from an older one and
    to recognise a replay. Ids and times only, never personal data."""
    details: dict[str, Any] = {"clock": clock}
    if clock_id is not None:
        details["clock_id"] = str(clock_id)
    if started_at is not None:
        details["started_at"] = started_at.isoformat()
    if due_at is not None:
        details["due_at"] = due_at.isoformat()
    return details


def _same_clock(entry: HistoryEntry, clock_id: uuid.UUID | None) -> bool:
    return clock_id is not None and entry.details.get("clock_id") == str(clock_id)


def _required(value: str | None, what: str) -> None:
    if not value:
        raise ActionRefused(f"this action needs {what}")
