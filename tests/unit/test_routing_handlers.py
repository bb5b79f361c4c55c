"""routing's handlers against the in-memory twins, wired as app.py wires them: first routing,
re-routing after "bukan wewenang" (never back to a rejecter), after added information and a
resume, complaints routing never saw, operator disposals, and replays."""

import uuid
from datetime import datetime, timezone

from contracts import taxonomy as tx
from backbone.consumer import ConsumedRecord, EventConsumer, Outcome
from backbone.kafka import InMemoryPublisher
from contracts.envelope import to_record, wrap
from contracts.events import (
    ComplaintAssignedV1, ComplaintDisposedV1, ComplaintInformationAddedV1,
    ComplaintRejectedNotAuthorityV1, ComplaintResumedV1, ComplaintSentToTriageV1,
    ComplaintSubmittedV1,
)
from routing.adapters.decisions import RoutingInMemoryUnitOfWork
from routing.app import subscribe
from routing.domain.decision import NO_TEXT, ONLY_ADDED
from routing.domain.keyword_classifier import KeywordClassifier
from routing.handlers import Router
from routing.jurisdiction_registry import FixedJurisdictions

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)  # a Friday
# A scripted classifier (the keyword twin over a small taxonomy), so these tests are about the
# handlers, not about classifying: each keyword found is one vote for its subcategory, and the
# sample jurisdiction kota-bandung sends each subcategory to the OPD named in the comment.
WORDS = tx.parse({"categories": [
    {"code": "pupr", "name": "PUPR", "subcategories": [{"code": "pupr.jalan-rusak", "name": "x",  # dinas-pupr
     "keywords": ["jalan berlubang", "berlubang", "aspal", "jembatan"]}]},
    {"code": "lingkungan", "name": "LH", "subcategories": [{"code": "lingkungan.sampah", "name": "x",  # dlh
     "keywords": ["sampah", "tps"]}]},
    {"code": "trantibum", "name": "T", "subcategories": [{"code": "trantibum.pkl", "name": "x",  # satpol-pp
     "keywords": ["pkl"]}]},
    {"code": "perhubungan", "name": "H", "subcategories": [{"code": "perhubungan.parkir-liar",  # dishub
     "name": "x", "keywords": ["parkir liar", "angkot"]}]},
    {"code": "adminduk", "name": "A", "subcategories": [{"code": "adminduk.ktp-el", "name": "x",  # disdukcapil
     "keywords": ["ktp"]}]},
    {"code": "lainnya", "name": "L", "subcategories": [{"code": "lainnya.lain-lain", "name": "x"}]},
]})
# Matches dinas-pupr (4 keywords), dlh (2), satpol-pp (1), dishub (1): see test_routing_rules.
BUSY = ("Jalan berlubang",
        "Jalan berlubang dekat jembatan, aspal rusak; sampah menumpuk di TPS; PKL dan angkot ngetem.")


class Routing:
    """routing's consumer on in-memory twins, subscribed exactly as in production."""

    def __init__(self) -> None:
        self.uow = RoutingInMemoryUnitOfWork()
        self.consumer = EventConsumer("routing", lambda: self.uow, InMemoryPublisher(), "t.dlq",
                                      max_attempts=1, backoff_initial=0.001, backoff_max=0.001)
        subscribe(self.consumer, Router(lambda: NOW, 0.5, classifier=KeywordClassifier(WORDS),
                                                 jurisdictions=FixedJurisdictions(),
                                                 categories=tuple(s.code for s in WORDS.subcategories())))

    async def feed(self, event, event_id=None):
        """Deliver `event` as a Kafka record; the last event published, if any, and the outcome."""
        key, value, headers = to_record(wrap(event, "/intake", event_id))
        before = len(self.uow.outbox.events)
        outcome = await self.consumer.process(ConsumedRecord("t.intake", 0, 0, key, value, headers))
        published = self.uow.outbox.events[before:]
        assert len(published) <= 1
        return (published[0] if published else None), outcome

    async def publish(self, event):
        out, outcome = await self.feed(event)
        assert outcome is Outcome.APPLIED
        return out

    async def history(self, complaint_id):
        return await self.uow.decisions.history(complaint_id)


