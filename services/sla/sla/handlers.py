"""sla's handlers: a disposition starts the first-response clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from contracts.events import ComplaintAssignedV1, SlaClockStartedV1
from sla.adapters.clocks import SlaUnitOfWork
from sla.domain.calendar import deadline


def make_on_complaint_assigned(clock: Callable[[], datetime], tz: str, working_days: int):
    async def on_complaint_assigned(event: ComplaintAssignedV1, uow: SlaUnitOfWork) -> None:
        # The clock starts at the disposition, not when this service happens to read it.
        started = event.occurred_at
        started_clock = SlaClockStartedV1(
            complaint_id=event.complaint_id, occurred_at=clock(),
            tracking_number=event.tracking_number, clock="first_response",
            opd_id=event.opd_id, started_at=started,
            due_at=deadline(started, working_days, tz), working_days=working_days, timezone=tz,
        )
        if await uow.clocks.start(started_clock):
            await uow.outbox.record(started_clock)

    return on_complaint_assigned
