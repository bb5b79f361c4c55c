"""Open311 GeoReport v2 <-> the complaint, both ways, without I/O.

Out: our statuses as `open`/`closed`, a complaint as a public service request (no personal
data: no reporter, no street address or coordinates of an anonim report, text redacted as the
public view redacts it), a history entry as a `request_update`, the taxonomy as `services` and
service definitions. In: an Open311 POST form as a `SubmitComplaint` plus what only Open311
carries (attributes checked against the service definition, media_url, address_id, ...), and a
reporter's `servicerequestupdates` POST as the citizen's lifecycle action.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from typing import Any

from pydantic import EmailStr, TypeAdapter, ValidationError

from contracts.events import Location
from contracts.lifecycle import Action, Role, Status
from contracts.taxonomy import Attribute, Subcategory, Taxonomy
from intake.adapters.open311 import HistoryRow
from intake.domain.channel_messages import derive_title
from intake.domain.commands import SubmitComplaint
from intake.domain.complaint import Complaint, Reporter
from intake.domain.public import redact
from intake.open311.errors import Open311Error

SPEC = "http://wiki.open311.org/GeoReport_v2"
CLOSED = frozenset({Status.RESOLVED, Status.CLOSED, Status.ARCHIVED, Status.NOT_OURS,
                    Status.MERGED})
# Steps whose notes the public may read as status_notes / updates: staff and system decisions.
STAFF_NOTES = ("assign", "reassign", "send_to_triage", "postpone", "resume", "archive",
               "mark_not_ours", "merge", "accept", "reject_not_authority", "respond", "resolve",
               "auto_close")
# What the citizen did: an update says so, never with the citizen's own words.
CITIZEN_STEPS = {"citizen_reply": "Pelapor memberikan tanggapan.",
                 "provide_info": "Pelapor melengkapi informasi.",
                 "close": "Ditutup oleh pelapor.",
                 "reopen": "Dibuka kembali oleh pelapor."}
UPDATE_ACTIONS = (*STAFF_NOTES, *CITIZEN_STEPS)
MAX_TEXT, MAX_NAME, MAX_ID, MAX_URL = 5000, 60, 200, 2000
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_EMAIL = TypeAdapter(EmailStr)


def api_key_digest(key: str) -> str:
    """How a key is kept: its SHA-256 (the key is random and long, so no slow hash is needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def open311_status(status: Status) -> str:
    return "closed" if status in CLOSED else "open"


def statuses_for(values: Iterable[str]) -> tuple[Status, ...]:
    """The `status` filter (`open`, `closed`, comma-separated or repeated) as our statuses."""
    wanted = {p.strip().lower() for v in values for p in v.split(",") if p.strip()}
    unknown = wanted - {"open", "closed"}
    if unknown:
        raise Open311Error(400, f"status must be open or closed, not {sorted(unknown)[0]!r}")
    if wanted in (set(), {"open", "closed"}):
        return ()
    return tuple(s for s in Status if (s in CLOSED) == ("closed" in wanted))


def w3c(moment: datetime | None, zone: tzinfo) -> str | None:
    """ISO 8601 as the W3C note says, with the offset: 2026-11-23T09:15:30+07:00."""
    if moment is None:
        return None
    return moment.astimezone(zone).replace(microsecond=0).isoformat()


def parse_w3c(name: str, value: str | None) -> datetime | None:
    """A W3C date/time argument; a date alone is midnight UTC; a time without offset is UTC."""
    if value is None or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace(" ", "+") if "T" in value else value.strip())
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C date/time, e.g. 2026-11-23T09:15:30+07:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# ---- the taxonomy as services


def service(sub: Subcategory) -> dict[str, Any]:
    return {"service_code": sub.code, "service_name": sub.name, "description": sub.description,
            "metadata": bool(sub.attributes), "type": "realtime",
            "keywords": ", ".join(sub.keywords), "group": sub.group}


