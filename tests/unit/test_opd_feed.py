"""Per-OPD feeds on the in-memory twins, wired as routing's app wires them: the privacy filter
of OPD views (an anonim reporter's place is only kecamatan and kelurahan, contacts written into
any text are masked, no identity ever), which facts reach which OPD, the withdrawal when a
complaint leaves an OPD, refusals told to the OPD whose token was refused, and the backbone
pieces it stands on (a second handler per event, an outbox record for an explicit topic)."""

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from backbone.consumer import ConsumedRecord, EventConsumer, Outcome
from backbone.kafka import InMemoryPublisher, InMemoryTopicCreator
from backbone.outbox import InMemoryOutbox
from backbone.uow import InMemoryUnitOfWork
from contracts import events as ev
from contracts.envelope import from_record, to_record, wrap
from contracts.topics import OPD_FEED_PARTITIONS, Topic, opd_topic
from routing.adapters.decisions import RoutingInMemoryUnitOfWork
from routing.app import subscribe
from routing.domain.complaint_text import RoutedComplaint
from routing.domain.opd_feed import feed_of, opd_location
from routing.domain.keyword_classifier import KeywordClassifier
from routing.handlers import Router
from routing.jurisdiction_registry import FixedJurisdictions
from routing.opd_feed import OpdFeed, subscribe as subscribe_feed

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
J = "kota-bandung"
PUPR, DLH = opd_topic(J, "dinas-pupr").base, opd_topic(J, "dlh").base
PLACE = ev.Location(address="Jl. Merdeka No. 10, depan rumah saya", kelurahan="Babakan Ciamis",
                    kecamatan="Sumur Bandung", lat=-6.9175, lon=107.6191)
TEXT = ("Jalan berlubang besar di depan SDN 3, sudah dua minggu. Hubungi saya di 0812-3456-7890 "
        "atau siti.rahayu@example.id, NIK 3273014501900002.")
SECRETS = ("0812", "3456-7890", "siti.rahayu", "example.id", "3273014501900002")


class Feeds:
    """routing's consumer on in-memory twins: its own handlers, then the feed's."""

    def __init__(self) -> None:
        self.uow = RoutingInMemoryUnitOfWork()
        self.topics = InMemoryTopicCreator()
        self.consumer = EventConsumer("routing", lambda: self.uow, InMemoryPublisher(), "t.dlq",
                                      max_attempts=1, backoff_initial=0.001, backoff_max=0.001)
        subscribe(self.consumer, Router(lambda: NOW, 0.5, classifier=KeywordClassifier(), jurisdictions=FixedJurisdictions()))
        subscribe_feed(self.consumer, OpdFeed(self.topics))
        self.cid = uuid.uuid4()
        self.at = NOW

    async def deliver(self, event: ev.Event) -> Outcome:
        key, value, headers = to_record(wrap(event, "/intake"))
        return await self.consumer.process(ConsumedRecord("t.intake", 0, 0, key, value, headers))

    def on(self, topic: str) -> list[ev.Event]:
        return self.uow.outbox.on_topic(topic)

    def raw_on(self, topic: str) -> list[bytes]:
        return [r.value for r, _ in self.uow.outbox.committed if r.topic == topic]

    async def submit(self, anonymous: bool) -> None:
        await self.deliver(ev.ComplaintSubmittedV1(
            complaint_id=self.cid, occurred_at=self.at, tracking_number="1000001",
            jurisdiction=J, channel="web", title="Jalan berlubang, hub 081234567890",
            description=TEXT, category="pupr.jalan-rusak", location=PLACE, anonymous=anonymous))

    async def step(self, model: type[ev.ComplaintTransitionV1], action: str, frm: str, to: str,
                   opd: str | None, role: str = "opd", **fields) -> None:
        self.at += timedelta(minutes=1)
        assert await self.deliver(model(
            complaint_id=self.cid, occurred_at=self.at, tracking_number="1000001",
            jurisdiction=J, action=action, from_status=frm, to_status=to, actor_role=role,
            actor="dinas-pupr/staff-7" if role == "opd" else None, opd_id=opd, **fields)
        ) is Outcome.APPLIED

    async def dispose(self, opd: str, previous: str | None = None, frm: str = "submitted") -> None:
        await self.step(ev.ComplaintDisposedV1, "assign", frm, "disposed", opd, role="system",
                        opd_name=opd.upper(), previous_opd_id=previous, reason="routing",
                        note="Didisposisikan; pelapor bisa dihubungi 0812 3456 7890")


