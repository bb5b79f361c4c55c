"""The complaint lifecycle state machine, the one every citizen, OPD, operator and system action
is checked against (see shared/domain.md, "Lifecycle").

Two tables decide an action: `TRANSITIONS` (from which statuses, to which status) and `ACTORS`
(which roles may take it). Intake owns the canonical status and applies transitions; the other
services read the rules here so they never disagree about what is allowed.

    submitted ──assign──▶ disposed ──accept──▶ accepted ──respond──▶ followed_up ◀─┐
      │  ▲ │                 │  ▲                 │                    │   │        │
      │  │ └─send_to_triage─▶ triage ─assign──────┘                    │ citizen_reply
      │  │                   │                          resolve ──▶ resolved  │     │
    postpone   provide_info/resume               reject_not_authority    │ citizen_replied
      ▼  │                                               ▼            close / auto_close
    postponed                                         returned ──assign / send_to_triage
                                                                         ▼
    closed ──reopen (within the window)──▶ reopened ──respond / resolve──▶ ...
    closed ──rate──▶ closed (once per closing)
    archive ▶ archived · mark_not_ours ▶ not_ours · merge ▶ merged (into another complaint)
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    SUBMITTED = "submitted"            # recorded, tracking number issued, awaiting routing
    TRIAGE = "triage"                  # routing was unsure: an operator verifies and disposes
    POSTPONED = "postponed"            # tunda: more information asked of the citizen, clock paused
    DISPOSED = "disposed"              # terdisposisi: assigned to an OPD, not yet taken up
    ACCEPTED = "accepted"              # the OPD took it up
    RETURNED = "returned"              # the OPD said "bukan wewenang": to be routed elsewhere
    FOLLOWED_UP = "followed_up"        # tindak lanjut: the OPD responded
    CITIZEN_REPLIED = "citizen_replied"  # ditanggapi oleh pelapor: back to the OPD
    RESOLVED = "resolved"              # the OPD says it is done, with evidence; the citizen confirms
    CLOSED = "closed"                  # confirmed by the citizen or closed after silence
    REOPENED = "reopened"              # the citizen reopened it within the window: back to the OPD
    ARCHIVED = "archived"              # unclear, too general, not about public service, spam, ...
    NOT_OURS = "not_ours"              # belongs to another government or a state company
    MERGED = "merged"                  # a duplicate, merged into another complaint


class Action(StrEnum):
    ASSIGN = "assign"                  # routing or an operator disposes to an OPD
    REASSIGN = "reassign"              # an operator moves it to another OPD
    SEND_TO_TRIAGE = "send_to_triage"  # routing is unsure
    POSTPONE = "postpone"              # an operator asks the citizen for more information
    PROVIDE_INFO = "provide_info"      # the citizen answers a postponement
    RESUME = "resume"                  # an operator resumes without waiting for the citizen
    ARCHIVE = "archive"
    MARK_NOT_OURS = "mark_not_ours"
    MERGE = "merge"                    # a duplicate of another complaint
    ACCEPT = "accept"                  # the OPD takes it up
    REJECT_NOT_AUTHORITY = "reject_not_authority"  # the OPD: bukan wewenang
    RESPOND = "respond"                # the OPD's follow-up
    RESOLVE = "resolve"                # the OPD marks it resolved, with evidence
    CITIZEN_REPLY = "citizen_reply"
    CLOSE = "close"                    # the citizen confirms the resolution
    AUTO_CLOSE = "auto_close"          # the platform closes after the citizen stayed silent
    REOPEN = "reopen"                  # the citizen, within the reopen window, with a reason
    RATE = "rate"                      # the citizen rates the handling, 1 to 5, after closing


class Role(StrEnum):
    CITIZEN = "citizen"                # the reporter, with the complaint's access token
    OPD = "opd"                        # staff of the OPD the complaint is assigned to
    OPERATOR = "operator"              # the city's complaint team (admin / koordinator)
    SYSTEM = "system"                  # another service: routing, sla


S = Status
_WITH_OPD = frozenset({S.DISPOSED, S.ACCEPTED, S.FOLLOWED_UP, S.CITIZEN_REPLIED, S.REOPENED})
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status]] = {
    Action.ASSIGN: (frozenset({S.SUBMITTED, S.TRIAGE, S.RETURNED}), S.DISPOSED),
    Action.REASSIGN: (frozenset({S.DISPOSED, S.ACCEPTED}), S.DISPOSED),
    Action.SEND_TO_TRIAGE: (frozenset({S.SUBMITTED, S.RETURNED}), S.TRIAGE),
    Action.POSTPONE: (frozenset({S.SUBMITTED, S.TRIAGE, S.RETURNED}), S.POSTPONED),
    Action.PROVIDE_INFO: (frozenset({S.POSTPONED}), S.SUBMITTED),
    Action.RESUME: (frozenset({S.POSTPONED}), S.SUBMITTED),
    Action.ARCHIVE: (frozenset({S.SUBMITTED, S.TRIAGE, S.POSTPONED, S.RETURNED}), S.ARCHIVED),
    Action.MARK_NOT_OURS: (frozenset({S.SUBMITTED, S.TRIAGE, S.RETURNED}), S.NOT_OURS),
    Action.MERGE: (frozenset({S.SUBMITTED, S.TRIAGE, S.POSTPONED, S.RETURNED, S.DISPOSED,
                              S.ACCEPTED}), S.MERGED),
    Action.ACCEPT: (frozenset({S.DISPOSED}), S.ACCEPTED),
    Action.REJECT_NOT_AUTHORITY: (frozenset({S.DISPOSED, S.ACCEPTED}), S.RETURNED),
    Action.RESPOND: (_WITH_OPD, S.FOLLOWED_UP),
    Action.RESOLVE: (_WITH_OPD, S.RESOLVED),
    Action.CITIZEN_REPLY: (frozenset({S.FOLLOWED_UP, S.RESOLVED}), S.CITIZEN_REPLIED),
    Action.CLOSE: (frozenset({S.FOLLOWED_UP, S.RESOLVED}), S.CLOSED),
    Action.AUTO_CLOSE: (frozenset({S.FOLLOWED_UP, S.RESOLVED}), S.CLOSED),
    Action.REOPEN: (frozenset({S.CLOSED}), S.REOPENED),
    Action.RATE: (frozenset({S.CLOSED}), S.CLOSED),
}
del S

R = Role
ACTORS: dict[Action, frozenset[Role]] = {
    Action.ASSIGN: frozenset({R.OPERATOR, R.SYSTEM}),
    Action.REASSIGN: frozenset({R.OPERATOR}),
    Action.SEND_TO_TRIAGE: frozenset({R.SYSTEM}),
    Action.POSTPONE: frozenset({R.OPERATOR}),
    Action.PROVIDE_INFO: frozenset({R.CITIZEN}),
    Action.RESUME: frozenset({R.OPERATOR}),
    Action.ARCHIVE: frozenset({R.OPERATOR}),
    Action.MARK_NOT_OURS: frozenset({R.OPERATOR, R.SYSTEM}),
    Action.MERGE: frozenset({R.OPERATOR}),
    Action.ACCEPT: frozenset({R.OPD}),
    Action.REJECT_NOT_AUTHORITY: frozenset({R.OPD}),
    Action.RESPOND: frozenset({R.OPD}),
    Action.RESOLVE: frozenset({R.OPD}),
    Action.CITIZEN_REPLY: frozenset({R.CITIZEN}),
    Action.CLOSE: frozenset({R.CITIZEN}),
    Action.AUTO_CLOSE: frozenset({R.SYSTEM}),
    Action.REOPEN: frozenset({R.CITIZEN}),
    Action.RATE: frozenset({R.CITIZEN}),
}
del R

# Nothing more can happen to these. A closed complaint is not final: it can be rated and reopened.
TERMINAL: frozenset[Status] = frozenset({Status.ARCHIVED, Status.NOT_OURS, Status.MERGED})
# Waiting on the OPD: what its queue holds and what can be overdue.
WITH_OPD: frozenset[Status] = _WITH_OPD
del _WITH_OPD


class TransitionNotAllowed(Exception):
    """An action that the lifecycle forbids from the current status."""

    def __init__(self, status: Status, action: Action) -> None:
        super().__init__(f"action '{action}' is not allowed when a complaint is '{status}'")
        self.status = status
        self.action = action


class RoleNotAllowed(Exception):
    """An action this role may never take, whatever the status."""

    def __init__(self, role: Role, action: Action) -> None:
        super().__init__(f"a caller with role '{role}' may not '{action}'")
        self.role = role
        self.action = action


def next_status(status: Status, action: Action) -> Status:
    """The status after `action`, or TransitionNotAllowed."""
    allowed_from, target = TRANSITIONS[action]
    if status not in allowed_from:
        raise TransitionNotAllowed(status, action)
    return target


def check_role(role: Role, action: Action) -> None:
    if role not in ACTORS[action]:
        raise RoleNotAllowed(role, action)


def allowed_actions(status: Status, role: Role | None = None) -> list[Action]:
    """What may happen next (for `role`, when given): what an API shows its caller as possible."""
    return [action for action, (sources, _) in TRANSITIONS.items()
            if status in sources and (role is None or role in ACTORS[action])]