def services(taxonomy: Taxonomy) -> list[dict[str, Any]]:
    return [service(s) for s in taxonomy.subcategories()]


def definition(sub: Subcategory) -> dict[str, Any]:
    return {"service_code": sub.code, "attributes": [{
        "variable": True, "code": a.code, "datatype": a.datatype, "required": a.required,
        "datatype_description": a.datatype_description or _datatype_description(a),
        "order": a.order, "description": a.description,
        **({"values": [{"key": v.key, "name": v.name} for v in a.values]} if a.values else {}),
    } for a in sub.attributes]}


def _datatype_description(a: Attribute) -> str:
    return {"number": "Angka, mis. 2.5", "datetime": "Tanggal dan waktu, mis. 2026-11-23T09:00:00+07:00",
            "singlevaluelist": "Pilih satu", "multivaluelist": "Pilih satu atau lebih"}.get(a.datatype, "")


def discovery(base_url: str, changeset: datetime, zone: tzinfo, contact: str) -> dict[str, Any]:
    stamp = w3c(changeset, zone)
    return {"changeset": stamp, "contact": contact, "key_service": contact, "endpoints": [{
        "specification": SPEC, "url": f"{base_url}/open311/v2", "changeset": stamp,
        "type": "production", "formats": ["application/json", "text/xml"]}]}


# ---- complaints out


def status_notes(row: HistoryRow | None) -> str | None:
    if row is None or row.actor_role == Role.CITIZEN.value or not row.note:
        return None
    return redact(row.note)


def latest_staff_note(complaint: Complaint) -> HistoryRow | None:
    """From a complaint loaded with its history: its latest public-safe step."""
    for h in reversed(complaint.history):
        if h.action in STAFF_NOTES and h.actor_role != Role.CITIZEN.value:
            return HistoryRow(0, complaint.id, complaint.tracking_number, h.at, h.status,
                              h.action, h.actor_role, h.note)
    return None


def service_request(c: Complaint, taxonomy: Taxonomy, zone: tzinfo, *, note: HistoryRow | None,
                    media_url: str | None = None, address_id: str | None = None) -> dict[str, Any]:
    """A complaint as the public may see it: never the reporter, never the street address or
    coordinates of an anonim report (its kelurahan and kecamatan stay)."""
    sub = taxonomy.subcategory(c.category) if c.category else None
    loc = c.location
    area = ", ".join(p for p in ((loc.kelurahan, loc.kecamatan) if loc else ()) if p) or None
    address = area
    lat = lon = None
    if loc is not None and not c.anonymous:
        address = redact(loc.address) if loc.address else area
        lat, lon = loc.lat, loc.lon
    return {
        "service_request_id": c.tracking_number, "status": open311_status(c.status),
        "status_notes": status_notes(note), "service_name": sub.name if sub else None,
        "service_code": c.category, "description": redact(c.description),
        "agency_responsible": c.assigned_opd_name or c.assigned_opd_id,
        "service_notice": None,
        "requested_datetime": w3c(c.submitted_at, zone),
        "updated_datetime": w3c(c.updated_at or c.submitted_at, zone),
        "expected_datetime": w3c(c.due_at, zone),
        "address": address, "address_id": None if c.anonymous else address_id, "zipcode": None,
        "lat": lat, "long": lon, "media_url": media_url,
    }


def request_update(row: HistoryRow, zone: tzinfo) -> dict[str, Any]:
    citizen = row.actor_role == Role.CITIZEN.value
    description = (CITIZEN_STEPS.get(row.action, "Pelapor memperbarui pengaduan.") if citizen
                   else redact(row.note))
    return {"update_id": str(row.update_id), "service_request_id": row.tracking_number,
            "status": open311_status(row.status).upper(),
            "updated_datetime": w3c(row.at, zone), "description": description,
            "media_url": None}


# ---- a POST request in