# ---- the privacy filter (pure)


def test_anonim_place_is_kecamatan_and_kelurahan_only():
    seen = opd_location(PLACE, anonymous=True)
    assert seen == ev.OpdLocation(kecamatan="Sumur Bandung", kelurahan="Babakan Ciamis")
    assert seen.address is None and seen.lat is None and seen.lon is None
    assert opd_location(ev.Location(address="Jl. Merdeka 1", lat=1, lon=2), anonymous=True) is None


def test_named_reporter_place_is_kept_whole():
    seen = opd_location(PLACE, anonymous=False)
    assert (seen.address, seen.lat, seen.lon) == (PLACE.address, PLACE.lat, PLACE.lon)


def test_a_view_never_carries_contacts_written_into_the_text():
    complaint = RoutedComplaint(uuid.uuid4(), "1000001", J, "id", "hub 081234567890", TEXT,
                                added_info=("email saya budi@example.id",), location=PLACE,
                                anonymous=True)
    disposed = ev.ComplaintDisposedV1(
        complaint_id=complaint.complaint_id, occurred_at=NOW, tracking_number="1000001",
        jurisdiction=J, action="assign", from_status="submitted", to_status="disposed",
        actor_role="system", opd_id="dinas-pupr", opd_name="Dinas PUPR")
    (view,) = feed_of(disposed, complaint)
    dumped = view.model_dump_json()
    for secret in (*SECRETS, "081234567890", "budi@", "Jl. Merdeka", "-6.9175"):
        assert secret not in dumped
    assert "[disamarkan]" in view.description and view.added_information == ["email saya [disamarkan]"]
    assert view.location == ev.OpdLocation(kecamatan="Sumur Bandung", kelurahan="Babakan Ciamis")


# ---- through the consumer, as wired in production


async def test_disposition_puts_the_complaint_on_its_opds_topic_without_identity():
    f = Feeds()
    await f.submit(anonymous=True)
    await f.dispose("dinas-pupr")
    (view,) = f.on(PUPR)
    assert isinstance(view, ev.OpdComplaintAssignedV1)
    assert (view.tracking_number, view.opd_id, view.category) == ("1000001", "dinas-pupr",
                                                                  "pupr.jalan-rusak")
    assert view.title.startswith("Jalan berlubang") and "SDN 3" in view.description
    assert view.anonymous and view.location.address is None and view.location.lat is None
    (raw,) = f.raw_on(PUPR)
    body = raw.decode()
    for secret in (*SECRETS, "Jl. Merdeka", "107.6191", "staff-7"):
        assert secret not in body
    assert set(json.loads(body)) >= {"complaint_id", "tracking_number", "title", "description"}
    assert f.topics.created == {PUPR: OPD_FEED_PARTITIONS}
    assert f.uow.complaints.find(f.cid).with_opd == "dinas-pupr"


