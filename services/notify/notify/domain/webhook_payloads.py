"""What a front end's webhook receives: a Standard Webhooks JSON payload (`type`, `timestamp`,
`data`) about a complaint it submitted. Never a name, e-mail, phone or NIK: the front end knows
its citizen already, and a payload may be logged anywhere along the way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

# The message kind's fields a front end may show its citizen.
_SAFE_FIELDS = ("opd_name", "note", "evidence", "into_tracking_number", "reason", "responsible",
                "auto", "due_at", "title")


def event_type(kind: str) -> str:
    """'complaint_assigned' -> 'complaint.assigned'; 'auto_close_coming' -> 'complaint.auto_close_coming'."""
    name = kind.removeprefix("complaint_")
    return f"complaint.{name}"


def payload(kind: str, occurred_at: datetime, complaint_id: str, tracking_number: str,
            status_url: str, context: dict[str, Any]) -> dict[str, Any]:
    data = {"complaint_id": complaint_id, "tracking_number": tracking_number,
            "status_url": status_url, "occurred_at": occurred_at.isoformat(),
            **{k: context[k] for k in _SAFE_FIELDS if context.get(k) is not None}}
    return {"type": event_type(kind), "timestamp": occurred_at.isoformat(), "data": data}
