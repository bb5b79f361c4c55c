"""Attachments: what a citizen or an officer may attach to a complaint, judged by its bytes.

The declared Content-Type and file name are the client's claims, so the real type is sniffed
from the content (puremagic's signature tables, then a structural check of our own); only
photos (JPEG, PNG, WebP), PDF and short videos (MP4, QuickTime, WebM) are kept. A declared type
of another family (say `image/png` on an ELF executable) is refused rather than corrected: a
client that lies about one thing may lie about more.

Anonymity must survive an attachment (domain.md). A photo carries its author's GPS position,
camera serial and time in EXIF/XMP, so every image is decoded and re-encoded with Pillow from
its pixels alone (EXIF orientation applied first, then nothing of the metadata is written:
no EXIF, GPS, XMP, ICC, comments or text chunks); the re-encoded bytes are what is stored and
hashed. MP4/QuickTime keep their location in `udta`/`meta` boxes (`©xyz`, the Apple
`ISO6709` key); those boxes are turned into `free` boxes of the same size, so no sample
offset moves and the video still plays. PDF and WebM are kept as sent (see the README's
limitations).

Pure: bytes in, bytes out, no I/O.
"""

from __future__ import annotations

import io
import re
import struct
import uuid
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import puremagic
from PIL import Image, ImageOps, UnidentifiedImageError

Kind = Literal["image", "pdf", "video"]

# The sniffed type decides the kind; nothing else is kept.
ALLOWED: dict[str, Kind] = {
    "image/jpeg": "image", "image/png": "image", "image/webp": "image",
    "application/pdf": "pdf",
    "video/mp4": "video", "video/quicktime": "video", "video/webm": "video",
}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp",
              "application/pdf": "pdf", "video/mp4": "mp4", "video/quicktime": "mov",
              "video/webm": "webm"}
_PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
# Declared types a client sends when it does not know: then only the sniffed type counts.
_UNKNOWN_DECLARED = {"", "application/octet-stream", "binary/octet-stream"}


@dataclass(frozen=True)
class Limits:
    """Per kind, in bytes (before re-encoding), and how many files one complaint may hold."""

    image_bytes: int = 10 * 1024 * 1024
    pdf_bytes: int = 10 * 1024 * 1024
    video_bytes: int = 30 * 1024 * 1024
    max_pixels: int = 40_000_000          # a 40-megapixel photo; more is a decompression bomb
    per_complaint: int = 10

    def for_kind(self, kind: Kind) -> int:
        return {"image": self.image_bytes, "pdf": self.pdf_bytes, "video": self.video_bytes}[kind]

    @property
    def largest(self) -> int:
        return max(self.image_bytes, self.pdf_bytes, self.video_bytes)


