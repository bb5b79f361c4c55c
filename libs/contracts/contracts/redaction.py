"""Masking the contact data citizens write into their own text ("hub saya 0812...", an e-mail,
a 16-digit NIK), for every service that shows a complaint's words to someone who must not
learn who wrote them: intake's public view and Open311 answers, routing's per-OPD feeds.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Indonesian numbers as people write them: 0812-3456-7890, +62 812 3456 7890, 62812...
_PHONE = re.compile(r"(?<![\w+])\(?(?:\+?62|0)[\s.()-]{0,2}8(?:[\s.()-]{0,2}\d){7,11}(?!\d)")
_NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")

REDACTED = "[disamarkan]"


def redact(text: str) -> str:
    """The text with e-mail addresses, phone numbers and 16-digit NIKs masked."""
    text = _EMAIL.sub(REDACTED, text)
    text = _NIK.sub(REDACTED, text)
    return _PHONE.sub(REDACTED, text)


def redact_optional(text: str | None) -> str | None:
    return None if text is None else redact(text)
