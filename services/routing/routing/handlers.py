"""routing's handlers: a submitted complaint is either assigned to an OPD or sent to triage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from contracts.events import ComplaintAssignedV1, ComplaintSentToTriageV1, ComplaintSubmittedV1
from routing.adapters.decisions import RoutingUnitOfWork
from routing.domain.rules import classify


def make_on_complaint_submitted(clock: Callable[[], datetime], min_confidence: float):
    async def on_complaint_submitted(event: ComplaintSubmittedV1, uow: RoutingUnitOfWork) -> None:
        decision = classify(event.title, event.description, min_confidence)
        now = clock()
        await uow.decisions.record(event.complaint_id, event.tracking_number,
                                   event.jurisdiction, decision, now)
        if decision.opd_id is not None:
            await uow.outbox.record(ComplaintAssignedV1(
                complaint_id=event.complaint_id, occurred_at=now,
                tracking_number=event.tracking_number, jurisdiction=event.jurisdiction,
                opd_id=decision.opd_id, opd_name=decision.opd_name or decision.opd_id,
                confidence=decision.confidence, reason=decision.reason, language=event.language,
            ))
        else:
            await uow.outbox.record(ComplaintSentToTriageV1(
                complaint_id=event.complaint_id, occurred_at=now,
                tracking_number=event.tracking_number, jurisdiction=event.jurisdiction,
                reason=decision.reason, suggestions=list(decision.suggestions),
            ))

    return on_complaint_submitted
