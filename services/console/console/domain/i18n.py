"""The console's words in Bahasa Indonesia (the default) and English, and dates, times and
numbers written the way each reads them (Babel's CLDR data, in the jurisdiction's time zone).

One flat table per language; a unit test holds both to the same keys, so a page never shows
a key instead of a word."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal

LANGUAGES = ("id", "en")
DEFAULT = "id"

MESSAGES: dict[str, dict[str, str]] = {
    "id": {
        "brand": "LAPOR Konsol",
        "skip": "Lewati ke konten",
        "nav.triage": "Triase", "nav.complaints": "Pengaduan", "nav.duplicates": "Duplikat",
        "nav.queue": "Antrean OPD", "nav.alerts": "Peringatan", "nav.dashboard": "Kinerja",
        "nav.menu": "Menu",
        "role.operator": "Operator", "role.opd": "Staf OPD",
        "signout": "Keluar", "language": "Bahasa",
        "signin.title": "Masuk ke konsol", "signin.name": "Nama Anda",
        "signin.role": "Peran", "signin.opd": "OPD (untuk staf OPD)",
        "signin.jurisdiction": "Wilayah", "signin.submit": "Masuk",
        "signin.dev": "Halaman masuk pengembangan: token diterbitkan dengan kunci lokal. Di "
                      "produksi, masuk melalui penyedia identitas kota (OIDC).",
        "signin.sso": "Masuk melalui penyedia identitas kota Anda.",
        "signin.needed": "Silakan masuk terlebih dahulu.",
        "signin.opd_needed": "Pilih OPD untuk staf OPD.",
        "signin.expired": "Sesi Anda berakhir. Silakan masuk kembali.",
        "live.title": "Peringatan langsung", "live.none": "Belum ada peringatan baru.",
        "alert.warning": "Peringatan", "alert.breach": "Lewat batas waktu", "alert.escalation": "Eskalasi",
        "clock.verification": "verifikasi", "clock.first_response": "tindak lanjut pertama",
        "clock.resolution": "penyelesaian", "clock.auto_close": "tutup otomatis",
        "clock.reopen_window": "masa buka kembali",
        "level.opd_admin": "admin OPD", "level.opd_head": "kepala OPD",
        "level.coordinator": "koordinator", "level.inspektorat": "Inspektorat",
        "triage.title": "Antrean triase", "triage.empty": "Tidak ada pengaduan yang menunggu triase.",
        "triage.reason": "Alasan router", "triage.read": "Terbaca sebagai",
        "triage.words": "Kata penentu", "triage.candidates": "Kandidat",
        "triage.assign_to": "Tetapkan ke", "triage.other": "OPD lain",
        "triage.no_routing": "Router belum mencatat keputusan untuk pengaduan ini.",
        "triage.confidence": "keyakinan", "triage.not_ours": "bukan kewenangan kota",
        "complaints.title": "Cari pengaduan", "complaints.q": "Nomor atau kata",
        "complaints.status": "Status", "complaints.any": "Semua", "complaints.opd": "OPD",
        "complaints.category": "Kategori", "complaints.overdue": "Hanya yang terlambat",
        "complaints.from": "Sejak", "complaints.to": "Sampai", "complaints.sort": "Urutan",
        "complaints.search": "Cari", "complaints.none": "Tidak ada pengaduan yang cocok.",
        "complaints.more": "Halaman berikutnya", "complaints.prev": "Halaman sebelumnya",
        "sort.newest": "Terbaru", "sort.oldest": "Terlama", "sort.due": "Batas waktu",
        "col.number": "Nomor", "col.title": "Judul", "col.status": "Status", "col.opd": "OPD",
        "col.submitted": "Masuk", "col.due": "Batas waktu", "col.urgency": "Keadaan",
        "col.time": "Waktu", "col.alert": "Jenis", "col.clock": "Tenggat", "col.level": "Tingkat",
        "detail.title": "Pengaduan", "detail.description": "Uraian", "detail.category": "Kategori",
        "detail.channel": "Kanal", "detail.jurisdiction": "Wilayah", "detail.opd": "OPD",
        "detail.submitted": "Masuk", "detail.first_due": "Batas tindak lanjut pertama",
        "detail.due": "Batas waktu", "detail.overdue": "Terlambat",
        "detail.reporter": "Pelapor", "detail.anonymous": "Anonim: identitas pelapor dirahasiakan.",
        "detail.confidential": "Rahasia", "detail.location": "Lokasi",
        "detail.attachments": "Lampiran", "detail.no_attachments": "Tidak ada lampiran.",
        "detail.timeline": "Riwayat", "detail.actions": "Tindakan",
        "detail.no_actions": "Tidak ada tindakan yang dapat Anda ambil sekarang.",
        "detail.routing": "Keputusan router", "detail.duplicates": "Kemungkinan duplikat",
        "detail.no_duplicates": "Router tidak menemukan duplikat.",
        "detail.similarity": "kemiripan", "detail.dismiss": "Bukan duplikat",
        "detail.rejected_by": "Ditolak (bukan wewenang) oleh", "detail.rating": "Penilaian",
        "detail.name": "Nama", "detail.email": "Surel", "detail.phone": "Telepon", "detail.nik": "NIK",
        "detail.merged_into": "Digabung ke",
        "done": "Tindakan tersimpan.", "dismissed": "Pasangan ditandai bukan duplikat.",
        "form.required": "Isian ini wajib",
        "form.note": "Catatan", "form.evidence": "Bukti penyelesaian", "form.reason": "Alasan",
        "form.suggested_opd_id": "OPD yang berwenang (saran)", "form.opd_id": "OPD",
        "form.into": "Nomor pengaduan tujuan", "form.responsible": "Instansi yang berwenang",
        "form.choose": "Pilih…",
        "action.accept": "Terima", "action.respond": "Tindak lanjut",
        "action.ask_info": "Minta informasi", "action.resolve": "Selesaikan",
        "action.reject_not_authority": "Bukan wewenang", "action.assign": "Disposisikan",
        "action.reassign": "Disposisi ulang", "action.postpone": "Tunda (minta informasi)",
        "action.resume": "Lanjutkan", "action.merge": "Gabungkan",
        "action.mark_not_ours": "Bukan kewenangan kota", "action.archive": "Arsipkan",
        "action.submit": "Pengaduan masuk", "action.send_to_triage": "Ke triase",
        "action.provide_info": "Pelapor melengkapi informasi", "action.citizen_reply": "Tanggapan pelapor",
        "action.close": "Ditutup pelapor", "action.auto_close": "Ditutup otomatis",
        "action.rate": "Penilaian pelapor", "action.reopen": "Dibuka kembali oleh pelapor",
        "action.deadline_set": "Batas waktu ditetapkan", "action.deadline_paused": "Batas waktu dihentikan sementara",
        "action.deadline_moved": "Batas waktu bergeser", "action.citizen_notified": "Pelapor diberi tahu",
        "action.citizen_notification_failed": "Pemberitahuan gagal",
        "archive.unclear": "Tidak jelas", "archive.too_general": "Terlalu umum",
        "archive.not_public_service": "Bukan pelayanan publik", "archive.spam": "Spam",
        "archive.duplicate": "Duplikat",
        "status.submitted": "Baru masuk", "status.triage": "Triase", "status.postponed": "Ditunda",
        "status.disposed": "Terdisposisi", "status.accepted": "Diterima OPD",
        "status.returned": "Dikembalikan", "status.followed_up": "Ditindaklanjuti",
        "status.citizen_replied": "Ditanggapi pelapor", "status.resolved": "Selesai",
        "status.closed": "Ditutup", "status.reopened": "Dibuka kembali", "status.archived": "Diarsipkan",
        "status.not_ours": "Bukan kewenangan", "status.merged": "Digabung",
        "urgency.overdue": "Terlambat", "urgency.at_risk": "Berisiko", "urgency.on_track": "Sesuai jadwal",
        "urgency.no_deadline": "Tanpa batas waktu",
        "queue.title": "Antrean", "queue.empty": "Antrean kosong.",
        "queue.help": "Terlambat dan berisiko di atas, lalu menurut batas waktu.",
        "alerts.title": "Peringatan SLA", "alerts.none": "Belum ada peringatan.",
        "alerts.help": "Peringatan, pelanggaran batas waktu dan eskalasi muncul di sini tanpa memuat ulang.",
        "dup.title": "Kandidat duplikat", "dup.none": "Tidak ada kandidat duplikat yang terbuka.",
        "dup.later": "Pengaduan baru", "dup.earlier": "Pengaduan sebelumnya",
        "dash.title": "Kinerja OPD", "dash.period": "Periode", "dash.show": "Tampilkan",
        "dash.csv": "Unduh CSV", "dash.none": "Tidak ada data pada periode ini.",
        "dash.table": "Angka lengkap",
        "measure.received": "Pengaduan diterima", "measure.on_time_share": "Tepat waktu (%)",
        "measure.first_response_median_hours": "Median waktu tanggapan pertama (jam)",
        "measure.open_breaches": "Pelanggaran terbuka", "measure.rating_average": "Rata-rata penilaian (1–5)",
        "measure.answered": "Dijawab", "measure.ratings": "Jumlah penilaian",
        "error.not_found": "Tidak ditemukan",
        "error.not_found.detail": "Pengaduan ini tidak ada, atau bukan untuk Anda.",
        "error.unavailable": "Layanan sedang tidak tersedia",
        "error.unavailable.detail": "Coba lagi sebentar lagi.",
        "error.refused": "Tidak dapat dilakukan",
        "error.forbidden": "Tidak diizinkan", "error.forbidden.detail": "Halaman ini bukan untuk peran Anda.",
        "error.form": "Periksa isian formulir.",
        "back": "Kembali",
    },
    "en": {
        "brand": "LAPOR Console",
        "skip": "Skip to content",
        "nav.triage": "Triage", "nav.complaints": "Complaints", "nav.duplicates": "Duplicates",
        "nav.queue": "OPD queue", "nav.alerts": "Alerts", "nav.dashboard": "Performance",
        "nav.menu": "Menu",
        "role.operator": "Operator", "role.opd": "OPD staff",
        "signout": "Sign out", "language": "Language",
        "signin.title": "Sign in to the console", "signin.name": "Your name",
        "signin.role": "Role", "signin.opd": "OPD (for OPD staff)",
        "signin.jurisdiction": "Jurisdiction", "signin.submit": "Sign in",
        "signin.dev": "Development sign-in: the token is signed with the local key. In "
                      "production, people sign in with the city's identity provider (OIDC).",
        "signin.sso": "Sign in with your city's identity provider.",
        "signin.needed": "Please sign in first.",
        "signin.opd_needed": "Choose the OPD for OPD staff.",
        "signin.expired": "Your session ended. Please sign in again.",
        "live.title": "Live alerts", "live.none": "No new alerts yet.",
        "alert.warning": "Warning", "alert.breach": "Deadline missed", "alert.escalation": "Escalation",
        "clock.verification": "verification", "clock.first_response": "first response",
        "clock.resolution": "resolution", "clock.auto_close": "auto-close",
        "clock.reopen_window": "reopen window",
        "level.opd_admin": "OPD admin", "level.opd_head": "OPD head",
        "level.coordinator": "coordinator", "level.inspektorat": "Inspektorat",
        "triage.title": "Triage queue", "triage.empty": "Nothing is waiting for triage.",
        "triage.reason": "Router's reason", "triage.read": "Read as",
        "triage.words": "Deciding words", "triage.candidates": "Candidates",
        "triage.assign_to": "Assign to", "triage.other": "Another OPD",
        "triage.no_routing": "The router has logged no decision for this complaint yet.",
        "triage.confidence": "confidence", "triage.not_ours": "not the city's",
        "complaints.title": "Find complaints", "complaints.q": "Number or words",
        "complaints.status": "Status", "complaints.any": "Any", "complaints.opd": "OPD",
        "complaints.category": "Category", "complaints.overdue": "Overdue only",
        "complaints.from": "From", "complaints.to": "To", "complaints.sort": "Order",
        "complaints.search": "Search", "complaints.none": "No complaint matches.",
        "complaints.more": "Next page", "complaints.prev": "Previous page",
        "sort.newest": "Newest", "sort.oldest": "Oldest", "sort.due": "Deadline",
        "col.number": "Number", "col.title": "Title", "col.status": "Status", "col.opd": "OPD",
        "col.submitted": "Submitted", "col.due": "Deadline", "col.urgency": "State",
        "col.time": "Time", "col.alert": "Kind", "col.clock": "Deadline", "col.level": "Level",
        "detail.title": "Complaint", "detail.description": "Description", "detail.category": "Category",
        "detail.channel": "Channel", "detail.jurisdiction": "Jurisdiction", "detail.opd": "OPD",
        "detail.submitted": "Submitted", "detail.first_due": "First response due",
        "detail.due": "Deadline", "detail.overdue": "Overdue",
        "detail.reporter": "Reporter", "detail.anonymous": "Anonymous: the reporter's identity is withheld.",
        "detail.confidential": "Confidential", "detail.location": "Location",
        "detail.attachments": "Attachments", "detail.no_attachments": "No attachments.",
        "detail.timeline": "Timeline", "detail.actions": "Actions",
        "detail.no_actions": "There is nothing you can do on it now.",
        "detail.routing": "Router's decision", "detail.duplicates": "Possible duplicates",
        "detail.no_duplicates": "The router found no duplicates.",
        "detail.similarity": "similarity", "detail.dismiss": "Not a duplicate",
        "detail.rejected_by": "Rejected (not its authority) by", "detail.rating": "Rating",
        "detail.name": "Name", "detail.email": "E-mail", "detail.phone": "Phone", "detail.nik": "NIK",
        "detail.merged_into": "Merged into",
        "done": "Action saved.", "dismissed": "The pair is marked not a duplicate.",
        "form.required": "This field is required",
        "form.note": "Note", "form.evidence": "Evidence of resolution", "form.reason": "Reason",
        "form.suggested_opd_id": "OPD with the authority (suggestion)", "form.opd_id": "OPD",
        "form.into": "Tracking number to merge into", "form.responsible": "Responsible body",
        "form.choose": "Choose…",
        "action.accept": "Accept", "action.respond": "Follow up",
        "action.ask_info": "Ask for information", "action.resolve": "Resolve",
        "action.reject_not_authority": "Not our authority", "action.assign": "Assign",
        "action.reassign": "Reassign", "action.postpone": "Postpone (ask for information)",
        "action.resume": "Resume", "action.merge": "Merge",
        "action.mark_not_ours": "Not the city's", "action.archive": "Archive",
        "action.submit": "Submitted", "action.send_to_triage": "To triage",
        "action.provide_info": "Citizen added information", "action.citizen_reply": "Citizen replied",
        "action.close": "Closed by the citizen", "action.auto_close": "Closed automatically",
        "action.rate": "Citizen's rating", "action.reopen": "Reopened by the citizen",
        "action.deadline_set": "Deadline set", "action.deadline_paused": "Deadline paused",
        "action.deadline_moved": "Deadline moved", "action.citizen_notified": "Citizen notified",
        "action.citizen_notification_failed": "Notification failed",
        "archive.unclear": "Unclear", "archive.too_general": "Too general",
        "archive.not_public_service": "Not about public service", "archive.spam": "Spam",
        "archive.duplicate": "Duplicate",
        "status.submitted": "Submitted", "status.triage": "Triage", "status.postponed": "Postponed",
        "status.disposed": "Disposed", "status.accepted": "Accepted by OPD",
        "status.returned": "Returned", "status.followed_up": "Followed up",
        "status.citizen_replied": "Citizen replied", "status.resolved": "Resolved",
        "status.closed": "Closed", "status.reopened": "Reopened", "status.archived": "Archived",
        "status.not_ours": "Not the city's", "status.merged": "Merged",
        "urgency.overdue": "Overdue", "urgency.at_risk": "At risk", "urgency.on_track": "On track",
        "urgency.no_deadline": "No deadline",
        "queue.title": "Queue", "queue.empty": "The queue is empty.",
        "queue.help": "Overdue and at risk on top, then by deadline.",
        "alerts.title": "SLA alerts", "alerts.none": "No alerts yet.",
        "alerts.help": "Warnings, missed deadlines and escalations appear here without a reload.",
        "dup.title": "Duplicate candidates", "dup.none": "No open duplicate candidates.",
        "dup.later": "Later complaint", "dup.earlier": "Earlier complaint",
        "dash.title": "OPD performance", "dash.period": "Period", "dash.show": "Show",
        "dash.csv": "Download CSV", "dash.none": "No figures in this period.",
        "dash.table": "All figures",
        "measure.received": "Complaints received", "measure.on_time_share": "On time (%)",
        "measure.first_response_median_hours": "Median time to first response (hours)",
        "measure.open_breaches": "Open breaches", "measure.rating_average": "Average rating (1–5)",
        "measure.answered": "Answered", "measure.ratings": "Ratings",
        "error.not_found": "Not found",
        "error.not_found.detail": "This complaint does not exist, or is not yours to see.",
        "error.unavailable": "A service is unavailable",
        "error.unavailable.detail": "Please try again shortly.",
        "error.refused": "Could not be done",
        "error.forbidden": "Not allowed", "error.forbidden.detail": "This page is not for your role.",
        "error.form": "Please check the form.",
        "back": "Back",
    },
}


def language(requested: str | None) -> str:
    return requested if requested in LANGUAGES else DEFAULT


class Words:
    """The words and formats of one language, in one time zone, for one page."""

    def __init__(self, lang: str, zone: str = "Asia/Jakarta") -> None:
        self.lang = language(lang)
        self.zone = ZoneInfo(zone)
        self._table = MESSAGES[self.lang]

    def __call__(self, key: str, **values: object) -> str:
        text = self._table.get(key)
        if text is None:
            text = MESSAGES[DEFAULT].get(key, key)
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self._table

    def when(self, value: str | datetime | None, with_zone: bool = True) -> str:
        if not value:
            return "–"
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        fmt = "d MMM yyyy HH.mm" if self.lang == "id" else "d MMM yyyy HH:mm"
        return format_datetime(moment, fmt + (" zzz" if with_zone else ""), tzinfo=self.zone,
                               locale=self.lang)

    def number(self, value: float | None, digits: int = 1) -> str:
        if value is None:
            return "–"
        return format_decimal(round(value, digits), locale=self.lang)
