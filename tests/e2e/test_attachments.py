"""Attachments on the real platform: an anonymous citizen's photo keeps no EXIF or GPS on its
way in, in the store and on its way out; an executable dressed as a PNG is refused with a
problem document; only who may read the complaint may download its files; OPD staff add
evidence to a complaint later."""

from __future__ import annotations

import hashlib
import io
import json
import uuid

import httpx
import pytest
from PIL import ExifTags, Image

from devstack.stack import wait_until

pytestmark = pytest.mark.e2e
PUPR, DLH = "dinas-pupr", "dlh"
ROAD = {"title": "Jalan berlubang di Jl. Merdeka", "anonymous": True,
        "description": "Mhn diperbaiki, jalan berlubang besar di depan SDN 3 sdh dua minggu."}
ELF_AS_PNG = b"\x7fELF\x02\x01\x01\x00" + bytes(56) + b"\x02\x00\x3e\x00" + bytes(400)


def gps_photo() -> bytes:
    image = Image.new("RGB", (64, 48), "gray")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Samsung"
    exif[ExifTags.Base.Model] = "SM-A546E"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "S", 2: (6.0, 54.0, 30.0), 3: "E",
                                               4: (107.0, 36.0, 0.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"Siti Rahayu")
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    return data


def evidence_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), "green").save(out, "PNG")
    return out.getvalue()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def staff(platform, role: str, opd: str | None = None) -> dict[str, str]:
    return bearer(platform.staff_token(role, opd=opd, subject=f"{role}-{uuid.uuid4().hex[:6]}"))


def assert_no_metadata(data: bytes) -> None:
    for marker in (b"Exif", b"GPS", b"Samsung", b"SM-A546E", b"Siti"):
        assert marker not in data, marker
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG" and image.size == (64, 48)
        assert not image.getexif() and not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)


def test_an_anonymous_photo_is_stored_and_served_without_any_exif(platform, api: httpx.Client):
    photo = gps_photo()
    answer = api.post("/v1/complaints", data={"complaint": json.dumps(ROAD)},
                      files=[("file", ("IMG_20261123_siti.jpg", photo, "image/jpeg"))])
    assert answer.status_code == 201, answer.text
    receipt = answer.json()
    assert receipt["tracking_number"] and answer.headers["Location"].endswith(receipt["tracking_number"])
    me = bearer(receipt["access_token"])
    tn = receipt["tracking_number"]

    view = api.get(f"/v1/complaints/{tn}", headers=me).json()
    assert view["anonymous"] is True
    (attachment,) = view["attachments"]
    assert attachment["content_type"] == "image/jpeg" and attachment["uploaded_by_role"] == "citizen"
    assert "IMG_20261123_siti" not in json.dumps(view)

    download = api.get(_path(attachment["url"]), headers=me)
    assert download.status_code == 200
    assert download.headers["content-type"] == "image/jpeg"
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "siti" not in download.headers["content-disposition"].lower()
    assert len(download.content) == attachment["size"]
    assert_no_metadata(download.content)

    # What is kept on disk is the cleaned photo, addressed by its own hash.
    address = hashlib.sha256(download.content).hexdigest()
    stored = platform.c.home / "attachments" / address[:2] / address[2:4] / address
    assert stored.read_bytes() == download.content
    assert hashlib.sha256(photo).hexdigest() not in {p.name for p in stored.parent.parent.parent.rglob("*")}

    # Routing disposes the road to Dinas PUPR: its staff may download, another OPD may not.
    wait_until(lambda: api.get(f"/v1/complaints/{tn}", headers=me).json()["status"] == "disposed",
               60, f"{tn} disposed")
    assert api.get(_path(attachment["url"]), headers=staff(platform, "opd", PUPR)).status_code == 200
    other = staff(platform, "opd", DLH)
    refused = api.get(_path(attachment["url"]), headers=other)
    assert refused.status_code == 404
    assert refused.headers["content-type"] == "application/problem+json"
    assert api.get(_path(attachment["url"]), headers=bearer("x" * 43)).status_code == 404
    assert api.get(_path(attachment["url"])).status_code == 401

    # Later: PUPR adds evidence with a note; the other OPD cannot add anything.
    added = api.post(f"/v1/complaints/{tn}/attachments", headers=staff(platform, "opd", PUPR),
                     data={"note": "Foto setelah penambalan"},
                     files=[("file", ("after.png", evidence_png(), "image/png"))])
    assert added.status_code == 201, added.text
    assert [a["uploaded_by_role"] for a in added.json()["items"]] == ["citizen", "opd"]
    assert api.post(f"/v1/complaints/{tn}/attachments", headers=other,
                    files=[("file", ("x.png", evidence_png(), "image/png"))]).status_code == 404
    resolved = api.post(f"/v1/complaints/{tn}/actions", headers=staff(platform, "opd", PUPR),
                        json={"action": "resolve", "evidence": "Ditambal, lihat foto lampiran."})
    assert resolved.status_code == 200, resolved.text
    assert len(resolved.json()["attachments"]) == 2
    citizen_view = api.get(f"/v1/complaints/{tn}", headers=me).json()
    assert citizen_view["status"] == "resolved"
    assert [a["content_type"] for a in citizen_view["attachments"]] == ["image/jpeg", "image/png"]


def test_an_executable_declared_as_a_png_is_refused(api: httpx.Client):
    filed = api.post("/v1/complaints", data={"complaint": json.dumps(ROAD)},
                     files=[("file", ("foto.png", ELF_AS_PNG, "image/png"))])
    assert filed.status_code == 415, filed.text
    problem = filed.json()
    assert filed.headers["content-type"] == "application/problem+json"
    assert problem["status"] == 415 and problem["type"].endswith("/unsupported-file-type")
    assert "ELF executable" in problem["detail"]
    assert "tracking_number" not in problem

    receipt = api.post("/v1/complaints", json=ROAD).json()    # the JSON body still works as before
    later = api.post(f"/v1/complaints/{receipt['tracking_number']}/attachments",
                     headers=bearer(receipt["access_token"]),
                     files=[("file", ("foto.png", ELF_AS_PNG, "image/png"))])
    assert later.status_code == 415 and later.json()["type"].endswith("/unsupported-file-type")
    view = api.get(f"/v1/complaints/{receipt['tracking_number']}",
                   headers=bearer(receipt["access_token"])).json()
    assert view["attachments"] == []


def test_a_bad_complaint_part_is_named_like_a_bad_json_body(api: httpx.Client):
    answer = api.post("/v1/complaints", data={"complaint": json.dumps({**ROAD, "title": "x"})},
                      files=[("file", ("a.png", evidence_png(), "image/png"))])
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["complaint.title"]


def _path(url: str) -> str:
    """The URL's path: the receipt's URLs name the public base URL."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]