def submitted(title, description, complaint_id=None):
    return ComplaintSubmittedV1(complaint_id=complaint_id or uuid.uuid4(), occurred_at=NOW,
                                tracking_number="1000001", jurisdiction="kota-bandung",
                                channel="web", title=title, description=description)


def transition(model, complaint_id, **fields):
    base = dict(complaint_id=complaint_id, occurred_at=NOW, tracking_number="1000001",
                jurisdiction="kota-bandung", action="x", from_status="x", to_status="x",
                actor_role="system")
    return model(**{**base, **fields})


def rejected(complaint_id, by: list[str], suggested=None, rejected_by=None):
    return transition(ComplaintRejectedNotAuthorityV1, complaint_id, action="reject_not_authority",
                      from_status="disposed", to_status="returned", actor_role="opd",
                      actor=f"{by[-1]}/u1", rejecting_opd_id=by[-1], reason="bukan wewenang kami",
                      rejected_by=by if rejected_by is None else rejected_by,
                      suggested_opd_id=suggested)


def information_added(complaint_id, note):
    return transition(ComplaintInformationAddedV1, complaint_id, action="provide_info",
                      from_status="postponed", to_status="submitted", actor_role="citizen", note=note)


def resumed(complaint_id, note=None):
    return transition(ComplaintResumedV1, complaint_id, action="resume", from_status="postponed",
                      to_status="submitted", actor_role="operator", actor="op-1", note=note)


def disposed(complaint_id, role, action="assign", opd="dlh"):
    return transition(ComplaintDisposedV1, complaint_id, action=action, from_status="triage",
                      to_status="disposed", actor_role=role,
                      actor="op-1" if role == "operator" else "routing", opd_id=opd, opd_name=opd.upper())


def test_every_lifecycle_event_routing_needs_is_subscribed():
    assert set(Routing().consumer.event_types) == {m.event_type for m in (
        ComplaintSubmittedV1, ComplaintRejectedNotAuthorityV1, ComplaintInformationAddedV1,
        ComplaintResumedV1, ComplaintDisposedV1)}


async def test_routing_assigns_or_sends_to_triage():
    routing = Routing()
    assigned = await routing.publish(submitted("Sampah menumpuk", "Sampah tidak diangkut seminggu di TPS."))
    triage = await routing.publish(submitted("Pertanyaan", "Kapan jadwal acara kota berikutnya diumumkan?"))
    assert isinstance(assigned, ComplaintAssignedV1) and assigned.opd_id == "dlh"
    assert isinstance(triage, ComplaintSentToTriageV1)
    assert [len(await routing.history(e.complaint_id)) for e in (assigned, triage)] == [1, 1]


async def test_bukan_wewenang_reroutes_to_another_opd_and_never_back():
    routing = Routing()
    event = submitted(*BUSY)
    first = await routing.publish(event)
    assert isinstance(first, ComplaintAssignedV1) and first.opd_id == "dinas-pupr"

    second = await routing.publish(rejected(event.complaint_id, ["dinas-pupr"]))
    assert isinstance(second, ComplaintAssignedV1) and second.opd_id == "dlh"
    assert second.reason.startswith("re-route after rejection by dinas-pupr")

    third = await routing.publish(rejected(event.complaint_id, ["dinas-pupr", "dlh"]))
    assert isinstance(third, ComplaintSentToTriageV1)
    assert set(third.suggestions) == {"satpol-pp", "dishub"}, "never suggested again either"
    assert "re-route after rejection by dlh" in third.reason and "dinas-pupr, dlh" in third.reason
    assert [d.trigger for d in await routing.history(event.complaint_id)] == [
        "submitted", "rejected", "rejected"]


async def test_a_rejecter_stays_excluded_even_if_a_later_event_omits_it():
    routing = Routing()
    event = submitted(*BUSY)
    await routing.publish(event)
    await routing.publish(rejected(event.complaint_id, ["dinas-pupr"]))
    out = await routing.publish(rejected(event.complaint_id, ["dlh"], rejected_by=[]))
    assert isinstance(out, ComplaintSentToTriageV1) and not {"dinas-pupr", "dlh"} & set(out.suggestions)
    assert (await routing.uow.complaints.get(event.complaint_id)).rejected_by == ("dinas-pupr", "dlh")


