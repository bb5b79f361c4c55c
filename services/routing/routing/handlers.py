"""routing's handlers: a submitted complaint is assigned to an OPD or sent to triage, and is
routed again when its OPD answers "bukan wewenang" and when a postponed complaint comes back
(information added, or resumed by an operator). An operator's disposal by hand is logged, to
learn from, and nothing is published for it.

A complaint never goes back to an OPD that rejected it: every rejecter is kept with the
complaint and excluded from the classification itself (see `domain.rerouting`).

A complaint routing never saw submitted (filed before routing kept texts) must not fail forever
on the dead-letter topic: a lifecycle event alone carries no complaint text, so routing keeps
what the event does tell (its rejecters, any added information), sends the complaint to triage
saying why, and routes it with that record from then on.

Replays: the consumer's inbox makes a redelivered event change nothing. Beyond that, a
submitted event for a complaint already kept never routes it again and never forgets a
rejecter, and rejecters are merged, never replaced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from contracts.events import (
    ComplaintAssignedV1, ComplaintDisposedV1, ComplaintInformationAddedV1,
    ComplaintRejectedNotAuthorityV1, ComplaintResumedV1, ComplaintSentToTriageV1,
    ComplaintSubmittedV1, ComplaintTransitionV1,
)
from routing.adapters.decisions import RoutingUnitOfWork
from routing.adapters.labelled_examples import LabelledExample
from routing.domain.complaint_text import RoutedComplaint
from routing.domain.rerouting import decide
from routing.domain.rules import Decision

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Router:
    clock: Clock
    min_confidence: float

    async def on_complaint_submitted(self, event: ComplaintSubmittedV1, uow: RoutingUnitOfWork) -> None:
        """Keep the text, then route. A complaint already kept was decided on before: its text
        is filled in if it was missing, and nothing is published again."""
        known = await uow.complaints.get(event.complaint_id)
        if known is not None:
            if not known.has_text:
                await uow.complaints.keep(known.with_text(event.title, event.description, event.language))
            return
        complaint = RoutedComplaint(
            complaint_id=event.complaint_id, tracking_number=event.tracking_number,
            jurisdiction=event.jurisdiction, language=event.language, title=event.title,
            description=event.description)
        await uow.complaints.keep(complaint)
        await self._route(complaint, uow, "submitted")

    async def on_rejected(self, event: ComplaintRejectedNotAuthorityV1, uow: RoutingUnitOfWork) -> None:
        """"Bukan wewenang": route again without any OPD that has rejected it (the event's list
        and the rejecter, merged with what routing kept). The rejecter's `suggested_opd_id` can
        only lead the triage suggestions; `domain.rerouting` says why."""
        complaint = (await self._kept(event, uow)).with_rejections(
            *event.rejected_by, event.rejecting_opd_id)
        await uow.complaints.keep(complaint)
        await self._learn(uow, complaint, event.rejecting_opd_id, positive=False,
                          source="rejection", by=event.actor or event.rejecting_opd_id,
                          at=event.occurred_at)
        await self._route(complaint, uow, "rejected",
                          why=f"re-route after rejection by {event.rejecting_opd_id}",
                          hint=event.suggested_opd_id)

    async def on_information_added(self, event: ComplaintInformationAddedV1,
                                   uow: RoutingUnitOfWork) -> None:
        """The citizen answered a postponement: read title, description and everything added
        so far together."""
        complaint = (await self._kept(event, uow)).with_information(event.note)
        await uow.complaints.keep(complaint)
        await self._route(complaint, uow, "information_added",
                          why="routed again with the information added")

    async def on_resumed(self, event: ComplaintResumedV1, uow: RoutingUnitOfWork) -> None:
        """An operator resumed a postponed complaint without waiting. Their note, if any, is
        read as added information: it is what they learnt about the complaint."""
        complaint = (await self._kept(event, uow)).with_information(event.note)
        await uow.complaints.keep(complaint)
        await self._route(complaint, uow, "resumed", why="routed again after it was resumed")

    async def on_disposed(self, event: ComplaintDisposedV1, uow: RoutingUnitOfWork) -> None:
        """An operator's disposal by hand (from triage, or a reassignment): logged beside
        routing's own decisions, to learn from. Routing's own assignments, applied by intake,
        come back with actor_role "system" and are already logged."""
        if event.actor_role != "operator":
            return
        reason = event.reason or event.note or f"{event.action} by an operator"
        if event.opd_id is not None:
            await self._learn(uow, await self._kept(event, uow), event.opd_id, positive=True,
                              source=f"operator_{event.action}", by=event.actor or "operator",
                              at=event.occurred_at)
        await uow.decisions.record(
            event.complaint_id, event.tracking_number, event.jurisdiction,
            Decision(event.opd_id, event.opd_name, 1.0, reason), event.occurred_at,
            trigger=f"operator_{event.action}", decided_by=event.actor or "operator")

    @staticmethod
    async def _learn(uow: RoutingUnitOfWork, complaint: RoutedComplaint, opd_id: str, *,
                     positive: bool, source: str, by: str, at: datetime) -> None:
        """A person's decision about this text, for the next training run; a complaint whose
        text routing never had teaches nothing."""
        if not complaint.has_text:
            return
        await uow.examples.add(LabelledExample(
            complaint_id=complaint.complaint_id, tracking_number=complaint.tracking_number,
            jurisdiction=complaint.jurisdiction, title=complaint.title,
            description=complaint.full_description, opd_id=opd_id, positive=positive,
            source=source, decided_by=by, recorded_at=at))

    async def _kept(self, event: ComplaintTransitionV1, uow: RoutingUnitOfWork) -> RoutedComplaint:
        found = await uow.complaints.get(event.complaint_id)
        return found or RoutedComplaint.without_text(
            event.complaint_id, event.tracking_number, event.jurisdiction)

    async def _route(self, complaint: RoutedComplaint, uow: RoutingUnitOfWork, trigger: str,
                     why: str | None = None, hint: str | None = None) -> None:
        decision = decide(complaint, self.min_confidence, why=why, hint=hint)
        now = self.clock()
        await uow.decisions.record(complaint.complaint_id, complaint.tracking_number,
                                   complaint.jurisdiction, decision, now, trigger=trigger)
        if decision.opd_id is not None:
            await uow.outbox.record(ComplaintAssignedV1(
                complaint_id=complaint.complaint_id, occurred_at=now,
                tracking_number=complaint.tracking_number, jurisdiction=complaint.jurisdiction,
                opd_id=decision.opd_id, opd_name=decision.opd_name or decision.opd_id,
                confidence=decision.confidence, reason=decision.reason,
                language="en" if complaint.language == "en" else "id",
            ))
        else:
            await uow.outbox.record(ComplaintSentToTriageV1(
                complaint_id=complaint.complaint_id, occurred_at=now,
                tracking_number=complaint.tracking_number, jurisdiction=complaint.jurisdiction,
                reason=decision.reason, suggestions=list(decision.suggestions),
            ))
