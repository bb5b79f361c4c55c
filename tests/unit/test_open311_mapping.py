"""Open311 <-> the complaint, both ways, as pure functions: statuses, the public service
request (nothing personal), updates, the POST form as a command with typed attribute answers,
and a reporter's update as the citizen's lifecycle action."""

import uuid
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from contracts import taxonomy
from contracts.events import Location
from contracts.lifecycle import Action, Status
from intake.adapters.open311 import HistoryRow
from intake.domain.complaint import Complaint, Reporter
from intake.open311 import mapping
from intake.open311.errors import Open311Error

pytestmark = pytest.mark.unit
T = taxonomy.load()
WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("status,expected", [
    *[(s, "closed") for s in (Status.RESOLVED, Status.CLOSED, Status.ARCHIVED, Status.NOT_OURS, Status.MERGED)],
    *[(s, "open") for s in (Status.SUBMITTED, Status.TRIAGE, Status.POSTPONED, Status.DISPOSED,
                            Status.ACCEPTED, Status.RETURNED, Status.FOLLOWED_UP,
                            Status.CITIZEN_REPLIED, Status.REOPENED)],
])
def test_every_status_is_open_or_closed(status, expected):
    assert mapping.open311_status(status) == expected
    assert (status in mapping.statuses_for([expected])) and status not in mapping.statuses_for(
        ["open" if expected == "closed" else "closed"])


def test_status_filter_both_or_none_is_no_filter_and_unknown_is_400():
    assert mapping.statuses_for(["open,closed"]) == () == mapping.statuses_for([])
    with pytest.raises(Open311Error) as refused:
        mapping.statuses_for(["pending"])
    assert refused.value.status == 400


def test_dates_are_w3c_with_offset_both_ways():
    assert mapping.w3c(NOW, WIB) == "2026-11-23T09:00:00+07:00"
    assert mapping.parse_w3c("start_date", "2026-11-23T09:00:00+07:00") == NOW
    assert mapping.parse_w3c("start_date", "2026-11-23T09:00:00 07:00") == NOW, "+ sent unescaped"
    assert mapping.parse_w3c("start_date", "2026-11-23T02:00:00Z") == NOW
    with pytest.raises(Open311Error):
        mapping.parse_w3c("start_date", "kemarin")


def _complaint(anonymous=False) -> Complaint:
    return Complaint(
        id=uuid.uuid4(), tracking_number="1000123", jurisdiction="kota-contoh", channel="open311",
        title="Jalan berlubang", description="Lubang besar, hubungi 0812-3456-7890",
        category="pupr.jalan-rusak", location=Location(address="Jl. Merdeka 10", kecamatan="Coblong",
                                                        lat=-6.9, lon=107.6),
        anonymous=anonymous, confidential=False, language="id",
        reporter=Reporter(name="Siti", email="siti@example.id"), access_token_hash="x",
        submitted_at=NOW, status=Status.DISPOSED, assigned_opd_id="dinas-pupr",
        assigned_opd_name="Dinas PUPR", due_at=NOW, updated_at=NOW)


def test_a_complaint_out_shows_nothing_personal():
    note = HistoryRow(7, uuid.uuid4(), "1000123", NOW, Status.FOLLOWED_UP, "respond", "opd",
                      "Hubungi petugas di 081298765432")
    out = mapping.service_request(_complaint(), T, WIB, note=note, media_url="https://x/1.jpg",
                                  address_id="A1")
    assert out["status"] == "open" and out["agency_responsible"] == "Dinas PUPR"
    assert out["service_name"] == "Jalan Rusak / Berlubang" and out["expected_datetime"].endswith("+07:00")
    assert "3456" not in out["description"] and "98765432" not in out["status_notes"]
    assert (out["lat"], out["long"], out["address"]) == (-6.9, 107.6, "Jl. Merdeka 10")
    assert "Siti" not in str(out) and "siti@" not in str(out)
    anon = mapping.service_request(_complaint(anonymous=True), T, WIB, note=None, address_id="A1")
    assert (anon["lat"], anon["long"], anon["address"], anon["address_id"]) == (None, None, "Coblong", None)


