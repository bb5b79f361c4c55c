"""The order OPD staff work in: overdue first (longest overdue on top), then at risk (sla has
warned on one of its clocks), then the rest by deadline, soonest first; without a deadline,
last, oldest first. Pure: it takes the queue intake gives and the at-risk set sla gives."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

OVERDUE, AT_RISK, ON_TRACK, NO_DEADLINE = "overdue", "at_risk", "on_track", "no_deadline"
_RANK = {OVERDUE: 0, AT_RISK: 1, ON_TRACK: 2, NO_DEADLINE: 3}


def urgency(item: dict, at_risk: set[str], now: datetime) -> str:
    due = item.get("due_at")
    if item.get("overdue") or (due is not None and _moment(due) < now):
        return OVERDUE
    if item["tracking_number"] in at_risk:
        return AT_RISK
    return ON_TRACK if due is not None else NO_DEADLINE


def ordered(items: Iterable[dict], at_risk: set[str], now: datetime) -> list[dict]:
    """Each item with its `urgency`, in working order."""
    marked = [{**item, "urgency": urgency(item, at_risk, now)} for item in items]
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(marked, key=lambda i: (
        _RANK[i["urgency"]],
        _moment(i["due_at"]) if i.get("due_at") else far,
        _moment(i["submitted_at"])))


def _moment(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