@dataclass(frozen=True)
class Extra:
    """What only Open311 carries; recorded in open311_requests with the complaint."""

    attributes: dict[str, Any] = field(default_factory=dict)
    media_url: str | None = None
    address_id: str | None = None
    device_id: str | None = None
    account_id: str | None = None


class Form:
    """The posted fields (query string and body together), in order, repeated names kept."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self.items = [(k, v) for k, v in items]
        for k, v in self.items:
            if _UNSTORABLE.search(k) or _UNSTORABLE.search(v):
                raise Open311Error(400, f"{_safe(k)} holds a character that cannot be stored "
                                        "(U+0000 or a lone surrogate)")

    def get(self, name: str, limit: int = MAX_TEXT) -> str | None:
        value = next((v for k, v in reversed(self.items) if k == name), None)
        if value is None:
            return None
        value = value.strip()
        if len(value) > limit:
            raise Open311Error(400, f"{name} is longer than {limit} characters")
        return value or None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.items if k == name]

    def attributes(self) -> dict[str, list[str]]:
        """`attribute[code]` (repeated, or `attribute[code][]`, for a multivaluelist)."""
        found: dict[str, list[str]] = {}
        for k, v in self.items:
            m = re.fullmatch(r"attribute\[([^\[\]]{1,100})\](?:\[\])?", k)
            if m and v.strip():
                found.setdefault(m.group(1), []).append(v.strip())
        return found


def _safe(name: str) -> str:
    return _UNSTORABLE.sub("?", name)[:100]


def check_attributes(sub: Subcategory, given: dict[str, list[str]]) -> dict[str, Any]:
    """The answers to the service definition's questions, typed; unknown codes are ignored
    (clients send extra ones), a missing required one or a bad value is a 400."""
    answers: dict[str, Any] = {}
    problems = []
    for a in sub.attributes:
        values = given.get(a.code, [])
        if not values:
            if a.required:
                problems.append(f"attribute[{a.code}] is required: {a.description}")
            continue
        try:
            answers[a.code] = _typed(a, values)
        except ValueError as exc:
            problems.append(f"attribute[{a.code}] {exc}")
    if problems:
        raise Open311Error(400, *problems)
    return answers


def _typed(a: Attribute, values: list[str]) -> Any:
    if a.datatype == "multivaluelist":
        parts = [p.strip() for v in values for p in v.split(",") if p.strip()]
        keys = {c.key for c in a.values}
        bad = [p for p in parts if p not in keys]
        if bad:
            raise ValueError(f"must be among {sorted(keys)}, not {bad[0][:50]!r}")
        return list(dict.fromkeys(parts))
    value = values[-1]
    if a.datatype == "singlevaluelist":
        if value not in {c.key for c in a.values}:
            raise ValueError(f"must be one of {[c.key for c in a.values]}")
        return value
    if a.datatype == "number":
        try:
            number = float(value)
        except ValueError:
            raise ValueError("must be a number") from None
        if not math.isfinite(number):
            raise ValueError("must be a finite number")
        return number
    if a.datatype == "datetime":
        try:
            return parse_w3c("", value).isoformat()  # type: ignore[union-attr]
        except Open311Error:
            raise ValueError("must be a W3C date/time") from None
    if len(value) > (MAX_TEXT if a.datatype == "text" else 500):
        raise ValueError("is too long")
    return value


def _answer_text(a: Attribute, value: Any) -> str:
    names = {c.key: c.name for c in a.values}
    if isinstance(value, list):
        return ", ".join(names.get(v, v) for v in value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return names.get(value, str(value)) if isinstance(value, str) else str(value)


def _coordinate(form: Form, name: str, bound: float) -> float | None:
    raw = form.get(name, 40)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, f"{name} must be a decimal number (WGS84)") from None
    if not math.isfinite(value) or not -bound <= value <= bound:
        raise Open311Error(400, f"{name} must be between -{bound:g} and {bound:g}")
    return value


def _phone(raw: str | None) -> str | None:
    if raw is None:
        return None
    digits = re.sub(r"[\s().-]", "", raw)
    if not re.fullmatch(r"\+?[0-9]{8,15}", digits):
        raise Open311Error(400, "phone must be a telephone number, e.g. +6281234567890")
    return digits


def _url(name: str, raw: str | None) -> str | None:
    if raw is not None and not re.fullmatch(r"https?://[^\s]+", raw):
        raise Open311Error(400, f"{name} must be an http(s) URL")
    return raw


def submission(form: Form, taxonomy: Taxonomy, jurisdiction: str | None) -> tuple[SubmitComplaint, Extra]:
    """A POST requests form as the command to file the complaint, and the Open311 extras."""
    code = form.get("service_code", 120)
    if code is None:
        raise Open311Error(400, "service_code is required")
    sub = taxonomy.subcategory(code)
    if sub is None:
        raise Open311Error(404, f"service_code {code!r} is not a service of this jurisdiction")
    lat, lon = _coordinate(form, "lat", 90), _coordinate(form, "long", 180)
    if (lat is None) != (lon is None):
        raise Open311Error(400, "lat and long go together")
    address = form.get("address_string", 500)
    address_id = form.get("address_id", MAX_ID)
    if lat is None and address is None and address_id is None:
        raise Open311Error(400, "a location is required: lat and long, address_string or address_id")
    email = form.get("email", 254)
    if email is not None:
        try:
            email = _EMAIL.validate_python(email)
        except ValidationError:
            raise Open311Error(400, "email is not a valid e-mail address") from None
    name = " ".join(p for p in (form.get("first_name", MAX_NAME), form.get("last_name", MAX_NAME)) if p)
    phone = _phone(form.get("phone", 40))
    answers = check_attributes(sub, form.attributes())
    text = form.get("description", MAX_TEXT)
    lines = [f"- {a.description}: {_answer_text(a, answers[a.code])}"
             for a in sub.attributes if a.code in answers]
    description = text or sub.name
    if lines:
        description += "\n\nKeterangan tambahan:\n" + "\n".join(lines)
    reporter = Reporter(name=name or None, email=email, phone=phone) if (name or email or phone) else None
    cmd = SubmitComplaint(
        title=derive_title(text) if text else f"{sub.name}: {address or 'lokasi terlampir'}"[:80],
        description=description, category=sub.code,
        location=Location(address=address, lat=lat, lon=lon) if (address or lat is not None) else None,
        channel="open311", jurisdiction=jurisdiction, reporter=reporter)
    return cmd, Extra(attributes=answers, media_url=_url("media_url", form.get("media_url", MAX_URL)),
                      address_id=address_id, device_id=form.get("device_id", MAX_ID),
                      account_id=form.get("account_id", MAX_ID))


# ---- a reporter's update in


def update_action(status: Status, wanted: str | None, description: str | None) -> tuple[Action, dict[str, str]]:
    """The citizen's lifecycle action a posted update means, with its fields, or a 400 saying
    why it cannot be taken now. `wanted` is the update's OPEN or CLOSED."""
    wanted = (wanted or "OPEN").strip().upper()
    if wanted not in ("OPEN", "CLOSED"):
        raise Open311Error(400, "status must be OPEN or CLOSED")
    text = description or ""
    if status in (Status.FOLLOWED_UP, Status.RESOLVED):
        if wanted == "CLOSED":
            return Action.CLOSE, {"note": text} if text else {}
        return Action.CITIZEN_REPLY, {"note": _needs(text)}
    if status is Status.POSTPONED and wanted == "OPEN":
        return Action.PROVIDE_INFO, {"note": _needs(text)}
    if status is Status.CLOSED and wanted == "OPEN":
        return Action.REOPEN, {"reason": _needs(text)}
    raise Open311Error(400, f"the service request is {open311_status(status)} and does not await "
                            f"an update from the reporter now (status={wanted} cannot be applied)")


def _needs(text: str) -> str:
    if not text:
        raise Open311Error(400, "description is required")
    return text
