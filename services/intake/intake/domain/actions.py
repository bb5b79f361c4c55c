"""An action taken on a complaint: one command for every lifecycle action, already validated at
the edge (each action's own fields are checked by its HTTP schema); the aggregate checks what
depends on the complaint itself."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.lifecycle import Action


@dataclass(frozen=True)
class TakeAction:
    action: Action
    note: str | None = None
    reason: str | None = None            # reject, archive (one of the fixed list), reopen
    opd_id: str | None = None            # assign, reassign
    opd_name: str | None = None
    suggested_opd_id: str | None = None  # reject: where the OPD thinks it belongs
    evidence: str | None = None          # resolve
    rating: int | None = None            # rate: 1 to 5
    comment: str | None = None           # rate
    into: str | None = None              # merge: the tracking number of the surviving complaint
    responsible: str | None = None       # mark_not_ours: who is responsible instead
    confidence: float | None = None      # assign by routing
    category: str | None = None          # assign by routing: what its classifier read
    report_type: str | None = None       # assign by routing: pengaduan, aspirasi, permintaan_informasi


class ActionRefused(Exception):
    """Allowed by the lifecycle in general, but not for this complaint now (the reopen window
    has passed, it was already rated, that OPD already rejected it, ...): a conflict."""
