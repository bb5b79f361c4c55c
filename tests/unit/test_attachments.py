"""Attachments judged by their bytes: what is accepted, what is refused and why, and that a
kept photo or video carries nothing of its author (no EXIF, GPS, XMP, comments, location boxes)."""

from __future__ import annotations

import io
import struct
import uuid
from datetime import datetime, timezone

import pytest
from PIL import ExifTags, Image

from intake import handlers
from intake.adapters.blobs import InMemoryBlobStore, address_of
from intake.adapters.uow import IntakeInMemoryUnitOfWork
from backbone.pii import PiiCipher
from contracts.lifecycle import Role
from intake.domain.actors import Actor
from intake.domain.tokens import AccessTokens
from intake.schemas import SubmitComplaintRequest
from intake.domain.attachments import (
    AttachmentRefused, Limits, clean, neutralise_mp4_metadata, sanitise_filename, sniff,
)

pytestmark = pytest.mark.unit
LIMITS = Limits()
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
SUBMIT_DEPS = handlers.SubmitDeps(clock=lambda: NOW, cipher=PiiCipher(PiiCipher.new_key()),
                                  tokens=AccessTokens(b"s" * 32), default_jurisdiction="kota-contoh")


def gps_jpeg(size=(40, 20), orientation: int | None = 6) -> bytes:
    """A photo as a phone writes it: camera make, GPS position, orientation, XMP, a comment."""
    image = Image.new("RGB", size, "blue")
    image.paste((255, 0, 0), (0, 0, 10, 10))   # a red corner, to see the rotation
    exif = Image.Exif()
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.BodySerialNumber] = "SN-0042"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "S", 2: (6.0, 54.0, 30.0), 3: "E",
                                               4: (107.0, 36.0, 0.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"HP Siti Rahayu",
               xmp=b"<x:xmpmeta><exif:GPSLatitude>6,54S</exif:GPSLatitude></x:xmpmeta>")
    return out.getvalue()


def image_bytes(fmt: str, mode="RGB", size=(16, 16), **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "red" if mode != "P" else 1).save(out, fmt, **save)
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(56) + b"\x02\x00\x3e\x00" + bytes(200)
PE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(52) + b"\x40\x00\x00\x00PE\x00\x00" + bytes(200)


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mp4_with_location() -> bytes:
    ftyp = box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41")
    xyz = box(b"\xa9xyz", b"\x00\x12\x15\xc7-06.9083+107.6000/")
    udta = box(b"udta", xyz)
    trak = box(b"trak", box(b"tkhd", bytes(84)) + box(b"udta", box(b"name", b"Siti")))
    moov = box(b"moov", box(b"mvhd", bytes(100)) + trak + udta
               + box(b"meta", b"\x00\x00\x00\x00" + box(b"keys", b"com.apple.quicktime.location.ISO6709")))
    return ftyp + moov + box(b"mdat", b"\x01\x02\x03\x04" * 16)


# ---- sniffing


@pytest.mark.parametrize("data, expected", [
    (image_bytes("JPEG"), "image/jpeg"), (image_bytes("PNG"), "image/png"),
    (image_bytes("WEBP"), "image/webp"), (PDF, "application/pdf"),
    (mp4_with_location(), "video/mp4"),
    (box(b"ftyp", b"qt  \x00\x00\x02\x00qt  ") + box(b"mdat", b"x" * 16), "video/quicktime"),
    (bytes.fromhex("1a45dfa3") + b"\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm"
     + bytes(40), "video/webm"),
])
def test_allowed_types_are_recognised_from_their_bytes(data, expected):
    assert sniff(data) == expected
    assert clean(data, "application/octet-stream", "x", LIMITS).content_type == expected