async def test_the_rejecters_suggestion_leads_only_when_routing_is_unsure():
    routing = Routing()
    event = submitted("Sampah", "Sampah menumpuk di TPS dekat pasar.")
    await routing.publish(event)
    out = await routing.publish(rejected(event.complaint_id, ["dlh"], suggested="disdagin-x"))
    assert isinstance(out, ComplaintSentToTriageV1) and out.suggestions == [], "unknown OPD ignored"
    out = await routing.publish(rejected(event.complaint_id, ["dlh"], suggested="satpol-pp"))
    assert isinstance(out, ComplaintSentToTriageV1) and out.suggestions[0] == "satpol-pp"


async def test_information_added_is_read_with_the_complaint():
    routing = Routing()
    event = submitted("Mohon ditindaklanjuti", "Sudah lama dibiarkan begitu saja di dekat rumah.")
    assert isinstance(await routing.publish(event), ComplaintSentToTriageV1)
    out = await routing.publish(information_added(event.complaint_id, "Sampah di TPS tidak diangkut."))
    assert isinstance(out, ComplaintAssignedV1) and out.opd_id == "dlh"
    assert "information added" in out.reason


async def test_information_added_after_a_rejection_still_excludes_the_rejecter():
    routing = Routing()
    event = submitted("Mohon ditindaklanjuti", "Sudah lama dibiarkan begitu saja.")
    await routing.publish(event)
    await routing.publish(rejected(event.complaint_id, ["dlh"]))
    out = await routing.publish(information_added(event.complaint_id, "Sampah dan parkir liar di TPS."))
    assert isinstance(out, ComplaintAssignedV1) and out.opd_id == "dishub"
    kept = await routing.uow.complaints.get(event.complaint_id)
    assert kept.added_info == ("Sampah dan parkir liar di TPS.",) and kept.rejected_by == ("dlh",)


async def test_a_resume_routes_again_with_the_operators_note():
    routing = Routing()
    event = submitted("Mohon dicek", "Sudah lama dibiarkan begitu saja.")
    await routing.publish(event)
    assert isinstance(await routing.publish(resumed(event.complaint_id)), ComplaintSentToTriageV1)
    out = await routing.publish(resumed(event.complaint_id, note="Warga menelepon: KTP belum jadi."))
    assert isinstance(out, ComplaintAssignedV1) and out.opd_id == "disdukcapil"
    assert [d.trigger for d in await routing.history(event.complaint_id)] == [
        "submitted", "resumed", "resumed"]


async def test_a_rejection_of_a_complaint_routing_never_saw_goes_to_triage_saying_why():
    routing = Routing()
    cid = uuid.uuid4()
    out, outcome = await routing.feed(rejected(cid, ["dinas-pupr"], suggested="dlh"))
    assert outcome is Outcome.APPLIED and isinstance(out, ComplaintSentToTriageV1)
    assert NO_TEXT in out.reason and out.suggestions == ["dlh"]
    # It is kept from then on: later events still exclude the rejecter and read what is added.
    out = await routing.publish(information_added(cid, "Jalan berlubang dan sampah di TPS."))
    assert isinstance(out, ComplaintSentToTriageV1) and ONLY_ADDED in out.reason
    assert out.suggestions == ["dlh"], "dinas-pupr matched too, but rejected it"


async def test_added_information_for_a_complaint_routing_never_saw_is_kept():
    routing = Routing()
    cid = uuid.uuid4()
    out = await routing.publish(information_added(cid, "Parkir liar tiap sore."))
    assert isinstance(out, ComplaintSentToTriageV1) and out.suggestions == ["dishub"]
    assert (await routing.uow.complaints.get(cid)).added_info == ("Parkir liar tiap sore.",)


async def test_an_operators_disposal_is_logged_not_published():
    routing = Routing()
    cid = uuid.uuid4()
    assert (await routing.feed(disposed(cid, "operator")))[0] is None
    assert (await routing.feed(disposed(cid, "operator", action="reassign", opd="dishub")))[0] is None
    assert (await routing.feed(disposed(cid, "system")))[0] is None, "routing's own, already logged"
    log = await routing.history(cid)
    assert [(d.trigger, d.decided_by, d.opd_id) for d in log] == [
        ("operator_assign", "op-1", "dlh"), ("operator_reassign", "op-1", "dishub")]
    assert routing.uow.outbox.events == []


