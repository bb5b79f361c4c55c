"""What each OPD's own feed learns from a lifecycle fact: the privacy filter of OPD views.

Pure: given a lifecycle event (from intake) and what routing keeps of the complaint, it says
which OPD gets which record. Rules:
- A disposition gives the new OPD the complaint as it may see it (`OpdComplaintAssignedV1`).
- Every later fact while the complaint is with an OPD (its own accept, respond and resolve
  echoed, the citizen's reply, closure, reopening, rating) goes to that OPD
  (`OpdComplaintUpdatedV1`).
- When the complaint leaves an OPD (reassigned elsewhere, rejected by it as bukan wewenang,
  merged into another complaint, archived, not ours), that OPD is told to stop
  (`OpdComplaintWithdrawnV1`); the OPD it went to is not named.
- Privacy: no reporter's name, NIK, phone or e-mail ever (routing never holds them, and any a
  citizen wrote into a text is masked); for an anonim report, no street address and no
  coordinates, only kecamatan and kelurahan; no staff subject either (roles only).
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts import events as ev
from contracts.lifecycle import TERMINAL, Status
from contracts.redaction import redact, redact_optional
from routing.domain.complaint_text import RoutedComplaint

_TERMINAL = frozenset(s.value for s in TERMINAL)
_WITHDRAWN_BECAUSE = {
    "assign": "reassigned", "reassign": "reassigned", "reject_not_authority": "rejected",
    "merge": "merged", "archive": "archived", "mark_not_ours": "not_ours",
}


def opd_location(location: ev.Location | None, anonymous: bool) -> ev.OpdLocation | None:
    """The place as the OPD may see it: kecamatan and kelurahan always, the street address and
    coordinates only when the reporter is not anonim (they can point at the reporter's house)."""
    if location is None:
        return None
    if anonymous:
        if location.kecamatan is None and location.kelurahan is None:
            return None
        return ev.OpdLocation(kecamatan=location.kecamatan, kelurahan=location.kelurahan)
    return ev.OpdLocation(kecamatan=location.kecamatan, kelurahan=location.kelurahan,
                          address=redact_optional(location.address), lat=location.lat,
                          lon=location.lon)


def holder_after(event: ev.ComplaintTransitionV1) -> str | None:
    """The OPD that holds the complaint after `event`: none once it is archived, not ours or
    merged, even if intake still names the OPD it was with."""
    return None if event.to_status in _TERMINAL else event.opd_id


def _holder_before(event: ev.ComplaintTransitionV1, complaint: RoutedComplaint) -> str | None:
    """Who held it before: what the feed last told, else what the event itself says (a
    complaint disposed before routing kept feeds)."""
    if complaint.with_opd is not None:
        return complaint.with_opd
    if isinstance(event, ev.ComplaintDisposedV1):
        return event.previous_opd_id
    if isinstance(event, ev.ComplaintRejectedNotAuthorityV1):
        return event.rejecting_opd_id
    if event.to_status == Status.MERGED.value:
        return event.opd_id
    return None


def assigned_view(event: ev.ComplaintDisposedV1, complaint: RoutedComplaint) -> ev.OpdComplaintAssignedV1:
    return ev.OpdComplaintAssignedV1(
        complaint_id=event.complaint_id, occurred_at=event.occurred_at,
        tracking_number=event.tracking_number, jurisdiction=event.jurisdiction,
        opd_id=event.opd_id, opd_name=event.opd_name,
        title=redact(complaint.title), description=redact(complaint.description),
        added_information=[redact(text) for text in complaint.added_info],
        category=complaint.category,
        location=opd_location(complaint.location, complaint.anonymous),
        anonymous=complaint.anonymous, confidential=complaint.confidential,
        language=event.language, note=redact_optional(event.note),
        reason=redact_optional(event.reason),
    )


def _updated(event: ev.ComplaintTransitionV1, opd_id: str) -> ev.OpdComplaintUpdatedV1:
    return ev.OpdComplaintUpdatedV1(
        complaint_id=event.complaint_id, occurred_at=event.occurred_at,
        tracking_number=event.tracking_number, jurisdiction=event.jurisdiction, opd_id=opd_id,
        action=event.action, from_status=event.from_status, to_status=event.to_status,
        actor_role=event.actor_role, note=redact_optional(event.note),
        evidence=redact_optional(getattr(event, "evidence", None)),
        reason=redact_optional(event.reason) if isinstance(event, ev.ComplaintReopenedV1) else None,
        rating=getattr(event, "rating", None),
        comment=redact_optional(getattr(event, "comment", None)),
    )


def _withdrawn(event: ev.ComplaintTransitionV1, opd_id: str) -> ev.OpdComplaintWithdrawnV1:
    return ev.OpdComplaintWithdrawnV1(
        complaint_id=event.complaint_id, occurred_at=event.occurred_at,
        tracking_number=event.tracking_number, jurisdiction=event.jurisdiction, opd_id=opd_id,
        action=event.action, to_status=event.to_status,
        reason=_WITHDRAWN_BECAUSE.get(event.action, "other"),  # type: ignore[arg-type]
        into_tracking_number=getattr(event, "into_tracking_number", None),
    )


def feed_of(event: ev.ComplaintTransitionV1, complaint: RoutedComplaint) -> list[ev.OpdFeedEvent]:
    """The records `event` puts on OPD feeds, in the order to publish them (a withdrawal before
    the new OPD's assignment)."""
    before, after = _holder_before(event, complaint), holder_after(event)
    records: list[ev.OpdFeedEvent] = []
    if before is not None and before != after:
        records.append(_withdrawn(event, before))
    if isinstance(event, ev.ComplaintDisposedV1):
        records.append(assigned_view(event, complaint))
    elif after is not None:
        records.append(_updated(event, after))
    return records


@dataclass(frozen=True)
class Destination:
    jurisdiction: str
    opd_id: str


def refusal_destination(event: ev.OpdActionRefusedV1) -> Destination | None:
    """Whose feed hears that intake refused an OPD system's action: the OPD its verified token
    names, in the complaint's (or the token's) jurisdiction. A token that did not verify names
    no one, so no OPD is told (an unverified claim must not reach another OPD's feed)."""
    if event.opd_id is None or event.jurisdiction is None:
        return None
    return Destination(event.jurisdiction, event.opd_id)


_NOTICE_OF = {
    ev.SlaClockStartedV1: "deadline_set", ev.SlaClockResumedV1: "deadline_moved",
    ev.SlaWarningIssuedV1: "warning", ev.SlaBreachedV1: "breach", ev.SlaEscalatedV1: "escalation",
}
SLA_NOTICE_EVENTS = tuple(_NOTICE_OF)
_OPD_CLOCKS = frozenset({"first_response", "resolution"})


def about_an_opd_deadline(event: ev.SlaClockEvent) -> bool:
    """Whether the clock fact could concern an OPD's feed at all (its own deadline, with a due
    time): the operators' verification clock never does, so it needs no complaint read."""
    return (type(event) in _NOTICE_OF and event.clock in _OPD_CLOCKS and event.opd_id is not None
            and event.due_at is not None and event.jurisdiction is not None)


def deadline_notice(event: ev.SlaClockEvent, complaint: RoutedComplaint | None
                    ) -> ev.OpdDeadlineNoticeV1 | None:
    """What an OPD's feed hears of sla's clock facts: only its own deadlines (first response,
    resolution) on a complaint it still holds; a notice for an OPD the complaint has left, or
    for the operators' own verification clock, goes nowhere."""
    if not about_an_opd_deadline(event):
        return None
    if complaint is None or complaint.with_opd != event.opd_id:
        return None
    notice = _NOTICE_OF[type(event)]
    return ev.OpdDeadlineNoticeV1(
        complaint_id=event.complaint_id, occurred_at=event.occurred_at,
        tracking_number=event.tracking_number, jurisdiction=event.jurisdiction,
        opd_id=event.opd_id, notice=notice, clock=event.clock, due_at=event.due_at,
        threshold=getattr(event, "threshold", None), level=getattr(event, "level", None),
        step=getattr(event, "step", None))
