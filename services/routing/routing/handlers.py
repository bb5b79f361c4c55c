"""routing's handlers: a submitted complaint is assigned to an OPD or sent to triage, and is
routed again when its OPD answers "bukan wewenang" or when a postponed complaint comes back.

A complaint never goes back to an OPD that rejected it: every rejecter is excluded from the
classification itself, so it is neither assigned nor suggested again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from contracts.events import (
    ComplaintAssignedV1, ComplaintDisposedV1, ComplaintInformationAddedV1,
    ComplaintRejectedNotAuthorityV1, ComplaintResumedV1, ComplaintSentToTriageV1,
    ComplaintSubmittedV1,
)
from routing.adapters.decisions import RoutingUnitOfWork
from routing.domain.complaint_text import RoutedComplaint
from routing.domain.rules import OPD_RULES, Decision, classify

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Router:
    clock: Clock
    min_confidence: float

    async def on_complaint_submitted(self, event: ComplaintSubmittedV1, uow: RoutingUnitOfWork) -> None:
        complaint = RoutedComplaint(
            complaint_id=event.complaint_id, tracking_number=event.tracking_number,
            jurisdiction=event.jurisdiction, language=event.language, title=event.title,
            description=event.description)
        await uow.complaints.keep(complaint)
        await self._route(complaint, uow, "submitted")

    async def on_rejected(self, event: ComplaintRejectedNotAuthorityV1, uow: RoutingUnitOfWork) -> None:
        """"Bukan wewenang": route again without any OPD that has rejected it. The rejecting
        OPD's suggestion leads the suggestions when routing is unsure."""
        complaint = await uow.complaints.get(event.complaint_id)
        rejected = list(dict.fromkeys([*event.rejected_by, event.rejecting_opd_id]))
        if complaint is None:
            await self._unknown(event.complaint_id, event.tracking_number, event.jurisdiction,
                                rejected, uow, "rejected")
            return
        complaint.rejected_by = list(dict.fromkeys([*complaint.rejected_by, *rejected]))
        await uow.complaints.keep(complaint)
        suggestion = event.suggested_opd_id
        await self._route(complaint, uow, "rejected",
                          note=f"re-routed after {event.rejecting_opd_id} said bukan wewenang",
                          lead=suggestion if suggestion in OPD_RULES else None)

    async def on_information_added(self, event: ComplaintInformationAddedV1,
                                   uow: RoutingUnitOfWork) -> None:
        await self._again(event.complaint_id, event.tracking_number, event.jurisdiction,
                          event.note, uow, "information_added")

    async def on_resumed(self, event: ComplaintResumedV1, uow: RoutingUnitOfWork) -> None:
        await self._again(event.complaint_id, event.tracking_number, event.jurisdiction,
                          None, uow, "resumed")

    async def on_disposed(self, event: ComplaintDisposedV1, uow: RoutingUnitOfWork) -> None:
        """An operator's disposal by hand: logged beside routing's own decisions, to learn from."""
        if event.actor_role != "operator":
            return
        await uow.decisions.record(
            event.complaint_id, event.tracking_number, event.jurisdiction,
            Decision(event.opd_id, event.opd_name, 1.0, event.note or "disposed by an operator"),
            event.occurred_at, trigger="operator", decided_by=event.actor or "operator")

    async def _again(self, complaint_id, tracking_number, jurisdiction, added: str | None,
                     uow: RoutingUnitOfWork, trigger: str) -> None:
        complaint = await uow.complaints.get(complaint_id)
        if complaint is None:
            await self._unknown(complaint_id, tracking_number, jurisdiction, [], uow, trigger)
            return
        if added:
            complaint.added_info.append(added)
            await uow.complaints.keep(complaint)
        await self._route(complaint, uow, trigger)

    async def _route(self, complaint: RoutedComplaint, uow: RoutingUnitOfWork, trigger: str,
                     note: str | None = None, lead: str | None = None) -> None:
        decision = classify(complaint.title, complaint.full_description, self.min_confidence,
                            exclude=frozenset(complaint.rejected_by))
        if note:
            decision = Decision(decision.opd_id, decision.opd_name, decision.confidence,
                                f"{note}; {decision.reason}", decision.suggestions)
        if lead and decision.opd_id is None and lead not in complaint.rejected_by:
            decision = Decision(None, None, decision.confidence, decision.reason,
                                (lead, *(s for s in decision.suggestions if s != lead))[:3])
        await self._publish(complaint.complaint_id, complaint.tracking_number,
                            complaint.jurisdiction, complaint.language, decision, uow, trigger)

    async def _unknown(self, complaint_id, tracking_number, jurisdiction, rejected: list[str],
                       uow: RoutingUnitOfWork, trigger: str) -> None:
        """A complaint routing never saw (filed before routing kept texts, or its record was
        lost): without its text only a person can route it, so it goes to triage, saying why,
        rather than failing forever."""
        await uow.complaints.keep(RoutedComplaint(
            complaint_id=complaint_id, tracking_number=tracking_number, jurisdiction=jurisdiction,
            language="id", title="", description="", rejected_by=rejected))
        decision = Decision(None, None, 0.0, "routing has no text for this complaint; "
                                             "an operator must route it")
        await self._publish(complaint_id, tracking_number, jurisdiction, "id", decision, uow, trigger)

    async def _publish(self, complaint_id, tracking_number, jurisdiction, language: str,
                       decision: Decision, uow: RoutingUnitOfWork, trigger: str) -> None:
        now = self.clock()
        await uow.decisions.record(complaint_id, tracking_number, jurisdiction, decision, now,
                                   trigger=trigger)
        if decision.opd_id is not None:
            await uow.outbox.record(ComplaintAssignedV1(
                complaint_id=complaint_id, occurred_at=now, tracking_number=tracking_number,
                jurisdiction=jurisdiction, opd_id=decision.opd_id,
                opd_name=decision.opd_name or decision.opd_id, confidence=decision.confidence,
                reason=decision.reason, language="en" if language == "en" else "id",
            ))
        else:
            await uow.outbox.record(ComplaintSentToTriageV1(
                complaint_id=complaint_id, occurred_at=now, tracking_number=tracking_number,
                jurisdiction=jurisdiction, reason=decision.reason,
                suggestions=list(decision.suggestions),
            ))


def make_on_complaint_submitted(clock: Clock, min_confidence: float):
    """The submitted-complaint handler alone (kept for callers that need only it)."""
    return Router(clock, min_confidence).on_complaint_submitted
