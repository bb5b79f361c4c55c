"""OPD systems' actions on `complaints.opd.actions`, through intake's consumer on the in-memory
twin, with real signed tokens: the sender is whoever the verified token names, never what the
record says; what cannot be applied is told back (OpdActionRefused.v1, without the token);
what cannot be read, or is not an OPD action, is dead-lettered."""

import uuid
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backbone.consumer import ConsumedRecord, EventConsumer, Outcome
from backbone.kafka import InMemoryPublisher
from backbone.pii import PiiCipher
from backbone.staff_auth import JwtSettings, JwtVerifier
from contracts import events as ev
from contracts.envelope import to_record, wrap
from contracts.lifecycle import Status
from intake import handlers, opd_actions
from intake.adapters.uow import IntakeInMemoryUnitOfWork
from intake.domain.tokens import AccessTokens
from intake.schemas import SubmitComplaintRequest

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
J = "kota-bandung"
TOPIC = "t.complaints.opd.actions"
KEY, FORGER_KEY = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
VERIFIER = JwtVerifier(JwtSettings(public_key=KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()))
DEPS = handlers.SubmitDeps(clock=lambda: NOW, cipher=PiiCipher(PiiCipher.new_key()),
                           tokens=AccessTokens(b"s" * 32), default_jurisdiction=J)


def token(opd: str = "dinas-pupr", key=KEY, ttl=timedelta(hours=1), **claims) -> str:
    now = datetime.now(timezone.utc)
    body = {"sub": f"svc-{opd}", "aud": "lapor", "iat": now, "exp": now + ttl, "role": "opd",
            "opd": opd} | claims
    return jwt.encode(body, key, algorithm="ES256")


class Intake:
    def __init__(self) -> None:
        self.uow = IntakeInMemoryUnitOfWork()
        self.dlq = InMemoryPublisher()
        self.consumer = EventConsumer("intake", lambda: self.uow, self.dlq, "t.intake.dlq",
                                      max_attempts=1, backoff_initial=0.001, backoff_max=0.001)
        self.consumer.on(ev.TakeOpdActionV1, opd_actions.subscriber(
            opd_actions.OpdActionDeps(VERIFIER, lambda: NOW)))
        self.consumer.accept_only(TOPIC, ev.TakeOpdActionV1)
        self.offset = 0

    async def disposed_to(self, opd_id: str) -> tuple[str, uuid.UUID]:
        async with self.uow:
            receipt = await handlers.submit_complaint(SubmitComplaintRequest.model_validate({
                "title": "Jalan berlubang", "description": "Jalan berlubang besar di depan SDN 3.",
                "reporter": {"name": "Siti", "email": "siti@example.id"}}).to_command(),
                self.uow, DEPS)
        complaint = receipt.complaint
        async with self.uow:
            await handlers.on_complaint_assigned(ev.ComplaintAssignedV1(
                complaint_id=complaint.id, occurred_at=NOW, tracking_number=complaint.tracking_number,
                jurisdiction=J, opd_id=opd_id, opd_name=opd_id, confidence=0.9, reason="r"), self.uow)
        return complaint.tracking_number, complaint.id

    async def send(self, event: ev.Event, topic: str = TOPIC) -> Outcome:
        key, value, headers = to_record(wrap(event, "/opd-systems/dinas-pupr"))
        self.offset += 1
        return await self.consumer.process(ConsumedRecord(topic, 0, self.offset, key, value, headers))

    async def status(self, tn: str) -> Status:
        return (await self.uow.complaints.get_by_tracking_number(tn)).status

    def told(self) -> list[ev.Event]:
        return [e for e in self.uow.outbox.events if isinstance(e, ev.OpdActionRefusedV1)]


def action(tn: str, cid: uuid.UUID, tok: str, act: str = "accept", **fields) -> ev.TakeOpdActionV1:
    return ev.TakeOpdActionV1(complaint_id=cid, occurred_at=NOW, request_id="req-1",
                              tracking_number=tn, action=act, token=tok, **fields)


async def test_a_valid_token_of_the_assigned_opd_acts():
    intake = Intake()
    tn, cid = await intake.disposed_to("dinas-pupr")
    assert await intake.send(action(tn, cid, token())) is Outcome.APPLIED
    assert await intake.send(action(tn, cid, token(), "respond", note="Kami tinjau Senin.")) \
        is Outcome.APPLIED
    assert await intake.status(tn) is Status.FOLLOWED_UP
    followed = [e for e in intake.uow.outbox.events if isinstance(e, ev.ComplaintFollowedUpV1)]
    assert followed[0].actor == "dinas-pupr/svc-dinas-pupr" and followed[0].actor_role == "opd"
    assert intake.told() == []


