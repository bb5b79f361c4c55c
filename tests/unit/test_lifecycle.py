import pytest

from contracts.lifecycle import TERMINAL, TRANSITIONS, Action, Status, TransitionNotAllowed, allowed_actions, next_status


@pytest.mark.parametrize("status, action, expected", [
    (Status.SUBMITTED, Action.ASSIGN, Status.DISPOSED),
    (Status.SUBMITTED, Action.SEND_TO_TRIAGE, Status.TRIAGE),
    (Status.TRIAGE, Action.ASSIGN, Status.DISPOSED),
    (Status.DISPOSED, Action.REJECT_NOT_AUTHORITY, Status.RETURNED),
    (Status.RETURNED, Action.ASSIGN, Status.DISPOSED),
    (Status.DISPOSED, Action.RESPOND, Status.FOLLOWED_UP),
    (Status.FOLLOWED_UP, Action.CITIZEN_REPLY, Status.CITIZEN_REPLIED),
    (Status.CITIZEN_REPLIED, Action.RESPOND, Status.FOLLOWED_UP),
    (Status.FOLLOWED_UP, Action.CLOSE, Status.CLOSED),
    (Status.SUBMITTED, Action.POSTPONE, Status.POSTPONED),
    (Status.POSTPONED, Action.PROVIDE_INFO, Status.SUBMITTED),
    (Status.TRIAGE, Action.ARCHIVE, Status.ARCHIVED),
    (Status.SUBMITTED, Action.MARK_NOT_OURS, Status.NOT_OURS),
])
def test_allowed_transitions(status, action, expected):
    assert next_status(status, action) is expected


@pytest.mark.parametrize("status, action", [
    (Status.SUBMITTED, Action.RESPOND),        # an OPD cannot answer what it was never given
    (Status.SUBMITTED, Action.CLOSE),
    (Status.DISPOSED, Action.CITIZEN_REPLY),   # nothing to reply to yet
    (Status.FOLLOWED_UP, Action.REJECT_NOT_AUTHORITY),
    (Status.POSTPONED, Action.ASSIGN),         # the citizen must answer first
])
def test_forbidden_transitions_raise(status, action):
    with pytest.raises(TransitionNotAllowed, match=action.value):
        next_status(status, action)


def test_terminal_statuses_allow_nothing():
    for status in TERMINAL:
        assert allowed_actions(status) == []


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