async def test_the_opd_hears_its_own_steps_the_citizens_reply_closure_and_rating():
    f = Feeds()
    await f.submit(anonymous=False)
    await f.dispose("dinas-pupr")
    await f.step(ev.ComplaintAcceptedV1, "accept", "disposed", "accepted", "dinas-pupr")
    await f.step(ev.ComplaintFollowedUpV1, "respond", "accepted", "followed_up", "dinas-pupr",
                 note="Tim meninjau Senin.")
    await f.step(ev.CitizenRepliedV1, "citizen_reply", "followed_up", "citizen_replied",
                 "dinas-pupr", role="citizen", note="Makin besar, WA saya 0812-3456-7890")
    await f.step(ev.ComplaintResolvedV1, "resolve", "citizen_replied", "resolved", "dinas-pupr",
                 evidence="Ditambal hotmix")
    await f.step(ev.ComplaintClosedV1, "close", "resolved", "closed", "dinas-pupr", role="citizen")
    await f.step(ev.ComplaintRatedV1, "rate", "closed", "closed", "dinas-pupr", role="citizen",
                 rating=4, comment="Cepat")
    await f.step(ev.ComplaintReopenedV1, "reopen", "closed", "reopened", "dinas-pupr",
                 role="citizen", reason="Berlubang lagi")
    assigned, *updates = f.on(PUPR)
    assert assigned.location.address == PLACE.address      # a named reporter: the whole place
    assert [u.action for u in updates] == ["accept", "respond", "citizen_reply", "resolve",
                                           "close", "rate", "reopen"]
    reply = updates[2]
    assert reply.note == "Makin besar, WA saya [disamarkan]" and reply.actor_role == "citizen"
    assert updates[3].evidence == "Ditambal hotmix"
    assert (updates[5].rating, updates[5].comment) == (4, "Cepat")
    assert updates[6].reason == "Berlubang lagi"
    assert f.on(DLH) == []


async def test_reassignment_withdraws_it_from_the_first_opd_and_gives_it_to_the_second():
    f = Feeds()
    await f.submit(anonymous=True)
    await f.dispose("dinas-pupr")
    await f.step(ev.ComplaintDisposedV1, "reassign", "disposed", "disposed", "dlh",
                 role="operator", opd_name="DLH", previous_opd_id="dinas-pupr")
    assigned, withdrawn = f.on(PUPR)
    assert isinstance(withdrawn, ev.OpdComplaintWithdrawnV1)
    assert (withdrawn.reason, withdrawn.opd_id) == ("reassigned", "dinas-pupr")
    assert "dlh" not in withdrawn.model_dump_json()          # where it went is not told
    (view,) = f.on(DLH)
    assert isinstance(view, ev.OpdComplaintAssignedV1) and "SDN 3" in view.description
    # Later facts go to the new OPD only.
    await f.step(ev.ComplaintAcceptedV1, "accept", "disposed", "accepted", "dlh")
    assert len(f.on(PUPR)) == 2 and len(f.on(DLH)) == 2


async def test_rejection_withdraws_it_from_the_rejecter_and_a_merge_from_its_holder():
    f = Feeds()
    await f.submit(anonymous=True)
    await f.dispose("dinas-pupr")
    await f.step(ev.ComplaintRejectedNotAuthorityV1, "reject_not_authority", "disposed",
                 "returned", None, rejecting_opd_id="dinas-pupr", reason="Ini sampah",
                 rejected_by=["dinas-pupr"])
    assert [type(e).__name__ for e in f.on(PUPR)] == ["OpdComplaintAssignedV1",
                                                       "OpdComplaintWithdrawnV1"]
    assert f.on(PUPR)[-1].reason == "rejected"
    assert f.uow.complaints.find(f.cid).rejected_by == ("dinas-pupr",)   # routing's own, kept
    await f.dispose("dlh", frm="returned")
    await f.step(ev.ComplaintMergedV1, "merge", "disposed", "merged", "dlh", role="operator",
                 into_complaint_id=uuid.uuid4(), into_tracking_number="1000009")
    withdrawn = f.on(DLH)[-1]
    assert (withdrawn.reason, withdrawn.into_tracking_number) == ("merged", "1000009")
    assert f.uow.complaints.find(f.cid).with_opd is None


async def test_facts_before_any_opd_reach_no_feed():
    f = Feeds()
    await f.submit(anonymous=False)
    await f.step(ev.ComplaintPostponedV1, "postpone", "submitted", "postponed", None,
                 role="operator", note="Di mana tepatnya?")
    await f.step(ev.ComplaintArchivedV1, "archive", "postponed", "archived", None,
                 role="operator", reason="unclear")
    assert [r for r, _ in f.uow.outbox.committed if r.topic.startswith("complaints.opd.")] == []


