"""Citizens' messages from SMS, WhatsApp and social media, read as intake must read them: pure
rules, no I/O.

A message that names a tracking number is about that complaint (a reply, or the information an
operator asked for); any other message is a new complaint, whose title is derived from its text.
Citizens write informally ("#1000123", "no 1000123", "laporan 1000123: ...", "1000123 jalannya
masih rusak"), so a number counts as a tracking number only where a citizen would put one: after
'#', after a word that names a report or a number, or at the very start. A bare number elsewhere
(an amount, a phone number, a NIK) is never taken for one. Senders are remembered as a keyed
hash of their address, never in clear, so "is this the same sender" can be answered.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from contracts.events import PHONE_CHANNELS
from contracts.lifecycle import Action, Status

# LAPOR! tracking numbers are numeric and sequential: 7 to 12 digits, never a leading zero
# (a leading zero is a national phone number), and never part of a longer number (a NIK).
_NUMBER = r"(?<![0-9])([1-9][0-9]{6,11})(?![0-9])"
_KEYWORDS = (r"laporan|lapor|pengaduan|aduan|tiket|ticket|nomor\s+lacak|no\.?\s*lacak|lacak"
             r"|nomor|nomer|nmr|no|ref|re|id|tn|track(?:ing)?(?:\s+number)?|report|complaint")
_REFERENCE = re.compile(
    rf"#\s*{_NUMBER}"                                              # '#1000123'
    rf"|(?<![\w])(?:{_KEYWORDS})\s*(?:[.:#]\s*)?(?:no\.?\s*)?{_NUMBER}"  # 'no 1000123', 'laporan no. 1000123'
    rf"|^\s*{_NUMBER}",                                            # '1000123 jalannya ...'
    re.IGNORECASE,
)
_SEPARATORS = " \t\r\n:;,.-–—)("

MIN_TEXT = 20           # what a complaint's description needs (as over HTTP)
MAX_TEXT = 5000
TITLE_MIN, TITLE_MAX = 5, 80
# A full stop ends a sentence only after a word that is not a common abbreviation ("Jl.",
# "No.", "Yth.") and before a space or the end ("3.5" goes on).
_SENTENCE_END = re.compile(r"[!?\n]|(?<=(\w))\.(?=\s|$)")
_ABBREVIATIONS = frozenset({
    "jl", "jln", "no", "yth", "mhn", "bpk", "bp", "ibu", "kec", "kel", "rt", "rw", "dll", "dsb",
    "tdk", "sdh", "blm", "gg", "kab", "kota", "prov", "dr", "drs", "ir", "hj", "h", "st", "tsb",
})


@dataclass(frozen=True)
class Reference:
    """A tracking number named in a message, and the message without it (the citizen's note)."""

    tracking_number: str
    note: str


def find_reference(text: str) -> Reference | None:
    """The first tracking number the text names, or None."""
    match = _REFERENCE.search(text)
    if match is None:
        return None
    number = next(group for group in match.groups() if group)
    before, after = text[:match.start()], text[match.end():]
    note = (before.strip(_SEPARATORS) + " " + after.strip(_SEPARATORS)).strip()
    return Reference(tracking_number=number, note=_squeeze(note))


def derive_title(text: str) -> str:
    """A title from the first sentence, cut at a word boundary (5 to 80 characters). A first
    'sentence' shorter than the minimum ('Yth.', 'Mhn.') is not a sentence: read on."""
    flat = _squeeze(text)
    title = flat
    for end in _SENTENCE_END.finditer(text):
        words = re.findall(r"\w+", text[:end.start()])
        if end.group() == "." and words and words[-1].lower() in _ABBREVIATIONS:
            continue
        candidate = _squeeze(text[:end.end() if end.group() in "!?" else end.start()])
        if len(candidate) >= 15:
            title = candidate
            break
    if len(title) > TITLE_MAX:
        cut = title[:TITLE_MAX - 1]
        if " " in cut[TITLE_MAX // 2:]:
            cut = cut[:cut.rindex(" ")]
        title = cut.rstrip(_SEPARATORS) + "…"
    return title if len(title) >= TITLE_MIN else (flat[:TITLE_MAX] or "Pengaduan")


def describe(text: str, media_urls: list[str]) -> str:
    """The complaint's description: the citizen's text, then the links of what they attached
    (kept as links: intake never downloads what an adapter serves)."""
    if not media_urls:
        return text.strip()
    links = "\n".join(f"- {url}" for url in media_urls)
    return f"{text.strip()}\n\nLampiran dari kanal:\n{links}"


@dataclass(frozen=True)
class FollowUp:
    """What a message naming a complaint does: an action of the citizen, or a refusal."""

    action: Action | None = None
    refusal: str | None = None       # contracts.events.ChannelRefusal
    detail: str | None = None


_NOT_FOUND = FollowUp(refusal="not_found", detail="no such complaint from this sender")


def follow_up(status: Status | None, same_sender: bool, note: str) -> FollowUp:
    """Reply when the OPD waits on the citizen (followed up or resolved), added information when
    an operator asked for it (postponed); otherwise refused. An unknown number and another
    sender's complaint get the same answer, so numbers cannot be probed."""
    if status is None or not same_sender:
        return _NOT_FOUND
    if status in (Status.FOLLOWED_UP, Status.RESOLVED):
        action = Action.CITIZEN_REPLY
    elif status is Status.POSTPONED:
        action = Action.PROVIDE_INFO
    else:
        return FollowUp(refusal="not_awaiting_reply",
                        detail=f"the complaint is {status.value}: nothing is asked of the citizen")
    if not note:
        return FollowUp(refusal="empty_reply", detail="the message names the complaint only")
    if len(note) > MAX_TEXT:
        return FollowUp(refusal="too_long", detail=f"more than {MAX_TEXT} characters")
    return FollowUp(action=action)


def new_complaint_refusal(text: str) -> FollowUp | None:
    """Why a message cannot become a complaint (too short to act on, too long), or None."""
    length = len(text.strip())
    if length < MIN_TEXT:
        return FollowUp(refusal="too_short", detail=f"fewer than {MIN_TEXT} characters")
    if length > MAX_TEXT:
        return FollowUp(refusal="too_long", detail=f"more than {MAX_TEXT} characters")
    return None


def sender_address(channel: str, sender: str) -> str:
    """One citizen, one address: a phone number is the same person over SMS and WhatsApp; a
    handle belongs to its network and is compared without case."""
    if channel in PHONE_CHANNELS:
        return "phone:" + sender
    return f"{channel}:{sender.strip().lower()}"


def national_phone(phone: str | None) -> str | None:
    """A phone as +62... when it was written nationally ('0812...') or without '+', so a number
    given on the web can be recognised when the same citizen writes by SMS."""
    if not phone:
        return None
    digits = re.sub(r"[^0-9+]", "", phone)
    if digits.startswith("0"):
        return "+62" + digits[1:]
    return digits if digits.startswith("+") else "+" + digits


class SenderHashes:
    """Keyed hashes of senders' addresses (HMAC-SHA256): comparable, not reversible without the
    secret, so intake's tables and the record keys never hold an address in clear."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the sender-hash secret must have at least 16 bytes")
        self._secret = secret

    def of(self, channel: str, sender: str) -> str:
        address = sender_address(channel, sender)
        return hmac.new(self._secret, b"channel-sender:" + address.encode(), hashlib.sha256).hexdigest()


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
