"""Intake's actions on the in-memory twin: the role matrix (every action by every kind of
caller), the guards that depend on the complaint, and what each action records and tells."""

from datetime import datetime, timedelta, timezone

import pytest

from backbone.pii import PiiCipher
from contracts import events as ev
from contracts.lifecycle import Action, Role, RoleNotAllowed, Status, TransitionNotAllowed
from intake import handlers
from intake.adapters.uow import IntakeInMemoryUnitOfWork
from intake.domain.actions import ActionRefused, TakeAction
from intake.domain.actors import Actor
from intake.domain.queries import ComplaintQuery
from intake.domain.tokens import AccessTokens
from intake.schemas import SubmitComplaintRequest

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
OPD, OTHER_OPD = "dinas-pupr", "dlh"
CITIZEN = None  # replaced per complaint by its own token
OPERATOR = handlers.Caller(Actor(Role.OPERATOR, subject="op-1"))
DEPS = handlers.SubmitDeps(clock=lambda: NOW, cipher=PiiCipher(PiiCipher.new_key()),
                           tokens=AccessTokens(b"s" * 32), default_jurisdiction="kota-contoh")


def opd(opd_id: str = OPD) -> handlers.Caller:
    return handlers.Caller(Actor(Role.OPD, subject="staff-7", opd_id=opd_id))


def citizen(token: str) -> handlers.Caller:
    return handlers.Caller(Actor.citizen(), citizen_token=token)