async def test_a_refused_action_is_told_to_the_opd_its_token_names_and_no_one_else():
    f = Feeds()
    refused = dict(complaint_id=uuid.uuid4(), occurred_at=NOW, request_id="r-1",
                   tracking_number="1000001", action="respond", reason="not_found", detail="x")
    await f.deliver(ev.OpdActionRefusedV1(**refused, jurisdiction=J, opd_id="dlh"))
    await f.deliver(ev.OpdActionRefusedV1(**{**refused, "reason": "invalid_token"}))
    (told,) = f.on(DLH)
    assert isinstance(told, ev.OpdActionRefusedV1) and told.request_id == "r-1"
    assert "token" not in told.model_dump()
    assert [r.topic for r, _ in f.uow.outbox.committed] == [DLH]


# ---- the backbone pieces


async def test_a_second_handler_runs_after_the_first_in_the_same_unit_of_work():
    uow = InMemoryUnitOfWork()
    consumer = EventConsumer("x", lambda: uow, InMemoryPublisher(), "t.dlq", max_attempts=1)
    calls: list[str] = []

    async def first(event, uow):
        calls.append("first")

    async def second(event, uow):
        calls.append("second")
        raise RuntimeError("fails the whole unit")

    consumer.on(ev.ComplaintAcceptedV1, first)
    consumer.also(ev.ComplaintAcceptedV1, second)
    consumer.also(ev.ComplaintClosedV1, first)         # `also` alone subscribes too
    assert consumer.event_types == sorted([ev.ComplaintAcceptedV1.event_type,
                                           ev.ComplaintClosedV1.event_type])
    base = dict(complaint_id=uuid.uuid4(), occurred_at=NOW, tracking_number="1", jurisdiction=J,
                from_status="disposed", to_status="accepted", actor_role="opd", opd_id="dlh")
    key, value, headers = to_record(wrap(ev.ComplaintAcceptedV1(**base, action="accept"), "/t"))
    outcome = await consumer.process(ConsumedRecord("t", 0, 0, key, value, headers))
    assert calls == ["first", "second"] and outcome is Outcome.DEAD_LETTERED
    assert uow.commits == 0
    key, value, headers = to_record(wrap(ev.ComplaintClosedV1(**base, action="close"), "/t"))
    assert await consumer.process(ConsumedRecord("t", 0, 1, key, value, headers)) is Outcome.APPLIED


async def test_the_outbox_records_an_event_for_an_explicit_topic():
    outbox = InMemoryOutbox(topic_prefix="t1.")
    refused = ev.OpdActionRefusedV1(complaint_id=uuid.uuid4(), occurred_at=NOW, request_id="r",
                                    tracking_number="1", action="accept", reason="not_found")
    await outbox.record(refused)
    await outbox.record(refused, opd_topic(J, "dlh"))
    outbox.commit()
    assert [r.topic for r, _ in outbox.committed] == ["t1.complaints.intake.events", "t1." + DLH]
    record = outbox.committed[1][0]
    assert from_record(record.key, record.value, record.headers).event == refused


async def test_feed_events_have_no_default_topic():
    view = ev.OpdComplaintWithdrawnV1(complaint_id=uuid.uuid4(), occurred_at=NOW,
                                      tracking_number="1", jurisdiction=J, opd_id="dlh",
                                      action="archive", to_status="archived", reason="archived")
    with pytest.raises(KeyError):
        await InMemoryOutbox().record(view)


def test_opd_topic_names_refuse_what_kafka_could_not_hold():
    assert opd_topic(J, "dinas-pupr").base == "complaints.opd.kota-bandung.dinas-pupr"
    for bad in ("", "dinas pupr", "../x", "dinas.pupr"):
        with pytest.raises(ValueError):
            opd_topic(J, bad)


async def test_configured_opds_get_their_topics_and_a_configured_name_is_honoured():
    topics = InMemoryTopicCreator(prefix="p.")

    def configured(jurisdiction: str, opd_id: str) -> Topic:
        if opd_id == "dlh":
            return Topic("bdg.dlh.inbox", OPD_FEED_PARTITIONS, "routing", "named in the file")
        return opd_topic(jurisdiction, opd_id)

    feed = OpdFeed(topics, topic_of=configured)
    await feed.create_topics([(J, "dinas-pupr"), (J, "dlh")])
    assert topics.created == {"p." + PUPR: OPD_FEED_PARTITIONS, "p.bdg.dlh.inbox": OPD_FEED_PARTITIONS}