@pytest.mark.parametrize("data, what", [
    (ELF, "ELF executable"), (PE, "Windows executable"), (b"#!/bin/sh\nrm -rf /\n", "script"),
    (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "HTML"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', ""),
    (b"PK\x03\x04" + bytes(60), ""),
    (b"GIF89a" + bytes(40), ""),
])
def test_anything_else_declared_as_an_image_is_refused_saying_what_it_is(data, what):
    with pytest.raises(AttachmentRefused) as refused:
        clean(data, "image/png", "foto.png", LIMITS)
    assert refused.value.status == 415 and refused.value.slug == "unsupported-file-type"
    assert what.lower() in refused.value.reason.lower()


def test_a_declared_type_of_another_family_is_refused():
    with pytest.raises(AttachmentRefused) as refused:
        clean(PDF, "image/png", "foto.png", LIMITS)
    assert refused.value.status == 415 and refused.value.slug == "declared-type-mismatch"
    # within a family the sniffed subtype wins: a PNG sent as image/jpeg is kept as PNG
    assert clean(image_bytes("PNG"), "image/jpeg", None, LIMITS).content_type == "image/png"


def test_sizes_are_limited_per_kind_and_empty_files_refused():
    small = Limits(image_bytes=1000, pdf_bytes=100, video_bytes=5000)
    with pytest.raises(AttachmentRefused) as refused:
        clean(PDF + b"%" * 200, "application/pdf", None, small)
    assert refused.value.status == 413
    with pytest.raises(AttachmentRefused) as refused:
        clean(b"", None, None, LIMITS)
    assert refused.value.status == 422


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    bomb = image_bytes("PNG", mode="1", size=(20_000, 20_000), optimize=True)
    assert len(bomb) < 200_000
    with pytest.raises(AttachmentRefused) as refused:
        clean(bomb, "image/png", None, Limits(max_pixels=10_000_000))
    assert refused.value.status == 422 and refused.value.slug == "image-too-large"


def test_a_truncated_image_is_refused_not_crashed_on():
    with pytest.raises(AttachmentRefused) as refused:
        clean(gps_jpeg()[:200], "image/jpeg", None, LIMITS)
    assert refused.value.slug == "unreadable-image"


# ---- stripping


def test_a_photo_loses_exif_gps_xmp_and_comments_and_is_turned_upright():
    original = gps_jpeg()
    assert b"Exif" in original and b"Siti" in original and b"xmpmeta" in original
    kept = clean(original, "image/jpeg", "IMG_0001.jpg", LIMITS)
    assert kept.content_type == "image/jpeg"
    for marker in (b"Exif", b"GPS", b"Canon", b"SN-0042", b"Siti", b"xmpmeta", b"ICC_PROFILE"):
        assert marker not in kept.data
    with Image.open(io.BytesIO(kept.data)) as image:
        assert not image.getexif() and not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert "exif" not in image.info and "comment" not in image.info and "xmp" not in image.info
        assert image.size == (20, 40)      # orientation 6 applied: 40x20 became 20x40
        red = image.convert("RGB").getpixel((15, 5))
        assert red[0] > 200 and red[2] < 60   # the red corner is now top right


def camera_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "S", 2: (6.0, 54.0, 30.0)})
    return exif


@pytest.mark.parametrize("fmt, mode, save", [
    ("PNG", "RGBA", {"exif": camera_exif()}),
    ("PNG", "P", {"transparency": 0}),
    ("WEBP", "RGB", {"exif": camera_exif()}),
])
def test_png_and_webp_are_re_encoded_without_metadata(fmt, mode, save):
    original = image_bytes(fmt, mode=mode, **save)
    kept = clean(original, None, None, LIMITS)
    assert b"Canon" in original or mode == "P"
    assert b"Canon" not in kept.data
    assert b"Exif" not in kept.data and b"eXIf" not in kept.data
    with Image.open(io.BytesIO(kept.data)) as image:
        assert not image.getexif()


def test_the_stored_address_is_the_hash_of_the_cleaned_bytes():
    kept = clean(gps_jpeg(), "image/jpeg", None, LIMITS)
    assert address_of(kept.data) != address_of(gps_jpeg())


def test_mp4_location_and_user_data_boxes_become_free_space_without_moving_anything():
    original = mp4_with_location()
    kept = clean(original, "video/mp4", "VID.mp4", LIMITS)
    assert len(kept.data) == len(original)
    assert kept.data.endswith(b"\x01\x02\x03\x04" * 16)          # mdat untouched, same offset
    for marker in (b"\xa9xyz", b"+107.6000", b"ISO6709", b"udta", b"Siti"):
        assert marker not in kept.data
    assert kept.data.count(b"free") == 3


def test_an_unreadable_mp4_is_refused():
    broken = box(b"ftyp", b"isom\x00\x00\x02\x00isom") + struct.pack(">I4s", 9999, b"moov")
    with pytest.raises(AttachmentRefused) as refused:
        neutralise_mp4_metadata(broken)
    assert refused.value.slug == "unreadable-video"


def test_file_names_are_reduced_to_a_display_name():
    assert sanitise_filename("C:\\Users\\siti\\foto\x00.jpg") == "foto.jpg"
    assert sanitise_filename("../../etc/passwd") == "passwd"
    assert sanitise_filename("") is None and sanitise_filename("..") is None


# ---- handlers with the twins


def deps(per_complaint=10) -> handlers.AttachDeps:
    return handlers.AttachDeps(blobs=InMemoryBlobStore(), limits=Limits(per_complaint=per_complaint),
                               clock=lambda: NOW)


