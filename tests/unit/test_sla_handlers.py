import uuid
from datetime import datetime, timezone

from contracts.events import ComplaintAssignedV1, SlaClockStartedV1
from sla.adapters.clocks import SlaInMemoryUnitOfWork
from sla.handlers import make_on_complaint_assigned

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)  # a Friday


async def test_sla_starts_the_first_response_clock_once():
    uow = SlaInMemoryUnitOfWork()
    handler = make_on_complaint_assigned(lambda: NOW, "Asia/Jakarta", 5)
    event = ComplaintAssignedV1(complaint_id=uuid.uuid4(), occurred_at=NOW, tracking_number="1",
                                jurisdiction="k", opd_id="dlh", opd_name="DLH", confidence=1, reason="r")
    for _ in range(2):
        async with uow:
            await handler(event, uow)
    [clock] = uow.outbox.events
    assert isinstance(clock, SlaClockStartedV1)
    assert clock.due_at.isoformat() == "2026-11-27T23:59:59+07:00"
    assert clock.started_at == NOW and clock.working_days == 5