async def test_another_opds_token_is_refused_and_told_to_that_opd_as_not_found():
    intake = Intake()
    tn, cid = await intake.disposed_to("dinas-pupr")
    await intake.send(action(tn, cid, token("dlh"), "respond", note="Bukan urusan kami.",
                             jurisdiction=J))   # where dlh reads its feed: where it is told
    assert await intake.status(tn) is Status.DISPOSED
    (told,) = intake.told()
    assert (told.reason, told.opd_id, told.jurisdiction, told.request_id) == (
        "not_found", "dlh", J, "req-1")
    assert told.current_status is None                    # nothing about a complaint not theirs
    await intake.send(action("9999999", uuid.uuid4(), token("dlh"), jurisdiction=J))
    assert intake.told()[-1].reason == "not_found" and intake.told()[-1].detail == told.detail.replace(
        tn, "9999999")
    # Without a jurisdiction (in the token or the request), no feed can be named: told to none.
    await intake.send(action(tn, cid, token("dlh")))
    assert (intake.told()[-1].opd_id, intake.told()[-1].jurisdiction) == ("dlh", None)


async def test_a_token_of_another_jurisdiction_does_not_reach_this_one():
    intake = Intake()
    tn, cid = await intake.disposed_to("dinas-pupr")
    await intake.send(action(tn, cid, token(jurisdiction="kota-makassar")))
    assert await intake.status(tn) is Status.DISPOSED
    (told,) = intake.told()
    assert (told.reason, told.jurisdiction) == ("not_found", "kota-makassar")


@pytest.mark.parametrize("bad", [
    token(key=FORGER_KEY),                   # signed by someone else: a forgery
    token(ttl=timedelta(hours=-2)),          # expired
    "not-a-jwt",
])
async def test_a_token_that_does_not_verify_is_refused_and_told_to_no_opd(bad):
    intake = Intake()
    tn, cid = await intake.disposed_to("dinas-pupr")
    assert await intake.send(action(tn, cid, bad)) is Outcome.APPLIED
    assert await intake.status(tn) is Status.DISPOSED
    (told,) = intake.told()
    assert (told.reason, told.opd_id) == ("invalid_token", None)
    assert bad not in told.model_dump_json()


async def test_an_operator_token_is_not_an_opd_systems():
    intake = Intake()
    tn, cid = await intake.disposed_to("dinas-pupr")
    await intake.send(action(tn, cid, token(role="operator")))
    assert intake.told()[0].reason == "not_opd" and await intake.status(tn) is Status.DISPOSED


async def test_what_the_status_does_not_allow_is_refused_with_the_status():
    intake = Intake()
    tn, cid = await intake.disposed_to("dinas-pupr")
    await intake.send(action(tn, cid, token(), "resolve", evidence="Sudah ditambal."))  # allowed
    await intake.send(action(tn, cid, token(), "accept"))
    (told,) = intake.told()
    assert (told.reason, told.current_status, told.opd_id) == (
        "transition_not_allowed", "resolved", "dinas-pupr")


async def test_a_rejection_goes_through_and_the_opd_cannot_act_on_it_afterwards():
    intake = Intake()
    tn, cid = await intake.disposed_to("dinas-pupr")
    await intake.send(action(tn, cid, token(), "reject_not_authority", reason="Urusan DLH",
                             suggested_opd_id="dlh"))
    assert await intake.status(tn) is Status.RETURNED
    await intake.send(action(tn, cid, token(), "accept"))
    assert intake.told()[0].reason == "not_found"


async def test_unreadable_or_foreign_records_are_dead_lettered_with_the_reason():
    intake = Intake()
    tn, cid = await intake.disposed_to("dinas-pupr")
    # A respond without its note cannot be built: the record is dead-lettered.
    good = action(tn, cid, token(), "respond", note="x")
    key, value, headers = to_record(wrap(good, "/opd"))
    broken = value.replace(b'"note": "x"', b'"note": null')
    assert broken != value
    assert await intake.consumer.process(ConsumedRecord(TOPIC, 0, 50, key, broken, headers)) \
        is Outcome.DEAD_LETTERED
    assert b"respond needs note" in dict(intake.dlq.sent[-1].headers)["dlq_reason"]
    # A platform event slipped in through the OPD topic is refused, not applied.
    assigned = ev.ComplaintAssignedV1(complaint_id=cid, occurred_at=NOW, tracking_number=tn,
                                      jurisdiction=J, opd_id="dlh", opd_name="DLH",
                                      confidence=1, reason="forged")
    assert await intake.send(assigned) is Outcome.DEAD_LETTERED
    assert await intake.status(tn) is Status.DISPOSED


def test_actions_other_than_an_opds_are_not_in_the_contract():
    with pytest.raises(ValueError):
        action("1000001", uuid.uuid4(), token(), "assign")
    with pytest.raises(ValueError):
        ev.TakeOpdActionV1(complaint_id=uuid.uuid4(), occurred_at=NOW, request_id="r",
                           tracking_number="1000001", action="accept", token=token(),
                           opd_id="dlh")            # who sends it is never a field
    assert "eyJ" not in repr(action("1000001", uuid.uuid4(), token()))
