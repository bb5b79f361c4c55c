"""routing's tables: the in-memory twins and PostgreSQL keep texts and decisions alike, and the
handlers re-route the same way on both."""

import uuid
from datetime import datetime, timezone

import pytest

from contracts.events import ComplaintRejectedNotAuthorityV1, ComplaintSubmittedV1
from routing.adapters.decisions import RoutingInMemoryUnitOfWork, RoutingPgUnitOfWork
from routing.domain.complaint_text import RoutedComplaint
from routing.domain.rules import Decision
from routing.handlers import Router
from tests.integration.helpers import twin_or_postgres

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
        await uow.decisions.record(cid, "1000001", "kota-contoh", Decision(None, None, 0, "r1"), NOW,
                                   trigger="rejected")
    async with make_uow() as uow:
        again = await uow.complaints.get(cid)
        assert again == bare and not again.has_text
        await uow.complaints.keep(again.with_text("Sampah", "Menumpuk di TPS", "en")
                                  .with_information("Jl. Kenanga").with_rejections("dlh"))
        await uow.decisions.record(cid, "1000001", "kota-contoh",
                                   Decision("dishub", "Dishub", 1 / 3, "r2", ("dishub", "dinkes")),
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


async def test_a_rolled_back_unit_of_work_keeps_nothing(make_uow):
    cid = uuid.uuid4()
    with pytest.raises(RuntimeError):
        async with make_uow() as uow:
            await uow.complaints.keep(RoutedComplaint.without_text(cid, "1", "k"))
            await uow.decisions.record(cid, "1", "k", Decision(None, None, 0, "r"), NOW)
            raise RuntimeError("boom")
    async with make_uow() as uow:
        assert await uow.complaints.get(cid) is None and await uow.decisions.history(cid) == []


async def test_rerouting_after_two_rejections_on_either_store(make_uow):
    router = Router(lambda: NOW, 0.5)
    cid = uuid.uuid4()

    async def handle(handler, event):
        async with make_uow() as uow:
            await handler(event, uow)

    await handle(router.on_complaint_submitted, ComplaintSubmittedV1(
        complaint_id=cid, occurred_at=NOW, tracking_number="1000001", jurisdiction="kota-contoh",
        channel="web", title="Jalan berlubang", description="Jalan berlubang dekat jembatan, aspal"
        " rusak; sampah menumpuk di TPS; PKL dan angkot ngetem."))
    for by in (["dinas-pupr"], ["dinas-pupr", "dlh"]):
        await handle(router.on_rejected, ComplaintRejectedNotAuthorityV1(
            complaint_id=cid, occurred_at=NOW, tracking_number="1000001", jurisdiction="kota-contoh",
            action="reject_not_authority", from_status="disposed", to_status="returned",
            actor_role="opd", rejecting_opd_id=by[-1], reason="bukan wewenang", rejected_by=by))
    async with make_uow() as uow:
        log = await uow.decisions.history(cid)
        kept = await uow.complaints.get(cid)
    assert [(d.trigger, d.opd_id) for d in log] == [
        ("submitted", "dinas-pupr"), ("rejected", "dlh"), ("rejected", None)]
    assert set(log[-1].suggestions) == {"satpol-pp", "dishub"}
    assert kept.rejected_by == ("dinas-pupr", "dlh")


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
