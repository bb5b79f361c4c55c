"""sla's handlers: a disposition starts the OPD's first-response clock, a closing starts the
citizen's reopen window. Each start is told through the outbox; intake keeps its due time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from contracts.events import (
    ComplaintClosedV1, ComplaintDisposedV1, ComplaintTransitionV1, SlaClockStartedV1,
)
from sla.adapters.clocks import SlaUnitOfWork
from sla.domain.calendar import deadline

Clock = Callable[[], datetime]


def make_on_complaint_disposed(clock: Clock, tz: str, working_days: int):
    async def on_complaint_disposed(event: ComplaintDisposedV1, uow: SlaUnitOfWork) -> None:
        """Every disposition (routing's, an operator's, a reassignment) gives the OPD that now
        holds the complaint a clock of its own."""
        await _start(uow, event, "first_response", working_days, tz, clock())

    return on_complaint_disposed


def make_on_complaint_closed(clock: Clock, tz: str, working_days: int):
    async def on_complaint_closed(event: ComplaintClosedV1, uow: SlaUnitOfWork) -> None:
        """Each closing opens a window of its own; its due time is the last moment the citizen
        may reopen, which intake enforces."""
        await _start(uow, event, "reopen_window", working_days, tz, clock())

    return on_complaint_closed


async def _start(uow: SlaUnitOfWork, event: ComplaintTransitionV1, kind: str, working_days: int,
                 tz: str, now: datetime) -> None:
    # The clock starts at the fact, not when this service happens to read it; so a replay of
    # the fact names the same start, which the store keeps only once.
    started = SlaClockStartedV1(
        complaint_id=event.complaint_id, occurred_at=now, tracking_number=event.tracking_number,
        clock=kind, opd_id=event.opd_id, started_at=event.occurred_at,
        due_at=deadline(event.occurred_at, working_days, tz), working_days=working_days,
        timezone=tz,
    )
    if await uow.clocks.start(started):
        await uow.outbox.record(started)
