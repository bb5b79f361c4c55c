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

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from contracts import taxonomy as tx
from contracts.events import (
    Classified, ComplaintAssignedV1, ComplaintDisposedV1, ComplaintFoundNotOursV1,
    ComplaintInformationAddedV1, ComplaintRejectedNotAuthorityV1, ComplaintResumedV1,
    ComplaintSentToTriageV1, ComplaintSubmittedV1, ComplaintTransitionV1, RoutingCandidate,
)
from routing.adapters.decisions import RoutingUnitOfWork
from routing.adapters.labelled_examples import LabelledExample
from routing.domain.complaint_text import RoutedComplaint
from routing.domain.decision import (
    Classifier, Decision, Destination, decide, excluded_categories,
)
from routing.domain.jurisdictions import Jurisdiction, resolve

Clock = Callable[[], datetime]


class Jurisdictions(Protocol):
    async def current(self, jurisdiction_id: str) -> Jurisdiction | None: ...


@dataclass(frozen=True)
class Router:
    clock: Clock
    min_confidence: float            # at or above: routing acts alone; below: triage
    classifier: Classifier
    jurisdictions: Jurisdictions
    categories: tuple[str, ...] = field(
        default_factory=lambda: tuple(s.code for s in tx.load().subcategories()))
    # Told of each new complaint with what the classifier read (duplicate detection), in the
    # same transaction.
    duplicates: Callable[[ComplaintSubmittedV1, RoutingUnitOfWork, str | None],
                         Awaitable[None]] | None = None

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
            description=event.description).with_view(
                event.category, event.location, event.anonymous, event.confidential)
        await uow.complaints.keep(complaint)
        decision = await self._route(complaint, uow, "submitted")
        if self.duplicates is not None:
            read = decision.classification
            await self.duplicates(event, uow, read.subcategory if read is not None else None)

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
            Decision("assign", 1.0, reason, opd_id=event.opd_id, opd_name=event.opd_name),
            event.occurred_at,
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
                     why: str | None = None, hint: str | None = None) -> Decision:
        jurisdiction = await self.jurisdictions.current(complaint.jurisdiction)
        where: Callable[[str], Destination] | None = None
        excluded: frozenset[str] = frozenset()
        known: frozenset[str] = frozenset()
        if jurisdiction is not None:
            rejecters = frozenset(complaint.rejected_by)

            def here(code: str) -> Destination:
                return _destination(resolve(jurisdiction, code, complaint.location, rejecters))

            def normally(code: str) -> Destination:
                return _destination(resolve(jurisdiction, code, complaint.location))

            where = here
            excluded = excluded_categories(self.categories, normally, rejecters)
            known = frozenset(o.id for o in jurisdiction.opds)
        chosen = complaint.category if complaint.category in self.categories else None
        decision = decide(complaint, self.classifier, where, self.min_confidence,
                          excluded=excluded, why=why, hint=hint, known_opds=known, chosen=chosen)
        now = self.clock()
        await uow.decisions.record(complaint.complaint_id, complaint.tracking_number,
                                   complaint.jurisdiction, decision, now, trigger=trigger)
        await uow.outbox.record(_event(complaint, decision, now))
        return decision


def _destination(found) -> Destination:
    if found.kind == "opd":
        return Destination(opd_id=found.opd_id, opd_name=found.opd_name)
    if found.kind == "not_ours":
        return Destination(not_ours=found.responsible)
    return Destination()


def _event(complaint: RoutedComplaint, d: Decision, now: datetime):
    """The decision as the fact routing tells: assigned, not ours, or sent to triage."""
    read = d.classification
    classified = Classified(
        category=read.subcategory, main_category=read.main_category,
        report_type=read.report_type, urgency=read.urgency,
        explanation=list(read.explanation)) if read is not None else None
    common = dict(complaint_id=complaint.complaint_id, occurred_at=now,
                  tracking_number=complaint.tracking_number, jurisdiction=complaint.jurisdiction,
                  reason=d.reason, classified=classified)
    if d.kind == "assign":
        return ComplaintAssignedV1(**common, opd_id=d.opd_id, opd_name=d.opd_name or d.opd_id,
                                   confidence=d.confidence,
                                   language="en" if complaint.language == "en" else "id")
    if d.kind == "not_ours":
        return ComplaintFoundNotOursV1(**common, responsible=d.responsible, confidence=d.confidence)
    return ComplaintSentToTriageV1(
        **common, suggestions=list(d.suggestions), excluded_opds=list(complaint.rejected_by),
        candidates=[RoutingCandidate(category=c.category, confidence=c.confidence,
                                     opd_id=c.destination.opd_id, opd_name=c.destination.opd_name,
                                     not_ours=c.destination.not_ours) for c in d.candidates])
