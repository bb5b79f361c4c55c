"""Answers to citizens who wrote by SMS, WhatsApp or social media, worded from Jinja2 templates
in Bahasa Indonesia or English (`templates/channel_<outcome>.<lang>.txt.j2`, the whole file is
the text, on one line).

Length policy: every answer fits one SMS, 160 characters of the GSM 03.38 (GSM-7) alphabet,
with a tracking number of up to 12 digits; the unit tests hold every template to it. A text
that would not fit (a template edited too long) is cut at a word boundary with "..." rather
than split into parts the adapter may bill separately; characters outside GSM-7 (which would
force UCS-2 and 70-character segments) are replaced by their nearest GSM-7 spelling.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

_env = Environment(loader=PackageLoader("notify", "templates"), undefined=StrictUndefined,
                   autoescape=False)

SMS_LIMIT = 160
TEMPLATES = {"created": "channel_created", "replied": "channel_replied",
             "info_added": "channel_info_added", "refused": "channel_refused"}

# GSM 03.38: the basic table (1 septet each) and the extension table (escape + 1: 2 each).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")
_NEAREST = {"…": "...", "‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-",
            "\u00a0": " ", "\t": " "}
_ANSWERS = uuid.UUID("0c8d3f52-7f1e-4b8e-9b35-2f4c1d7a6e90")


def template_for(outcome: str) -> str:
    return TEMPLATES[outcome]


def render_answer(outcome: str, language: str, context: dict[str, Any]) -> str:
    """The answer to a channel message, in the citizen's language (Indonesian by default),
    within one SMS."""
    lang = language if language in ("id", "en") else "id"
    text = _env.get_template(f"{template_for(outcome)}.{lang}.txt.j2").render(**context)
    return fit_sms(re.sub(r"\s+", " ", text).strip())


def gsm7(text: str) -> str:
    """`text` in the GSM-7 alphabet: typographic characters spelled plainly, others dropped."""
    spelled = "".join(_NEAREST.get(ch, ch) for ch in text)
    return "".join(ch for ch in spelled if ch in _GSM_BASIC or ch in _GSM_EXTENDED)


def sms_length(text: str) -> int:
    """Septets `text` takes in GSM-7 (an extension character takes two)."""
    return sum(2 if ch in _GSM_EXTENDED else 1 for ch in text)


def fit_sms(text: str, limit: int = SMS_LIMIT) -> str:
    text = gsm7(text)
    if sms_length(text) <= limit:
        return text
    cut = text
    while sms_length(cut) > limit - 3:
        cut = cut[:-1]
    if " " in cut:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "..."


def answer_id(adapter: str, in_reply_to: str) -> str:
    """One id per answered message, the same however often it is produced: adapters dedupe on it."""
    return str(uuid.uuid5(_ANSWERS, f"{adapter}:{in_reply_to}"))