async def submitted(uow, anonymous: bool) -> tuple[handlers.Caller, str]:
    cmd = SubmitComplaintRequest.model_validate({
        "title": "Jalan berlubang", "anonymous": anonymous,
        "description": "Jalan berlubang besar di depan sekolah, bahaya."}).to_command()
    async with uow:
        receipt = await handlers.submit_complaint(cmd, uow, SUBMIT_DEPS)
    caller = handlers.Caller(actor=Actor.citizen(), citizen_token=receipt.access_token)
    return caller, receipt.complaint.tracking_number


@pytest.mark.parametrize("anonymous", [True, False])
async def test_files_are_stored_cleaned_and_an_anonymous_report_keeps_no_file_name(anonymous):
    uow, attach = IntakeInMemoryUnitOfWork(), deps()
    caller, tracking_number = await submitted(uow, anonymous)
    stored = await handlers.store_files([(gps_jpeg(), "image/jpeg", "IMG_siti_rahayu.jpg")], attach)
    async with uow:
        _, files = await handlers.add_attachments(tracking_number, stored, caller, uow, attach,
                                                  note="foto lokasi")
    (only,) = files
    assert only.uploaded_by_role == "citizen" and only.uploaded_by == "citizen"
    assert only.filename == (None if anonymous else "IMG_siti_rahayu.jpg")
    blob = await attach.blobs.get(only.sha256)
    assert b"Exif" not in blob and address_of(blob) == only.sha256 and only.size == len(blob)
    async with uow:
        assert await handlers.read_attachment(tracking_number, only.id, caller, uow) == only


async def test_only_callers_who_may_read_the_complaint_attach_or_download():
    uow, attach = IntakeInMemoryUnitOfWork(), deps()
    caller, tracking_number = await submitted(uow, True)
    stranger = handlers.Caller(actor=Actor.citizen(), citizen_token="not-the-token")
    other_opd = handlers.Caller(actor=Actor(Role.OPD, subject="x", opd_id="dlh"))
    stored = await handlers.store_files([(PDF, "application/pdf", None)], attach)
    async with uow:
        _, (only,) = await handlers.add_attachments(tracking_number, stored, caller, uow, attach)
    for who in (stranger, other_opd):
        async with uow:
            with pytest.raises(handlers.NotFound):
                await handlers.add_attachments(tracking_number, stored, who, uow, attach)
            with pytest.raises(handlers.NotFound):
                await handlers.read_attachment(tracking_number, only.id, who, uow)
    async with uow:
        with pytest.raises(handlers.NotFound):
            await handlers.read_attachment(tracking_number, uuid.uuid4(), caller, uow)


async def test_a_complaint_holds_a_bounded_number_of_files():
    uow, attach = IntakeInMemoryUnitOfWork(), deps(per_complaint=2)
    caller, tracking_number = await submitted(uow, False)
    stored = await handlers.store_files([(PDF, None, None)] * 2, attach)
    async with uow:
        await handlers.add_attachments(tracking_number, stored, caller, uow, attach)
    async with uow:
        with pytest.raises(handlers.TooManyAttachments):
            await handlers.check_may_attach(tracking_number, caller, uow, attach, 1)
        with pytest.raises(handlers.TooManyAttachments):
            await handlers.add_attachments(tracking_number, stored[:1], caller, uow, attach)
    assert len(attach.blobs.blobs) == 1, "the same bytes are stored once"


async def test_one_bad_file_refuses_the_whole_request_before_anything_is_stored():
    attach = deps()
    with pytest.raises(AttachmentRefused):
        await handlers.store_files([(gps_jpeg(), "image/jpeg", None), (ELF, "image/png", None)],
                                   attach)
    assert attach.blobs.blobs == {}


# ---- settings


def test_intake_will_not_start_without_somewhere_to_keep_attachments(monkeypatch, capsys):
    from backbone.settings import load_settings
    from intake.config import IntakeSettings

    for name, value in {"DATABASE_URL": "postgresql://db/lapor", "PII_KEY": "k",
                        "JWT_JWKS_URL": "https://sso.example.id/certs"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ATTACHMENTS_DIR", raising=False)
    with pytest.raises(SystemExit):
        load_settings(IntakeSettings)
    assert "ATTACHMENTS_DIR" in capsys.readouterr().err
    monkeypatch.setenv("ATTACHMENTS_STORE", "s3")
    with pytest.raises(SystemExit):
        load_settings(IntakeSettings)
    assert "S3_BUCKET" in capsys.readouterr().err
    monkeypatch.setenv("S3_BUCKET", "lapor-lampiran")
    monkeypatch.setenv("S3_SECRET_ACCESS_KEY", "rahasia")
    settings = load_settings(IntakeSettings)
    assert settings.s3_bucket == "lapor-lampiran" and "rahasia" not in repr(settings)
    assert settings.upload_body_bytes() == 5 * 30 * 1024 * 1024 + settings.max_body_bytes
