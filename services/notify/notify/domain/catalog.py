"""Every kind of message notify sends: who it is for, whether quiet hours may hold it back, and
the context its templates are rendered with.

Every template gets the common context: `tracking_number`, `status_url` (the citizen's status
page, or the console's page for staff), `jurisdiction`, and for citizens `name` (None for
anonymous reporters and on SMS/WhatsApp) and `follower_of` (the reporter's own tracking number
when the complaint they follow is another one, into which theirs was merged; else None). The
`sample` of each kind is a long but realistic context: the unit tests render every template
with it and hold SMS to one segment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Audience = Literal["citizen", "opd", "operator"]

_COMMON_CITIZEN: dict[str, Any] = {
    "tracking_number": "123456789012", "status_url": "https://lapor.bandung.go.id/l/123456789012",
    "jurisdiction": "kota-bandung", "name": "Siti Rahayu", "follower_of": None,
}
_COMMON_STAFF: dict[str, Any] = {
    "tracking_number": "123456789012",
    "status_url": "https://konsol.lapor.bandung.go.id/complaints/123456789012",
    "jurisdiction": "kota-bandung",
}
_OPD = "Dinas Pekerjaan Umum dan Penataan Ruang"


@dataclass(frozen=True)
class Kind:
    name: str
    audience: Audience
    can_wait: bool                      # quiet hours may hold it (SMS and WhatsApp)
    about: str                          # what it tells, for people reading the catalog
    fields: dict[str, Any] = field(default_factory=dict)  # its own context, as a sample

    @property
    def sample(self) -> dict[str, Any]:
        common = _COMMON_CITIZEN if self.audience == "citizen" else _COMMON_STAFF
        return {**common, **self.fields}


KINDS: dict[str, Kind] = {k.name: k for k in (
    # ---- citizens
    Kind("complaint_received", "citizen", False,
         "received, with the tracking number (not sent again to whom a channel answer told it)",
         {"title": "Jalan berlubang besar di depan SDN 3 Jl. Merdeka sudah dua minggu"}),
    Kind("complaint_assigned", "citizen", True,
         "disposed to an OPD (also after a reassignment); `received`: it also says the receipt "
         "(held for the assignment, see notify.handlers.Owing), with the `title`",
         {"opd_name": _OPD, "received": True,
          "title": "Jalan berlubang besar di depan SDN 3 Jl. Merdeka sudah dua minggu"}),
    Kind("complaint_followed_up", "citizen", True, "the OPD's follow-up, which may be answered",
         {"opd_name": _OPD, "note": "Tim kami sudah meninjau lokasi dan menjadwalkan perbaikan "
                                    "pada minggu depan."}),
    Kind("complaint_postponed", "citizen", True, "more information asked of the citizen",
         {"note": "Mohon kirimkan foto lokasi dan nama jalan yang lebih lengkap."}),
    Kind("complaint_resolved", "citizen", True, "resolved, with evidence; confirm or reply",
         {"opd_name": _OPD, "evidence": "Foto jalan setelah ditambal, 12 Maret 2026.",
          "note": "Lubang telah ditambal dengan aspal."}),
    Kind("auto_close_coming", "citizen", True,
         "the complaint closes by itself unless the citizen answers by `due_at_local`",
         {"due_at_local": "Jumat, 20 Maret 2026 23:59 WIB"}),
    Kind("complaint_closed", "citizen", True, "closed (`auto`: automatically, after no reply)",
         {"auto": True}),
    Kind("rating_requested", "citizen", True, "asked to rate the handling, at `rating_url`",
         {"rating_url": "https://lapor.bandung.go.id/l/123456789012"}),
    Kind("complaint_merged", "citizen", True, "merged into another complaint about the same thing",
         {"into_tracking_number": "123456789000"}),
    Kind("complaint_archived", "citizen", True,
         "archived; `reason` is unclear, too_general, not_public_service, spam or duplicate",
         {"reason": "not_public_service", "note": "Laporan tidak terkait layanan publik."}),
    Kind("complaint_not_ours", "citizen", True,
         "not the city's to handle; `responsible` names who is, when known",
         {"responsible": "PT PLN (Persero) UP3 Bandung"}),
    # ---- OPD staff
    Kind("opd_complaint_assigned", "opd", True, "a new complaint disposed to the OPD",
         {"opd_name": _OPD, "title": "Jalan berlubang besar di depan SDN 3 Jl. Merdeka",
          "category": "pupr.jalan-rusak", "due_at_local": "Senin, 16 Maret 2026 23:59 WIB"}),
    Kind("opd_deadline_warning", "opd", True,
         "a deadline of the OPD's draws near; `clock` is first_response or resolution",
         {"opd_name": _OPD, "clock": "first_response", "due_at_local": "Senin, 16 Maret 2026 23:59 WIB",
          "hours_left": 4}),
    # ---- operators
    Kind("operator_sla_breached", "operator", False, "a deadline was missed",
         {"opd_id": "dinas-pupr", "opd_name": _OPD, "clock": "first_response",
          "due_at_local": "Senin, 16 Maret 2026 23:59 WIB"}),
    Kind("operator_sla_escalated", "operator", False,
         "an escalation step: `level` is opd_admin, opd_head, coordinator or inspektorat",
         {"opd_id": "dinas-pupr", "opd_name": _OPD, "clock": "resolution",
          "due_at_local": "Senin, 16 Maret 2026 23:59 WIB", "level": "inspektorat", "step": 4}),
    Kind("operator_digest", "operator", False,
         "the day's breaches and escalations in one message, for operators who chose a digest",
         {"date": "Selasa, 17 Maret 2026", "items": [
             {"kind": "breach", "tracking_number": "123456789012", "opd_name": _OPD,
              "clock": "first_response", "due_at_local": "Senin, 16 Maret 2026 23:59 WIB",
              "level": None},
             {"kind": "escalation", "tracking_number": "123456789013", "opd_name": "Dinas Lingkungan Hidup",
              "clock": "resolution", "due_at_local": "Jumat, 13 Maret 2026 23:59 WIB",
              "level": "opd_head"}]}),
)}
