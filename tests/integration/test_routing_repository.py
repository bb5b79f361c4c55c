"""routing's tables: the in-memory twins and PostgreSQL keep texts and decisions alike, and the
handlers re-route the same way on both."""

import uuid
from datetime import datetime, timezone

import pytest

from contracts.events import ComplaintRejectedNotAuthorityV1, ComplaintSubmittedV1
from routing.adapters.decisions import RoutingInMemoryUnitOfWork, RoutingPgUnitOfWork
from routing.domain.complaint_text import RoutedComplaint
from routing.domain.decision import Decision
from routing.domain.keyword_classifier import KeywordClassifier
from routing.handlers import Router
from routing.jurisdiction_registry import FixedJurisdictions
from tests.integration.helpers import read_ahead, twin_or_postgres

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["memory", "postgres"])
async def make_uow(request, pool, prefix):
    return await twin_or_postgres(request.param, pool, prefix, "routing", RoutingInMemoryUnitOfWork,
                                  lambda schema: RoutingPgUnitOfWork(pool, "/test", prefix, schema))


async def test_texts_are_replaced_whole_and_decisions_pile_up_in_order(make_uow):
    cid = uuid.uuid4()
    bare = RoutedComplaint.without_text(cid, "1000001", "kota-contoh").with_rejections("dinas-pupr")
    async with make_uow() as uow:
        await uow.complaints.keep(bare)
        await uow.decisions.record(cid, "1000001", "kota-contoh", Decision("triage", 0, "r1"), NOW,
                                   trigger="rejected")
    async with make_uow() as uow:
        again = await uow.complaints.get(cid)
        assert again == bare and not again.has_text
        await uow.complaints.keep(again.with_text("Sampah", "Menumpuk di TPS", "en")
                                  .with_information("Jl. Kenanga").with_rejections("dlh"))
        await uow.decisions.record(cid, "1000001", "kota-contoh",
                                   Decision("assign", 1 / 3, "r2", opd_id="dishub", opd_name="Dishub", suggestions=("dishub", "dinkes")),
                                   NOW, trigger="operator_assign", decided_by="op-1")
    async with make_uow() as uow:
        final = await uow.complaints.get(cid)
        assert await uow.complaints.get(uuid.uuid4()) is None
        log = await uow.decisions.history(cid)
    assert (final.title, final.language, final.added_info, final.rejected_by) == (
        "Sampah", "en", ("Jl. Kenanga",), ("dinas-pupr", "dlh"))
    assert [(d.trigger, d.decided_by, d.opd_id, d.confidence, d.suggestions, d.reason) for d in log] == [
        ("rejected", "routing", None, 0.0, (), "r1"),
        ("operator_assign", "op-1", "dishub", 0.333, ("dishub", "dinkes"), "r2")]
    assert all(d.decided_at == NOW for d in log)


async def test_a_batch_locks_its_complaints_at_once_and_writes_each_once(make_uow):
    """A consumer batch reads its complaints before its handlers and writes what they kept at
    the end: later reads in the batch see the last keep, an unknown one is None until kept,
    and the next batch reads every field back (arrays, place and all), including empty ones."""
    from contracts.events import Location

    kept, fresh = uuid.uuid4(), uuid.uuid4()
    place = Location(lat=-6.9175, lon=107.6191, address="Jl. Asia Afrika")
    first = RoutedComplaint(kept, "1000021", "kota-contoh", "id", "Jalan rusak", "Berlubang",
                            category="jalan", location=place)
    async with make_uow() as uow:
        await uow.complaints.keep(first)
    async with make_uow() as uow:
        await read_ahead(uow, uow.complaints.reads_ahead([fresh, kept]))
        assert await uow.complaints.get(kept) == first
        assert await uow.complaints.get(fresh) is None
        late = first.with_information("Sudah dua minggu").with_rejections("dinas-pupr", "dlh")
        await uow.complaints.keep(first.with_information("sementara"))
        await uow.complaints.keep(late)
        bare = RoutedComplaint.without_text(fresh, "1000022", "kota-contoh")
        await uow.complaints.keep(bare)
        assert await uow.complaints.get(kept) == late and await uow.complaints.get(fresh) == bare
    async with make_uow() as uow:
        await read_ahead(uow, uow.complaints.reads_ahead([kept, fresh]))
        assert await uow.complaints.get(kept) == late
        assert await uow.complaints.get(fresh) == bare
    assert (late.added_info, late.rejected_by, late.location) == (
        ("Sudah dua minggu",), ("dinas-pupr", "dlh"), place)


async def test_a_triage_decision_keeps_its_candidates_and_words_alike(make_uow):
    from routing.domain.classification import Classification
    from routing.domain.decision import Candidate, Destination

    cid = uuid.uuid4()
    read = Classification("jalan", "jalan.rusak", "pengaduan", "normal", 0.41,
                          (("jalan.rusak", 0.41), ("air-minum.pipa-bocor", 0.3)), ("lubang", "aspal"))
    decision = Decision("triage", 0.41, "not sure enough", suggestions=("dinas-pupr", "pdam"),
                        candidates=(Candidate("jalan.rusak", 0.41, Destination("dinas-pupr", "Dinas PUPR")),
                                    Candidate("air-minum.pipa-bocor", 0.3, Destination(not_ours="PDAM"))),
                        classification=read)
    async with make_uow() as uow:
        await uow.decisions.record(cid, "1000077", "kota-contoh", decision, NOW)
    async with make_uow() as uow:
        by_number = await uow.decisions.history_by_numbers(["1000077", "1000078"])
        assert await uow.decisions.history_by_numbers(["1000078"]) == {}
    assert by_number == {"1000077": await _history(make_uow, cid)}
    (logged,) = by_number["1000077"]
    assert logged.category == "jalan.rusak" and logged.explanation == ("lubang", "aspal")
    assert logged.candidates == (
        {"category": "jalan.rusak", "confidence": 0.41, "opd_id": "dinas-pupr",
         "opd_name": "Dinas PUPR", "not_ours": None},
        {"category": "air-minum.pipa-bocor", "confidence": 0.3, "opd_id": None,
         "opd_name": None, "not_ours": "PDAM"})