class AttachmentRefused(Exception):
    """Why a file is not kept; `status` is the HTTP answer (413 size, 415 type, 422 content)."""

    def __init__(self, status: int, slug: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.slug, self.reason = status, slug, reason


@dataclass(frozen=True)
class Cleaned:
    """A file fit to store: its sniffed type and the bytes to keep (re-encoded for images)."""

    content_type: str
    kind: Kind
    data: bytes
    filename: str | None


@dataclass(frozen=True)
class Attachment:
    """One stored file of a complaint, as the `attachments` table keeps it. The blob itself is
    addressed by `sha256`; `filename` is never kept for anonymous reports."""

    id: uuid.UUID
    complaint_id: uuid.UUID
    sha256: str
    content_type: str
    size: int
    uploaded_at: datetime
    uploaded_by_role: str
    uploaded_by: str            # Actor.name: "citizen" for the reporter, never an identity
    filename: str | None = None
    note: str | None = None
    history_action: str | None = None   # "submit" when it came with the complaint


# ---- sniffing


# Named first, whatever else the signature tables guess: the refusals people should recognise.
_NAMED = ((b"\x7fELF", "an ELF executable"), (b"MZ", "a Windows executable"),
          (b"#!", "a script"), (b"\xca\xfe\xba\xbe", "a Mach-O or Java executable"),
          (b"\xcf\xfa\xed\xfe", "a Mach-O executable"))


def _looks_like(data: bytes) -> str:
    """What puremagic takes the bytes for, to say why a file was refused."""
    try:
        match = puremagic.magic_string(data[:8192])
    except (puremagic.PureError, ValueError):
        match = []
    for signature, name in _NAMED:
        if data.startswith(signature):
            return name
    if match:
        best = max(match, key=lambda m: m.confidence)
        return best.name or best.mime_type or best.extension or "an unknown type"
    return "an unknown type"


def _structurally(mime: str, data: bytes) -> bool:
    """Our own check that the bytes start as the type requires, so a signature found somewhere
    inside (or one of puremagic's weaker guesses) never suffices."""
    if mime == "image/jpeg":
        return data.startswith(b"\xff\xd8\xff")
    if mime == "image/png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if mime == "image/webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if mime == "application/pdf":
        return data.startswith(b"%PDF-")
    if mime in ("video/mp4", "video/quicktime"):
        return data[4:8] == b"ftyp"
    if mime == "video/webm":
        return data.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in data[:64]
    return False


def sniff(data: bytes) -> str | None:
    """The allowed type these bytes really are, or None."""
    try:
        matches = puremagic.magic_string(data[:8192])
    except (puremagic.PureError, ValueError):
        return None
    for match in matches:
        mime = match.mime_type
        if mime == "application/x-matroska" or (mime == "" and match.extension == ".3gp"):
            continue
        if mime in ALLOWED and _structurally(mime, data):
            if mime == "video/mp4" and data[8:12] == b"qt  ":
                return "video/quicktime"
            return mime
    return None


def _family(mime: str) -> str:
    mime = mime.split(";")[0].strip().lower()
    if mime.startswith(("image/", "video/")):
        return mime.split("/")[0]
    return mime


def sanitise_filename(name: str | None) -> str | None:
    """A display name only: no path, no control characters, at most 120 characters."""
    if not name:
        return None
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().strip(".")
    return name[:120] or None


def clean(data: bytes, declared_type: str | None, filename: str | None, limits: Limits,
          *, keep_filename: bool = True) -> Cleaned:
    """Judge one file and make it safe to keep, or raise AttachmentRefused."""
    if not data:
        raise AttachmentRefused(422, "empty-file", "The file is empty.")
    if len(data) > limits.largest:
        raise AttachmentRefused(413, "file-too-large",
                                f"A file may have at most {limits.largest} bytes.")
    mime = sniff(data)
    if mime is None:
        raise AttachmentRefused(
            415, "unsupported-file-type",
            f"The file is {_looks_like(data)}; only photos (JPEG, PNG, WebP), PDF and videos "
            "(MP4, QuickTime, WebM) are accepted.")
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in _UNKNOWN_DECLARED and _family(declared) != _family(mime):
        raise AttachmentRefused(
            415, "declared-type-mismatch",
            f"The file was declared as {declared} but its content is {mime}.")
    kind = ALLOWED[mime]
    if len(data) > limits.for_kind(kind):
        raise AttachmentRefused(413, "file-too-large",
                                f"A {kind} may have at most {limits.for_kind(kind)} bytes.")
    if kind == "image":
        data = reencode_image(data, mime, limits.max_pixels)
    elif mime in ("video/mp4", "video/quicktime"):
        data = neutralise_mp4_metadata(data)
    return Cleaned(content_type=mime, kind=kind, data=data,
                   filename=sanitise_filename(filename) if keep_filename else None)


# ---- images


def reencode_image(data: bytes, mime: str, max_pixels: int) -> bytes:
    """The picture only: orientation applied, then saved from its pixels with no metadata.
    Animated images keep their first frame."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[mime]]) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise AttachmentRefused(
                        422, "image-too-large",
                        f"The image has {width}x{height} pixels; at most {max_pixels} are accepted.")
                image.load()
                upright = ImageOps.exif_transpose(image) or image
                pixels = _pixels_only(upright, mime)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise AttachmentRefused(422, "image-too-large", "The image has too many pixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise AttachmentRefused(422, "unreadable-image",
                                "The image could not be decoded; send an unbroken JPEG, PNG or WebP.") from None
    out = io.BytesIO()
    if mime == "image/jpeg":
        pixels.save(out, "JPEG", quality=88, optimize=True)
    elif mime == "image/png":
        pixels.save(out, "PNG", optimize=False)
    else:
        pixels.save(out, "WEBP", quality=85)
    return out.getvalue()


def _pixels_only(image: Image.Image, mime: str) -> Image.Image:
    """A copy in a mode the target format takes, with every metadata field dropped."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if mime == "image/jpeg":
        mode = "L" if image.mode in ("1", "L") else "RGB"
    elif mime == "image/png":
        mode = image.mode if image.mode in ("1", "L", "LA", "RGB", "RGBA", "I", "I;16") else (
            "RGBA" if has_alpha else "RGB")
        if image.mode == "P":
            mode = "RGBA" if has_alpha else "RGB"
    else:
        mode = "RGBA" if has_alpha else "RGB"
    copy = image.convert(mode) if image.mode != mode else image.copy()
    copy.info = {}
    return copy


# ---- MP4 / QuickTime


_CONTAINERS = {b"moov", b"trak"}
_METADATA = {b"udta", b"meta", b"uuid"}


def neutralise_mp4_metadata(data: bytes) -> bytes:
    """Every `udta`, `meta` and `uuid` box (at the top, in `moov` and in each `trak`) becomes a
    `free` box of the same length with zeroed content: GPS (`©xyz`, `ISO6709`), device and
    author fields are gone, and no offset into `mdat` changes."""
    out = bytearray(data)
    try:
        _walk(out, 0, len(out), top=True)
    except (ValueError, struct.error):
        raise AttachmentRefused(422, "unreadable-video",
                                "The video's container could not be read.") from None
    return bytes(out)


def _walk(buf: bytearray, start: int, end: int, *, top: bool = False) -> None:
    pos = start
    while pos < end:
        if end - pos < 8:
            if top and not any(buf[pos:end]):
                return
            raise ValueError("truncated box header")
        size, kind = struct.unpack(">I4s", buf[pos:pos + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", buf[pos + 8:pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise ValueError("bad box size")
        if kind in _METADATA:
            buf[pos + 4:pos + 8] = b"free"
            buf[pos + header:pos + size] = bytes(size - header)
        elif kind in _CONTAINERS:
            _walk(buf, pos + header, pos + size)
        pos += size
