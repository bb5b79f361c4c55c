import uuid
from datetime import datetime, timezone

from contracts.events import ComplaintAssignedV1, ComplaintSentToTriageV1, ComplaintSubmittedV1
from routing.adapters.decisions import RoutingInMemoryUnitOfWork
from routing.handlers import make_on_complaint_submitted

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)  # a Friday


def submitted(title, description):
    return ComplaintSubmittedV1(complaint_id=uuid.uuid4(), occurred_at=NOW, tracking_number="1000001",
                                jurisdiction="kota-contoh", channel="web", title=title,
                                description=description)


async def test_routing_assigns_or_sends_to_triage():
    uow = RoutingInMemoryUnitOfWork()
    handler = make_on_complaint_submitted(lambda: NOW, 0.5)
    async with uow:
        await handler(submitted("Sampah menumpuk", "Sampah tidak diangkut seminggu di TPS."), uow)
    async with uow:
        await handler(submitted("Pertanyaan", "Kapan jadwal acara kota berikutnya diumumkan?"), uow)
    assigned, triage = uow.outbox.events
    assert isinstance(assigned, ComplaintAssignedV1) and assigned.opd_id == "dlh"
    assert isinstance(triage, ComplaintSentToTriageV1)
    assert len(uow.decisions.rows) == 2  # one complaint each


# ---- routing again: "bukan wewenang" and a postponed complaint that comes back

from contracts.events import (  # noqa: E402
    ComplaintDisposedV1, ComplaintInformationAddedV1, ComplaintRejectedNotAuthorityV1,
)
from routing.handlers import Router  # noqa: E402

ROUTER = Router(lambda: NOW, 0.5)


def rejected(complaint_id, by: list[str], suggested=None):
    return ComplaintRejectedNotAuthorityV1(
        complaint_id=complaint_id, occurred_at=NOW, tracking_number="1000001",
        jurisdiction="kota-contoh", action="reject_not_authority", from_status="disposed",
        to_status="returned", actor_role="opd", actor=f"{by[-1]}/u1", rejecting_opd_id=by[-1],
        reason="bukan wewenang kami", rejected_by=by, suggested_opd_id=suggested)


async def feed(uow, handler, event):
    async with uow:
        await handler(event, uow)
    return uow.outbox.events[-1]


async def test_bukan_wewenang_reroutes_to_another_opd_and_never_back():
    uow = RoutingInMemoryUnitOfWork()
    event = submitted("Jalan berlubang dan sampah", "Jalan berlubang di depan pasar, sampah menumpuk.")
    first = await feed(uow, ROUTER.on_complaint_submitted, event)
    assert isinstance(first, ComplaintAssignedV1) and first.opd_id == "dinas-pupr"
    second = await feed(uow, ROUTER.on_rejected, rejected(event.complaint_id, ["dinas-pupr"]))
    assert isinstance(second, ComplaintAssignedV1) and second.opd_id == "dlh"
    assert "dinas-pupr" in second.reason
    third = await feed(uow, ROUTER.on_rejected, rejected(event.complaint_id, ["dinas-pupr", "dlh"]))
    assert isinstance(third, ComplaintSentToTriageV1)
    assert not {"dinas-pupr", "dlh"} & set(third.suggestions), "never suggested again either"
    assert [t for t, _, _ in uow.decisions.rows[event.complaint_id]] == ["submitted", "rejected", "rejected"]


async def test_the_rejecters_suggestion_leads_when_routing_is_unsure():
    uow = RoutingInMemoryUnitOfWork()
    event = submitted("Sampah", "Sampah menumpuk di TPS dekat pasar.")
    await feed(uow, ROUTER.on_complaint_submitted, event)
    out = await feed(uow, ROUTER.on_rejected, rejected(event.complaint_id, ["dlh"], suggested="disdagin-x"))
    assert isinstance(out, ComplaintSentToTriageV1), "an unknown OPD id is not followed"
    out = await feed(uow, ROUTER.on_rejected, rejected(event.complaint_id, ["dlh"], suggested="satpol-pp"))
    assert isinstance(out, ComplaintSentToTriageV1) and out.suggestions[0] == "satpol-pp"


async def test_information_added_is_read_with_the_complaint():
    uow = RoutingInMemoryUnitOfWork()
    event = submitted("Mohon ditindaklanjuti", "Sudah lama dibiarkan begitu saja di dekat rumah.")
    assert isinstance(await feed(uow, ROUTER.on_complaint_submitted, event), ComplaintSentToTriageV1)
    added = ComplaintInformationAddedV1(
        complaint_id=event.complaint_id, occurred_at=NOW, tracking_number="1000001",
        jurisdiction="kota-contoh", action="provide_info", from_status="postponed",
        to_status="submitted", actor_role="citizen", note="Sampah di TPS tidak diangkut.")
    out = await feed(uow, ROUTER.on_information_added, added)
    assert isinstance(out, ComplaintAssignedV1) and out.opd_id == "dlh"


async def test_a_complaint_routing_never_saw_goes_to_triage_saying_why():
    uow = RoutingInMemoryUnitOfWork()
    out = await feed(uow, ROUTER.on_rejected, rejected(uuid.uuid4(), ["dinas-pupr"]))
    assert isinstance(out, ComplaintSentToTriageV1) and "no text" in out.reason


async def test_an_operators_disposal_is_logged_not_published():
    uow = RoutingInMemoryUnitOfWork()
    event = ComplaintDisposedV1(
        complaint_id=uuid.uuid4(), occurred_at=NOW, tracking_number="1", jurisdiction="k",
        action="assign", from_status="triage", to_status="disposed", actor_role="operator",
        actor="op-1", opd_id="dlh", opd_name="DLH")
    async with uow:
        await ROUTER.on_disposed(event, uow)
    assert uow.outbox.events == []
    [(trigger, by, decision)] = uow.decisions.rows[event.complaint_id]
    assert (trigger, by, decision.opd_id) == ("operator", "op-1", "dlh")