def test_citizen_steps_are_updates_without_the_citizens_words():
    row = HistoryRow(9, uuid.uuid4(), "1000123", NOW, Status.CITIZEN_REPLIED, "citizen_reply",
                     "citizen", "Saya Siti, rumah saya nomor 5")
    update = mapping.request_update(row, WIB)
    assert update == {"update_id": "9", "service_request_id": "1000123", "status": "OPEN",
                      "updated_datetime": "2026-11-23T09:00:00+07:00",
                      "description": "Pelapor memberikan tanggapan.", "media_url": None}
    assert mapping.status_notes(row) is None


def _form(**fields):
    base = {"service_code": "pupr.jalan-rusak", "lat": "-6.9", "long": "107.6",
            "attribute[ukuran]": "sedang", "description": "Jalan berlubang di depan pasar. Bahaya."}
    return mapping.Form([(k, v) for k, v in {**base, **fields}.items() if v is not None])


def test_a_form_in_becomes_the_command_and_the_extras():
    cmd, extra = mapping.submission(_form(**{
        "attribute[sejak]": "2026-11-01T08:00:00+07:00", "attribute[tidak-dikenal]": "abaikan",
        "first_name": "Siti", "last_name": "Rahayu", "email": "siti@example.id",
        "phone": "0812-3456-7890", "address_id": "PJU-17", "media_url": "https://fms.example/p.jpg"}),
        T, "kota-contoh")
    assert cmd.channel == "open311" and cmd.category == "pupr.jalan-rusak"
    assert cmd.title == "Jalan berlubang di depan pasar" and cmd.jurisdiction == "kota-contoh"
    assert cmd.reporter == Reporter(name="Siti Rahayu", email="siti@example.id", phone="081234567890")
    assert cmd.location == Location(lat=-6.9, lon=107.6)
    assert "Perkiraan ukuran kerusakan: Sedang" in cmd.description
    assert extra.attributes == {"ukuran": "sedang", "sejak": "2026-11-01T08:00:00+07:00"}
    assert (extra.address_id, extra.media_url) == ("PJU-17", "https://fms.example/p.jpg")


def test_list_and_number_attributes_are_typed():
    sub = T.subcategory("lingkungan.sampah")
    assert mapping.check_attributes(sub, {"jenis": ["tps-penuh,dibakar", "tps-penuh"]}) == {
        "jenis": ["tps-penuh", "dibakar"]}
    school = T.subcategory("pendidikan.pungutan-sekolah")
    assert mapping.check_attributes(school, {"nama-sekolah": ["SDN 3"], "jumlah": ["150000"]}) == {
        "nama-sekolah": "SDN 3", "jumlah": 150000.0}
    with pytest.raises(Open311Error, match="must be a number"):
        mapping.check_attributes(school, {"nama-sekolah": ["SDN 3"], "jumlah": ["banyak"]})
    with pytest.raises(Open311Error, match="must be among"):
        mapping.check_attributes(sub, {"jenis": ["meledak"]})


@pytest.mark.parametrize("fields,status", [
    ({"service_code": None}, 400), ({"service_code": "x.y"}, 404), ({"lat": None}, 400),
    ({"lat": None, "long": None}, 400), ({"long": "200"}, 400), ({"attribute[ukuran]": None}, 400),
    ({"phone": "telepon saya"}, 400), ({"email": "a@"}, 400), ({"media_url": "file:///etc"}, 400),
    ({"description": "x" * 5001}, 400),
])
def test_bad_forms_are_refused_with_the_spec_status(fields, status):
    with pytest.raises(Open311Error) as refused:
        mapping.submission(_form(**fields), T, None)
    assert refused.value.status == status


@pytest.mark.parametrize("status,wanted,action", [
    (Status.FOLLOWED_UP, "OPEN", Action.CITIZEN_REPLY), (Status.RESOLVED, "CLOSED", Action.CLOSE),
    (Status.POSTPONED, "OPEN", Action.PROVIDE_INFO), (Status.CLOSED, "OPEN", Action.REOPEN),
])
def test_a_reporters_update_is_the_citizens_action(status, wanted, action):
    assert mapping.update_action(status, wanted, "Masih rusak")[0] is action


@pytest.mark.parametrize("status,wanted", [(Status.DISPOSED, "OPEN"), (Status.CLOSED, "CLOSED"),
                                           (Status.FOLLOWED_UP, "MAYBE")])
def test_an_update_that_cannot_apply_is_a_400(status, wanted):
    with pytest.raises(Open311Error) as refused:
        mapping.update_action(status, wanted, "teks")
    assert refused.value.status == 400
