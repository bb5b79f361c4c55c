"""Messages to citizens, rendered from Jinja2 templates in Bahasa Indonesia or English.

Each template is `templates/<name>.<lang>.txt.j2`; its first line is the subject, the rest the
body. Unknown languages fall back to Bahasa Indonesia.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

_env = Environment(
    loader=PackageLoader("notify", "templates"), undefined=StrictUndefined,
    autoescape=False, keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def render(template: str, language: str, context: dict[str, Any]) -> Message:
    lang = language if language in ("id", "en") else "id"
    text = _env.get_template(f"{template}.{lang}.txt.j2").render(**context)
    subject, _, body = text.partition("\n")
    return Message(subject=subject.strip(), body=body.lstrip("\n"))


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff for a delivery that failed `attempts` times: 5 s, 10 s, ... 1 h."""
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 3600))
