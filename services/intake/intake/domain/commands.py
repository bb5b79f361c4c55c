"""What citizens and front ends ask intake to do: imperatives the handlers take, already
validated at the edge (see intake.schemas for the HTTP shape)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

from contracts.events import Location
from intake.domain.complaint import Reporter


@dataclass(frozen=True)
class SubmitComplaint:
    """File a citizen's new complaint."""

    title: str
    description: str
    category: str | None = None
    location: Location | None = None
    channel: Literal["web", "mobile", "sms", "whatsapp", "social", "open311"] = "web"
    jurisdiction: str | None = None
    anonymous: bool = False
    confidential: bool = False
    language: Literal["id", "en"] = "id"
    reporter: Reporter | None = None
    frontend: str | None = None     # the registered front end (API key name) that sent it

    def fingerprint(self) -> str:
        """Canonical JSON of the whole request: a retry with an Idempotency-Key must match it."""
        data = asdict(self) | {"location": self.location.model_dump() if self.location else None}
        return json.dumps(data, sort_keys=True, ensure_ascii=False)
