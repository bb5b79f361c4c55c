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
    assert len(uow.decisions.rows) == 2