class World:
    """Complaints driven to any status through the real handlers."""

    def __init__(self) -> None:
        self.uow = IntakeInMemoryUnitOfWork()
        self.now = NOW

    def clock(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    async def submit(self, anonymous: bool = False) -> tuple[str, str]:
        body = {"title": "Jalan berlubang", "anonymous": anonymous,
                "description": "Jalan berlubang besar di depan sekolah, membahayakan.",
                "reporter": {"name": "Siti", "email": "siti@example.id"}}
        async with self.uow:
            receipt = await handlers.submit_complaint(
                SubmitComplaintRequest.model_validate(body).to_command(), self.uow, DEPS)
        return receipt.complaint.tracking_number, receipt.access_token

    async def act(self, tn: str, caller: handlers.Caller, action: Action, **fields):
        async with self.uow:
            return await handlers.take_action(tn, TakeAction(action, **fields), caller, self.uow,
                                              self.clock)

    async def system(self, tn: str, action: Action, service: str = "routing", **fields):
        complaint = await self.uow.complaints.get_by_tracking_number(tn)
        async with self.uow:
            loaded = await self.uow.complaints.get(complaint.id)
            loaded.take(TakeAction(action, **fields), Actor.system(service), self.clock())
            await handlers._save(self.uow, loaded)

    async def in_status(self, status: Status) -> tuple[str, str]:
        tn, token = await self.submit()
        me = citizen(token)
        steps = {
            Status.SUBMITTED: [],
            Status.TRIAGE: [("sys", Action.SEND_TO_TRIAGE, {})],
            Status.POSTPONED: [(OPERATOR, Action.POSTPONE, {"note": "Di mana lokasinya?"})],
            Status.DISPOSED: [("sys", Action.ASSIGN, {"opd_id": OPD})],
            Status.ACCEPTED: [("sys", Action.ASSIGN, {"opd_id": OPD}), (opd(), Action.ACCEPT, {})],
            Status.RETURNED: [("sys", Action.ASSIGN, {"opd_id": OPD}),
                              (opd(), Action.REJECT_NOT_AUTHORITY, {"reason": "urusan PLN"})],
            Status.FOLLOWED_UP: [("sys", Action.ASSIGN, {"opd_id": OPD}),
                                 (opd(), Action.RESPOND, {"note": "Segera kami tangani."})],
            Status.CITIZEN_REPLIED: [("sys", Action.ASSIGN, {"opd_id": OPD}),
                                     (opd(), Action.RESPOND, {"note": "Segera."}),
                                     (me, Action.CITIZEN_REPLY, {"note": "Kapan?"})],
            Status.RESOLVED: [("sys", Action.ASSIGN, {"opd_id": OPD}),
                              (opd(), Action.RESOLVE, {"evidence": "Sudah ditambal."})],
            Status.CLOSED: [("sys", Action.ASSIGN, {"opd_id": OPD}),
                            (opd(), Action.RESOLVE, {"evidence": "Sudah ditambal."}),
                            (me, Action.CLOSE, {})],
            Status.REOPENED: [("sys", Action.ASSIGN, {"opd_id": OPD}),
                              (opd(), Action.RESOLVE, {"evidence": "Sudah ditambal."}),
                              (me, Action.CLOSE, {}), (me, Action.REOPEN, {"reason": "Rusak lagi"})],
            Status.ARCHIVED: [(OPERATOR, Action.ARCHIVE, {"reason": "spam"})],
            Status.NOT_OURS: [(OPERATOR, Action.MARK_NOT_OURS, {"responsible": "PLN"})],
        }
        if status is Status.MERGED:
            target, _ = await self.submit()
            await self.act(tn, OPERATOR, Action.MERGE, into=target)
            return tn, token
        for who, action, fields in steps[status]:
            if who == "sys":
                await self.system(tn, action, **fields)
            else:
                await self.act(tn, who, action, **fields)
        return tn, token


# Fields that make every action's body valid, so only role and status decide.
FIELDS = {
    Action.ASSIGN: {"opd_id": OTHER_OPD}, Action.REASSIGN: {"opd_id": OTHER_OPD},
    Action.POSTPONE: {"note": "Mohon lengkapi alamat."}, Action.PROVIDE_INFO: {"note": "Jl. Merdeka 10"},
    Action.ARCHIVE: {"reason": "unclear"}, Action.MARK_NOT_OURS: {"responsible": "PLN"},
    Action.REJECT_NOT_AUTHORITY: {"reason": "Bukan urusan kami"},
    Action.RESPOND: {"note": "Kami cek besok."}, Action.RESOLVE: {"evidence": "Foto perbaikan"},
    Action.CITIZEN_REPLY: {"note": "Terima kasih"}, Action.REOPEN: {"reason": "Rusak lagi"},
    Action.RATE: {"rating": 4},
}
# A status from which each action is allowed.
WHERE = {
    Action.ASSIGN: Status.TRIAGE, Action.REASSIGN: Status.DISPOSED,
    Action.SEND_TO_TRIAGE: Status.SUBMITTED, Action.POSTPONE: Status.SUBMITTED,
    Action.PROVIDE_INFO: Status.POSTPONED, Action.RESUME: Status.POSTPONED,
    Action.ARCHIVE: Status.TRIAGE, Action.MARK_NOT_OURS: Status.SUBMITTED,
    Action.MERGE: Status.DISPOSED, Action.ACCEPT: Status.DISPOSED,
    Action.REJECT_NOT_AUTHORITY: Status.ACCEPTED, Action.RESPOND: Status.DISPOSED,
    Action.RESOLVE: Status.FOLLOWED_UP, Action.CITIZEN_REPLY: Status.FOLLOWED_UP,
    Action.CLOSE: Status.RESOLVED, Action.AUTO_CLOSE: Status.FOLLOWED_UP,
    Action.REOPEN: Status.CLOSED, Action.RATE: Status.CLOSED,
}
CALLERS = ("citizen", "other citizen", "opd", "other opd", "operator")


def expected(action: Action, caller: str, assigned: bool) -> str:
    """The role matrix: ok, 403 (role may never) or 404 (may not even see it)."""
    if caller == "other citizen" or caller == "other opd":
        return "404"
    if caller == "opd" and not assigned:
        return "404"
    role = {"citizen": Role.CITIZEN, "opd": Role.OPD, "operator": Role.OPERATOR}[caller]
    from contracts.lifecycle import ACTORS
    return "ok" if role in ACTORS[action] else "403"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("action", list(Action))
async def test_role_matrix(action, caller):
    world = World()
    tn, token = await world.in_status(WHERE[action])
    complaint = await world.uow.complaints.get_by_tracking_number(tn)
    fields = dict(FIELDS.get(action, {}))
    if action is Action.MERGE:
        fields["into"], _ = await world.submit()
    who = {"citizen": citizen(token), "other citizen": citizen("not-the-token"), "opd": opd(),
           "other opd": opd(OTHER_OPD), "operator": OPERATOR}[caller]
    want = expected(action, caller, assigned=complaint.assigned_opd_id == OPD)
    try:
        await world.act(tn, who, action, **fields)
        got = "ok"
    except handlers.NotFound:
        got = "404"
    except RoleNotAllowed:
        got = "403"
    assert got == want


async def test_an_illegal_transition_is_refused_and_changes_nothing():
    world = World()
    tn, token = await world.in_status(Status.SUBMITTED)
    with pytest.raises(TransitionNotAllowed) as refused:
        await world.act(tn, citizen(token), Action.CLOSE)
    assert refused.value.status is Status.SUBMITTED
    stored = await world.uow.complaints.get_by_tracking_number(tn)
    assert stored.status is Status.SUBMITTED and len(stored.history) == 1


async def test_every_accepted_action_writes_history_and_publishes_its_event():
    world = World()
    tn, token = await world.in_status(Status.DISPOSED)
    before = len(world.uow.outbox.events)
    await world.act(tn, opd(), Action.ACCEPT)
    await world.act(tn, opd(), Action.RESPOND, note="Tim kami meninjau lokasi Senin.")
    complaint = await world.act(tn, citizen(token), Action.CITIZEN_REPLY, note="Baik, terima kasih")
    accepted, followed, replied = world.uow.outbox.events[before:]
    assert isinstance(accepted, ev.ComplaintAcceptedV1)
    assert isinstance(followed, ev.ComplaintFollowedUpV1) and followed.note.startswith("Tim kami")
    assert isinstance(replied, ev.CitizenRepliedV1) and replied.actor is None, "a citizen is never named"
    assert (followed.actor_role, followed.actor, followed.opd_id) == ("opd", "dinas-pupr/staff-7", OPD)
    assert (followed.from_status, followed.to_status) == ("accepted", "followed_up")
    last = complaint.history[-1]
    assert (last.action, last.actor_role, last.from_status, last.status) == (
        "citizen_reply", "citizen", Status.FOLLOWED_UP, Status.CITIZEN_REPLIED)
    for event in world.uow.outbox.events[before:]:
        assert "siti" not in event.model_dump_json().lower()


async def test_bukan_wewenang_never_goes_back_to_a_rejecting_opd():
    world = World()
    tn, _ = await world.in_status(Status.RETURNED)
    [rejected] = [e for e in world.uow.outbox.events if isinstance(e, ev.ComplaintRejectedNotAuthorityV1)]
    assert rejected.rejected_by == [OPD] and rejected.opd_id is None and rejected.reason == "urusan PLN"
    with pytest.raises(ActionRefused, match="already rejected"):
        await world.act(tn, OPERATOR, Action.ASSIGN, opd_id=OPD)
    with pytest.raises(handlers.NotFound):   # the rejecting OPD no longer sees it
        await world.act(tn, opd(), Action.ACCEPT)
    complaint = await world.act(tn, OPERATOR, Action.ASSIGN, opd_id=OTHER_OPD, opd_name="DLH")
    assert complaint.assigned_opd_id == OTHER_OPD and complaint.rejected_by == [OPD]


async def test_rating_once_per_closing_and_again_after_a_reopen():
    world = World()
    tn, token = await world.in_status(Status.CLOSED)
    me = citizen(token)
    await world.act(tn, me, Action.RATE, rating=5, comment="Cepat")
    with pytest.raises(ActionRefused, match="already rated"):
        await world.act(tn, me, Action.RATE, rating=1)
    await world.act(tn, me, Action.REOPEN, reason="Lubangnya muncul lagi")
    await world.act(tn, opd(), Action.RESPOND, note="Kami tambal ulang.")
    await world.act(tn, me, Action.CLOSE)
    complaint = await world.act(tn, me, Action.RATE, rating=3)
    assert complaint.rating == 3 and complaint.status is Status.CLOSED


async def test_reopen_only_within_the_window_sla_set():
    world = World()
    tn, token = await world.in_status(Status.CLOSED)
    complaint = await world.uow.complaints.get_by_tracking_number(tn)
    async with world.uow:
        await handlers.on_sla_clock_started(ev.SlaClockStartedV1(
            complaint_id=complaint.id, occurred_at=world.now, tracking_number=tn,
            clock="reopen_window", started_at=world.now, due_at=world.now + timedelta(days=14),
            working_days=10, timezone="Asia/Jakarta"), world.uow)
    world.now += timedelta(days=15)
    with pytest.raises(ActionRefused, match="reopen window ended"):
        await world.act(tn, citizen(token), Action.REOPEN, reason="Masih rusak")
    world.now -= timedelta(days=2)
    reopened = await world.act(tn, citizen(token), Action.REOPEN, reason="Masih rusak")
    assert reopened.status is Status.REOPENED and reopened.assigned_opd_id == OPD


async def test_merge_keeps_the_duplicate_following_the_survivor():
    world = World()
    survivor, _ = await world.in_status(Status.DISPOSED)
    duplicate, token = await world.submit()
    await world.act(duplicate, OPERATOR, Action.MERGE, into=survivor)
    [merged] = [e for e in world.uow.outbox.events if isinstance(e, ev.ComplaintMergedV1)]
    assert merged.into_tracking_number == survivor
    async with world.uow:
        dup, followed = await handlers.read_complaint(duplicate, citizen(token), world.uow)
    assert dup.status is Status.MERGED and followed.tracking_number == survivor
    assert followed.history[-1].action == "duplicate_merged"
    with pytest.raises(ActionRefused, match="into itself"):
        await world.act(survivor, OPERATOR, Action.MERGE, into=survivor)
    with pytest.raises(ActionRefused, match="still being handled"):
        other, _ = await world.submit()
        await world.act(other, OPERATOR, Action.MERGE, into=duplicate)


async def test_postpone_then_information_added_goes_back_to_routing():
    world = World()
    tn, token = await world.in_status(Status.POSTPONED)
    complaint = await world.act(tn, citizen(token), Action.PROVIDE_INFO, note="Depan SDN 3")
    assert complaint.status is Status.SUBMITTED
    added = world.uow.outbox.events[-1]
    assert isinstance(added, ev.ComplaintInformationAddedV1) and added.note == "Depan SDN 3"


async def test_an_opd_lists_only_its_own_queue_and_a_citizen_cannot_list():
    world = World()
    for _ in range(3):
        await world.in_status(Status.DISPOSED)
    await world.in_status(Status.SUBMITTED)
    async with world.uow:
        mine = await handlers.list_complaints(ComplaintQuery(opd_id=OTHER_OPD), opd(), world.uow,
                                              world.clock)
        everything = await handlers.list_complaints(ComplaintQuery(page_size=2), OPERATOR,
                                                    world.uow, world.clock)
    assert len(mine) == 3 and {c.assigned_opd_id for c in mine} == {OPD}
    assert len(everything) == 3, "a page of 2 and one more that says another page follows"
    with pytest.raises(handlers.StaffOnly):
        async with world.uow:
            await handlers.list_complaints(ComplaintQuery(), citizen("x"), world.uow, world.clock)


async def test_an_operator_of_one_jurisdiction_sees_only_it():
    world = World()
    tn, _ = await world.in_status(Status.SUBMITTED)
    elsewhere = handlers.Caller(Actor(Role.OPERATOR, subject="op-2", jurisdiction="kab-lain"))
    with pytest.raises(handlers.NotFound):
        await world.act(tn, elsewhere, Action.ARCHIVE, reason="spam")


async def test_an_opd_of_another_city_with_the_same_opd_id_sees_nothing():
    world = World()
    tn, _ = await world.in_status(Status.DISPOSED)
    same_id_elsewhere = handlers.Caller(Actor(Role.OPD, subject="s-9", opd_id=OPD,
                                              jurisdiction="kota-makassar"))
    here = handlers.Caller(Actor(Role.OPD, subject="s-8", opd_id=OPD, jurisdiction="kota-contoh"))
    with pytest.raises(handlers.NotFound):
        await world.act(tn, same_id_elsewhere, Action.ACCEPT)
    async with world.uow:
        assert await handlers.list_complaints(ComplaintQuery(), same_id_elsewhere, world.uow,
                                              world.clock) == []
    assert (await world.act(tn, here, Action.ACCEPT)).status is Status.ACCEPTED