async def _history(make_uow, cid):
    async with make_uow() as uow:
        return await uow.decisions.history(cid)


async def test_a_rolled_back_unit_of_work_keeps_nothing(make_uow):
    cid = uuid.uuid4()
    with pytest.raises(RuntimeError):
        async with make_uow() as uow:
            await uow.complaints.keep(RoutedComplaint.without_text(cid, "1", "k"))
            await uow.decisions.record(cid, "1", "k", Decision("triage", 0, "r"), NOW)
            raise RuntimeError("boom")
    async with make_uow() as uow:
        assert await uow.complaints.get(cid) is None and await uow.decisions.history(cid) == []


async def test_rerouting_after_two_rejections_on_either_store(make_uow):
    # Threshold 0: routing always acts, so each round has an OPD to reject.
    router = Router(lambda: NOW, 0.0, classifier=KeywordClassifier(), jurisdictions=FixedJurisdictions())
    cid = uuid.uuid4()

    async def handle(handler, event):
        async with make_uow() as uow:
            await handler(event, uow)

    await handle(router.on_complaint_submitted, ComplaintSubmittedV1(
        complaint_id=cid, occurred_at=NOW, tracking_number="1000001", jurisdiction="kota-bandung",
        channel="web", title="Jalan berlubang", description="Jalan berlubang dekat jembatan, aspal"
        " rusak; sampah menumpuk di TPS; PKL dan angkot ngetem."))
    rejecters: list[str] = []
    for _ in range(2):   # whoever routing chose says "bukan wewenang"
        async with make_uow() as uow:
            rejecters.append((await uow.decisions.history(cid))[-1].opd_id)
        await handle(router.on_rejected, ComplaintRejectedNotAuthorityV1(
            complaint_id=cid, occurred_at=NOW, tracking_number="1000001", jurisdiction="kota-bandung",
            action="reject_not_authority", from_status="disposed", to_status="returned",
            actor_role="opd", rejecting_opd_id=rejecters[-1], reason="bukan wewenang",
            rejected_by=list(rejecters)))
    async with make_uow() as uow:
        log = await uow.decisions.history(cid)
        kept = await uow.complaints.get(cid)
    assert [d.trigger for d in log] == ["submitted", "rejected", "rejected"]
    assert None not in rejecters and len(set(rejecters)) == 2, "each time another OPD"
    assert log[-1].opd_id not in rejecters and not set(rejecters) & set(log[-1].suggestions)
    assert kept.rejected_by == tuple(rejecters)


async def test_labelled_examples_keep_each_lesson_once_alike(make_uow):
    from datetime import timedelta

    from routing.adapters.labelled_examples import LabelledExample
    cid = uuid.uuid4()

    def lesson(opd: str, positive: bool, minutes: int, source: str = "operator_assign"):
        return LabelledExample(cid, "1000001", "kota-bandung", "Sampah", "Menumpuk di TPS", opd,
                               positive, source, "op-1", NOW + timedelta(minutes=minutes))

    async with make_uow() as uow:
        await uow.examples.add(lesson("dinas-pupr", True, 1))
        await uow.examples.add(lesson("dinas-pupr", False, 2, "rejection"))
    async with make_uow() as uow:
        await uow.examples.add(lesson("dinas-pupr", True, 3, "operator_reassign"))  # nothing new
        await uow.examples.add(lesson("dlh", True, 4))
    async with make_uow() as uow:
        every = await uow.examples.since(NOW)
        later = await uow.examples.since(NOW + timedelta(minutes=2))
    assert [(e.opd_id, e.positive, e.source) for e in every] == [
        ("dinas-pupr", True, "operator_assign"), ("dinas-pupr", False, "rejection"),
        ("dlh", True, "operator_assign")]
    assert [e.opd_id for e in later] == ["dinas-pupr", "dlh"] and every[0] == lesson("dinas-pupr", True, 1)


async def test_a_batch_of_decisions_reads_back_in_the_order_recorded(make_uow):
    """Decisions of a batch are held and written together (PostgreSQL) before the commit; a read
    in the same unit of work sees the ones held, and the log keeps the order they were made in,
    across complaints and across the write."""
    a, b = uuid.uuid4(), uuid.uuid4()
    async with make_uow() as uow:
        for n, (cid, tn) in enumerate([(a, "1000201"), (b, "1000202"), (a, "1000201")]):
            await uow.decisions.record(cid, tn, "kota-contoh", Decision("triage", 0, f"r{n}"), NOW)
        seen = [d.reason for d in await uow.decisions.history(a)]
        await uow.decisions.record(a, "1000201", "kota-contoh", Decision("triage", 0, "r3"), NOW,
                                   trigger="rejected")
    assert seen == ["r0", "r2"], "the held ones, read in the unit of work that holds them"
    assert [d.reason for d in await _history(make_uow, a)] == ["r0", "r2", "r3"]
    assert [d.reason for d in await _history(make_uow, b)] == ["r1"]
