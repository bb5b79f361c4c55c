"""The lifecycle as a table: every action from every status, allowed (and to where) or not."""

import pytest

from contracts.lifecycle import (
    ACTORS, TERMINAL, TRANSITIONS, Action, Role, RoleNotAllowed, Status, TransitionNotAllowed,
    allowed_actions, check_role, next_status,
)

A, S = Action, Status
TABLE: dict[Status, dict[Action, Status]] = {
    S.SUBMITTED: {A.ASSIGN: S.DISPOSED, A.SEND_TO_TRIAGE: S.TRIAGE, A.POSTPONE: S.POSTPONED,
                  A.ARCHIVE: S.ARCHIVED, A.MARK_NOT_OURS: S.NOT_OURS, A.MERGE: S.MERGED},
    S.TRIAGE: {A.ASSIGN: S.DISPOSED, A.POSTPONE: S.POSTPONED, A.ARCHIVE: S.ARCHIVED,
               A.MARK_NOT_OURS: S.NOT_OURS, A.MERGE: S.MERGED},
    S.POSTPONED: {A.PROVIDE_INFO: S.SUBMITTED, A.RESUME: S.SUBMITTED, A.ARCHIVE: S.ARCHIVED,
                  A.MERGE: S.MERGED},
    S.DISPOSED: {A.REASSIGN: S.DISPOSED, A.MERGE: S.MERGED, A.ACCEPT: S.ACCEPTED,
                 A.REJECT_NOT_AUTHORITY: S.RETURNED, A.RESPOND: S.FOLLOWED_UP,
                 A.RESOLVE: S.RESOLVED},
    S.ACCEPTED: {A.REASSIGN: S.DISPOSED, A.MERGE: S.MERGED, A.REJECT_NOT_AUTHORITY: S.RETURNED,
                 A.RESPOND: S.FOLLOWED_UP, A.RESOLVE: S.RESOLVED},
    S.RETURNED: {A.ASSIGN: S.DISPOSED, A.SEND_TO_TRIAGE: S.TRIAGE, A.POSTPONE: S.POSTPONED,
                 A.ARCHIVE: S.ARCHIVED, A.MARK_NOT_OURS: S.NOT_OURS, A.MERGE: S.MERGED},
    S.FOLLOWED_UP: {A.RESPOND: S.FOLLOWED_UP, A.RESOLVE: S.RESOLVED,
                    A.CITIZEN_REPLY: S.CITIZEN_REPLIED, A.CLOSE: S.CLOSED, A.AUTO_CLOSE: S.CLOSED},
    S.CITIZEN_REPLIED: {A.RESPOND: S.FOLLOWED_UP, A.RESOLVE: S.RESOLVED},
    S.RESOLVED: {A.CITIZEN_REPLY: S.CITIZEN_REPLIED, A.CLOSE: S.CLOSED, A.AUTO_CLOSE: S.CLOSED},
    S.CLOSED: {A.REOPEN: S.REOPENED, A.RATE: S.CLOSED},
    S.REOPENED: {A.RESPOND: S.FOLLOWED_UP, A.RESOLVE: S.RESOLVED},
    S.ARCHIVED: {}, S.NOT_OURS: {}, S.MERGED: {},
}

# Who may take each action (the other half of the rules).
WHO: dict[Action, set[Role]] = {
    A.ASSIGN: {Role.OPERATOR, Role.SYSTEM}, A.REASSIGN: {Role.OPERATOR},
    A.SEND_TO_TRIAGE: {Role.SYSTEM}, A.POSTPONE: {Role.OPERATOR}, A.PROVIDE_INFO: {Role.CITIZEN},
    A.RESUME: {Role.OPERATOR}, A.ARCHIVE: {Role.OPERATOR},
    A.MARK_NOT_OURS: {Role.OPERATOR, Role.SYSTEM}, A.MERGE: {Role.OPERATOR},
    A.ACCEPT: {Role.OPD}, A.REJECT_NOT_AUTHORITY: {Role.OPD}, A.RESPOND: {Role.OPD},
    A.RESOLVE: {Role.OPD}, A.CITIZEN_REPLY: {Role.CITIZEN}, A.CLOSE: {Role.CITIZEN},
    A.AUTO_CLOSE: {Role.SYSTEM}, A.REOPEN: {Role.CITIZEN}, A.RATE: {Role.CITIZEN},
}


def test_the_table_covers_every_status_and_every_action():
    assert set(TABLE) == set(Status)
    assert set(WHO) == set(Action)


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("action", list(Action))
def test_every_action_from_every_status(status, action):
    expected = TABLE[status].get(action)
    if expected is None:
        with pytest.raises(TransitionNotAllowed, match=f"'{action.value}' is not allowed when a complaint is '{status.value}'"):
            next_status(status, action)
    else:
        assert next_status(status, action) is expected


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", list(Role))
def test_every_role_for_every_action(action, role):
    if role in WHO[action]:
        check_role(role, action)
    else:
        with pytest.raises(RoleNotAllowed):
            check_role(role, action)


def test_allowed_actions_for_a_role_are_the_table_row_filtered_by_role():
    for status, row in TABLE.items():
        for role in Role:
            assert set(allowed_actions(status, role)) == {a for a in row if role in WHO[a]}


def test_terminal_statuses_allow_nothing_and_closed_is_not_terminal():
    for status in TERMINAL:
        assert allowed_actions(status) == []
    assert set(allowed_actions(Status.CLOSED)) == {Action.REOPEN, Action.RATE}


def test_every_status_is_reachable_from_submitted():
    reached, frontier = {Status.SUBMITTED}, [Status.SUBMITTED]
    while frontier:
        current = frontier.pop()
        for action in allowed_actions(current):
            target = TRANSITIONS[action][1]
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(Status)


def test_every_action_has_someone_who_may_take_it():
    assert all(ACTORS[action] for action in Action)