async def test_a_redelivered_event_changes_nothing():
    routing = Routing()
    event = submitted(*BUSY)
    await routing.publish(event)
    rejection = rejected(event.complaint_id, ["dinas-pupr"])
    event_id = str(uuid.uuid4())
    assert (await routing.feed(rejection, event_id))[1] is Outcome.APPLIED
    out, outcome = await routing.feed(rejection, event_id)
    assert (out, outcome) == (None, Outcome.DUPLICATE)
    assert len(await routing.history(event.complaint_id)) == 2


async def test_a_submitted_event_seen_again_under_a_new_id_neither_reroutes_nor_forgets():
    routing = Routing()
    event = submitted(*BUSY)
    await routing.publish(event)
    await routing.publish(rejected(event.complaint_id, ["dinas-pupr"]))
    out, outcome = await routing.feed(event)  # a new event id: past the inbox
    assert (out, outcome) == (None, Outcome.APPLIED)
    assert (await routing.uow.complaints.get(event.complaint_id)).rejected_by == ("dinas-pupr",)


async def test_a_late_submitted_event_fills_in_the_text_of_a_complaint_kept_without_it():
    routing = Routing()
    cid = uuid.uuid4()
    await routing.publish(rejected(cid, ["dinas-pupr"]))
    assert (await routing.feed(submitted(*BUSY, complaint_id=cid)))[0] is None
    out = await routing.publish(rejected(cid, ["dinas-pupr", "dlh"]))
    assert isinstance(out, ComplaintSentToTriageV1) and set(out.suggestions) == {"satpol-pp", "dishub"}


async def test_people_teach_routing_operator_disposals_and_rejections_become_labelled_examples():
    routing = Routing()
    cid = uuid.uuid4()
    await routing.publish(submitted("Sampah dan jalan", "Sampah menumpuk di pinggir jalan rusak.", cid))
    await routing.feed(disposed(cid, "operator", opd="dlh"))
    await routing.feed(rejected(cid, ["dlh"]))
    await routing.feed(disposed(cid, "operator", action="reassign", opd="dinas-pupr"))
    await routing.feed(disposed(cid, "operator", action="reassign", opd="dinas-pupr"))
    await routing.feed(disposed(cid, "system", opd="dishub"))
    examples = await routing.uow.examples.since(NOW)
    assert [(e.opd_id, e.positive, e.source, e.decided_by) for e in examples] == [
        ("dlh", True, "operator_assign", "op-1"), ("dlh", False, "rejection", "dlh/u1"),
        ("dinas-pupr", True, "operator_reassign", "op-1")], "once each; routing's own teach nothing"
    assert examples[0].title == "Sampah dan jalan" and "menumpuk" in examples[0].description
    never_seen = uuid.uuid4()
    await routing.feed(disposed(never_seen, "operator"))
    assert len(await routing.uow.examples.since(NOW)) == 3, "no text, nothing learnt"


async def test_a_new_complaint_is_compared_for_duplicates_with_what_the_classifier_read():
    told = []

    async def duplicates(event, uow, category):
        told.append((event.complaint_id, category))

    routing = Routing()
    routing.consumer = EventConsumer("routing", lambda: routing.uow, InMemoryPublisher(), "t.dlq",
                                     max_attempts=1, backoff_initial=0.001, backoff_max=0.001)
    subscribe(routing.consumer, Router(lambda: NOW, 0.5, classifier=KeywordClassifier(WORDS),
                                       jurisdictions=FixedJurisdictions(), duplicates=duplicates,
                                       categories=tuple(s.code for s in WORDS.subcategories())))
    event = submitted("Sampah menumpuk", "Sampah tidak diangkut seminggu di TPS.")
    await routing.publish(event)
    await routing.feed(event)     # seen again under a new id: not compared twice
    assert told == [(event.complaint_id, "lingkungan.sampah")]
