"""The complaint lifecycle state machine, the one every citizen, OPD and system action is checked
against (see shared/domain.md, "Lifecycle").

Intake owns the canonical status and applies transitions; other services read the rules here so
they never disagree about what is allowed.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    SUBMITTED = "submitted"            # recorded, tracking number issued, awaiting routing
    TRIAGE = "triage"                  # routing was unsure: a human verifies and disposes
    POSTPONED = "postponed"            # tunda: more information asked of the citizen, clock paused
    DISPOSED = "disposed"              # terdisposisi: assigned to an OPD
    RETURNED = "returned"              # OPD said "bukan wewenang": to be routed elsewhere
    FOLLOWED_UP = "followed_up"        # tindak lanjut: the OPD responded
    CITIZEN_REPLIED = "citizen_replied"  # ditanggapi oleh pelapor: back to the OPD
    CLOSED = "closed"
    ARCHIVED = "archived"              # unclear, too general, spam, duplicate, ...
    NOT_OURS = "not_ours"              # belongs to another government


class Action(StrEnum):
    ASSIGN = "assign"                  # routing or an admin disposes to an OPD
    SEND_TO_TRIAGE = "send_to_triage"
    POSTPONE = "postpone"
    PROVIDE_INFO = "provide_info"      # the citizen answers a postponement
    ARCHIVE = "archive"
    MARK_NOT_OURS = "mark_not_ours"
    REJECT_NOT_AUTHORITY = "reject_not_authority"  # OPD: bukan wewenang
    RESPOND = "respond"                # OPD follow-up
    CITIZEN_REPLY = "citizen_reply"
    CLOSE = "close"                    # citizen confirms, or auto-close after silence


S = Status
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status]] = {
    Action.ASSIGN: (frozenset({S.SUBMITTED, S.TRIAGE, S.RETURNED}), S.DISPOSED),
    Action.SEND_TO_TRIAGE: (frozenset({S.SUBMITTED, S.RETURNED}), S.TRIAGE),
    Action.POSTPONE: (frozenset({S.SUBMITTED, S.TRIAGE}), S.POSTPONED),
    Action.PROVIDE_INFO: (frozenset({S.POSTPONED}), S.SUBMITTED),
    Action.ARCHIVE: (frozenset({S.SUBMITTED, S.TRIAGE, S.POSTPONED}), S.ARCHIVED),
    Action.MARK_NOT_OURS: (frozenset({S.SUBMITTED, S.TRIAGE}), S.NOT_OURS),
    Action.REJECT_NOT_AUTHORITY: (frozenset({S.DISPOSED}), S.RETURNED),
    Action.RESPOND: (frozenset({S.DISPOSED, S.FOLLOWED_UP, S.CITIZEN_REPLIED}), S.FOLLOWED_UP),
    Action.CITIZEN_REPLY: (frozenset({S.FOLLOWED_UP}), S.CITIZEN_REPLIED),
    Action.CLOSE: (frozenset({S.FOLLOWED_UP}), S.CLOSED),
}
del S

TERMINAL: frozenset[Status] = frozenset({Status.CLOSED, Status.ARCHIVED, Status.NOT_OURS})


class TransitionNotAllowed(Exception):
    """An action that the lifecycle forbids from the current status."""

    def __init__(self, status: Status, action: Action) -> None:
        super().__init__(f"action '{action}' is not allowed when a complaint is '{status}'")
        self.status = status
        self.action = action


def next_status(status: Status, action: Action) -> Status:
    """The status after `action`, or TransitionNotAllowed."""
    allowed_from, target = TRANSITIONS[action]
    if status not in allowed_from:
        raise TransitionNotAllowed(status, action)
    return target


def allowed_actions(status: Status) -> list[Action]:
    """What may happen next: what an API shows a citizen or OPD as possible."""
    return [action for action, (sources, _) in TRANSITIONS.items() if status in sources]
