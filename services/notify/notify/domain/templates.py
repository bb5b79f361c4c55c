"""Messages rendered from Jinja2 templates: one per message kind, channel and language, which a
jurisdiction may override.

Where a template is looked up, first match wins:
  1. `<TEMPLATES_DIR>/jurisdictions/<jurisdiction>/<channel>/<name>.<lang>.j2` (a city's own,
     deployed beside the service; no code change),
  2. `<TEMPLATES_DIR>/<channel>/<name>.<lang>.j2`,
  3. the same two paths inside the package (`notify/templates/`),
and the Bahasa Indonesia file when the language has none. Channels are `email` (first line the
subject, the rest the body), `sms` (one line; held to one GSM-7 segment by `fit_sms`) and
`whatsapp` (plain text with WhatsApp's *bold*, up to 1,000 characters). Webhooks are not worded:
they carry a structured payload (see `notify.domain.webhook_payloads`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined

from notify.domain.channel_texts import fit_sms

WORDED_CHANNELS = ("email", "sms", "whatsapp")
LANGUAGES = ("id", "en")
WHATSAPP_LIMIT = 1000


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


class Templates:
    """The template set; `override_dir` is a city's folder (settings.templates_dir), if any."""

    def __init__(self, override_dir: Path | str | None = None) -> None:
        loaders = [FileSystemLoader(str(override_dir))] if override_dir else []
        loaders.append(PackageLoader("notify", "templates"))
        self._env = Environment(loader=ChoiceLoader(loaders), undefined=StrictUndefined,
                                autoescape=False, keep_trailing_newline=True,
                                trim_blocks=True, lstrip_blocks=True)

    def candidates(self, name: str, channel: str, language: str,
                   jurisdiction: str | None) -> list[str]:
        langs = [language, "id"] if language != "id" else ["id"]
        paths = []
        for lang in langs:
            if jurisdiction:
                paths.append(f"jurisdictions/{jurisdiction}/{channel}/{name}.{lang}.j2")
            paths.append(f"{channel}/{name}.{lang}.j2")
        return paths

    def has(self, name: str, channel: str) -> bool:
        try:
            self._env.get_template(f"{channel}/{name}.id.j2")
        except Exception:
            return False
        return True

    def render(self, name: str, channel: str, language: str, context: dict[str, Any],
               jurisdiction: str | None = None) -> Message:
        lang = language if language in LANGUAGES else "id"
        template = self._env.select_template(self.candidates(name, channel, lang, jurisdiction))
        text = template.render(**context)
        if channel == "email":
            subject, _, body = text.partition("\n")
            return Message(subject=subject.strip(),
                           body=re.sub(r"\n{3,}", "\n\n", body.lstrip("\n")).rstrip() + "\n")
        if channel == "sms":
            return Message(subject="", body=fit_sms(re.sub(r"\s+", " ", text).strip()))
        body = re.sub(r"\n{3,}", "\n\n", text).strip()
        if len(body) > WHATSAPP_LIMIT:
            body = body[:WHATSAPP_LIMIT - 3].rsplit(" ", 1)[0] + "..."
        return Message(subject="", body=body)
