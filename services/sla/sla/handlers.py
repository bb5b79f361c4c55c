"""sla's handlers: each lifecycle fact starts, pauses, resumes or stops the complaint's clocks.

The rules (the README's "Deadlines" section says the same for people):
- submitted: the verification clock starts (the citizen's wait for a disposition), quietly for
  `verification_quiet` (domain.clock): a complaint routed within it never hears of it.
- disposed: verification stops (met or late); the OPD that now holds the complaint gets a
  first-response clock of its own (a reassignment withdraws the previous OPD's); the first
  disposition starts the resolution clock, which later dispositions hand over, never restart.
- followed up / resolved: the OPD's first response is met; resolution waits for the citizen
  (paused); the auto-close clock starts from this, the last follow-up (replacing an earlier one).
- citizen replied: auto-close withdrawn; resolution runs again.
- postponed (more information asked): verification and resolution wait; information added or an
  operator's resume lets them run again with the working time they had left.
- bukan wewenang: the rejecting OPD's first-response clock is withdrawn; resolution keeps
  running (nobody holds it now); verification carries on with the working time it had left when
  the complaint was disposed (at least to the end of that working day): a rejection never
  restarts the citizen's wait from zero.
- archived, not ours, merged: verification is met (a decision was made); everything else is
  withdrawn.
- closed: resolution is met or late, auto-close ends, the reopen window starts.
- reopened: the window ends; the OPD owes a new first response.
- rated: kept for the per-OPD figures.
Every start is named by the fact's instant, so a replayed fact starts nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from contracts import events as ev
from sla.adapters.clocks import SlaUnitOfWork
from sla.calendar_registry import Calendars
from sla.domain.clock import Clock, clock_id_for
from sla.policy_registry import Policies

Now = Callable[[], datetime]
_FOLLOW_UP = "the OPD followed up"


class ClockKeeper:
    """The handlers, holding what they share: the time source, calendars and policies."""

    def __init__(self, now: Now, calendars: Calendars, policies: Policies, *,
                 verification_quiet: timedelta = timedelta(0)) -> None:
        self.now = now
        self.calendars = calendars
        self.policies = policies
        self.verification_quiet = verification_quiet

    # ---- one handler per fact

    async def on_submitted(self, event: ev.ComplaintSubmittedV1, uow: SlaUnitOfWork) -> None:
        await uow.clocks.remember(event.complaint_id, event.jurisdiction, event.category, None,
                                  event.occurred_at)
        clocks = await uow.clocks.for_complaint(event.complaint_id)
        if not _of(clocks, "verification", any_state=True):
            clocks.append(await self._start(
                event, "verification", None, event.category, None,
                quiet_until=event.occurred_at + self.verification_quiet
                if self.verification_quiet else None))
        await _settle(uow, clocks)

    async def on_disposed(self, event: ev.ComplaintDisposedV1, uow: SlaUnitOfWork) -> None:
        at, now = event.occurred_at, self.now()
        await uow.clocks.remember(event.complaint_id, event.jurisdiction, event.category,
                                  event.report_type, None)
        await uow.clocks.received(event.complaint_id, event.opd_id, event.jurisdiction, at)
        facts = await uow.clocks.facts(event.complaint_id)
        category = event.category or (facts[1] if facts else None)
        report_type = event.report_type or (facts[2] if facts else None)
        clocks = await uow.clocks.for_complaint(event.complaint_id)
        cal = await self.calendars.calendar(event.jurisdiction)
        for clock in _of(clocks, "verification"):
            clock.stop(at, cal, fulfilled=True, reason=f"disposed to {event.opd_id}", now=now)
        started_here = clock_id_for(event.complaint_id, "first_response", at)
        for clock in _of(clocks, "first_response"):
            if clock.started_at < at:   # a replayed older disposition stops nothing newer
                clock.stop(at, cal, fulfilled=False, reason=f"reassigned to {event.opd_id}", now=now)
        if not any(c.clock_id == started_here for c in clocks):
            clocks.append(await self._start(event, "first_response", event.opd_id, category,
                                            report_type))
        resolution = _of(clocks, "resolution")
        for clock in resolution:
            clock.hand_over(event.opd_id)
        if not resolution and not _of(clocks, "resolution", any_state=True):
            clocks.append(await self._start(event, "resolution", event.opd_id, category,
                                            report_type))
        await _settle(uow, clocks)

    async def on_followed_up(self, event: ev.ComplaintFollowedUpV1, uow: SlaUnitOfWork) -> None:
        await self._answered(event, uow, _FOLLOW_UP)

    async def on_resolved(self, event: ev.ComplaintResolvedV1, uow: SlaUnitOfWork) -> None:
        await self._answered(event, uow, "the OPD resolved it")

    async def on_citizen_replied(self, event: ev.CitizenRepliedV1, uow: SlaUnitOfWork) -> None:
        at, now = event.occurred_at, self.now()
        clocks = await uow.clocks.for_complaint(event.complaint_id)
        cal = await self.calendars.calendar(event.jurisdiction)
        for clock in _of(clocks, "auto_close"):
            clock.stop(at, cal, fulfilled=False, reason="the citizen replied", now=now)
        for clock in _of(clocks, "resolution"):
            clock.resume(at, cal, "the citizen replied", now)
        await _settle(uow, clocks)

    async def on_postponed(self, event: ev.ComplaintPostponedV1, uow: SlaUnitOfWork) -> None:
        await self._wait_for_citizen(event, uow, pause=True)

    async def on_information_added(self, event: ev.ComplaintInformationAddedV1,
                                   uow: SlaUnitOfWork) -> None:
        await self._wait_for_citizen(event, uow, pause=False)

    async def on_resumed(self, event: ev.ComplaintResumedV1, uow: SlaUnitOfWork) -> None:
        await self._wait_for_citizen(event, uow, pause=False)

    async def on_rejected(self, event: ev.ComplaintRejectedNotAuthorityV1,
                          uow: SlaUnitOfWork) -> None:
        at, now = event.occurred_at, self.now()
        clocks = await uow.clocks.for_complaint(event.complaint_id)
        cal = await self.calendars.calendar(event.jurisdiction)
        for clock in _of(clocks, "first_response"):
            clock.stop(at, cal, fulfilled=False, reason="bukan wewenang", now=now)
        for clock in _of(clocks, "resolution"):
            clock.hand_over(None)
        if not _of(clocks, "verification"):
            done = [c for c in clocks if c.kind == "verification"]
            carried = clock_id_for(event.complaint_id, "verification", at)
            if done and not any(c.clock_id == carried for c in clocks):
                clocks.append(done[-1].carry_on(at=at, now=now, calendar=cal))
        await _settle(uow, clocks)

    async def on_archived(self, event: ev.ComplaintArchivedV1, uow: SlaUnitOfWork) -> None:
        await self._decided(event, uow, f"archived: {event.reason}")

    async def on_marked_not_ours(self, event: ev.ComplaintMarkedNotOursV1,
                                 uow: SlaUnitOfWork) -> None:
        await self._decided(event, uow, "not the city's")

    async def on_merged(self, event: ev.ComplaintMergedV1, uow: SlaUnitOfWork) -> None:
        await self._decided(event, uow, f"merged into {event.into_tracking_number}")

    async def on_closed(self, event: ev.ComplaintClosedV1, uow: SlaUnitOfWork) -> None:
        at, now = event.occurred_at, self.now()
        clocks = await uow.clocks.for_complaint(event.complaint_id)
        cal = await self.calendars.calendar(event.jurisdiction)
        for clock in _open(clocks):
            if clock.kind == "resolution":
                clock.stop(at, cal, fulfilled=True, reason="closed", now=now)
            elif clock.kind != "reopen_window":
                clock.stop(at, cal, fulfilled=False, reason="closed", now=now)
        if not any(c.clock_id == clock_id_for(event.complaint_id, "reopen_window", at)
                   for c in clocks):
            clocks.append(await self._start(event, "reopen_window", event.opd_id, None, None))
        await _settle(uow, clocks)

    async def on_reopened(self, event: ev.ComplaintReopenedV1, uow: SlaUnitOfWork) -> None:
        at, now = event.occurred_at, self.now()
        clocks = await uow.clocks.for_complaint(event.complaint_id)
        cal = await self.calendars.calendar(event.jurisdiction)
        for clock in _of(clocks, "reopen_window"):
            clock.stop(at, cal, fulfilled=True, reason="reopened", now=now)
        if event.opd_id and not any(
                c.clock_id == clock_id_for(event.complaint_id, "first_response", at) for c in clocks):
            facts = await uow.clocks.facts(event.complaint_id)
            clocks.append(await self._start(event, "first_response", event.opd_id,
                                            facts[1] if facts else None,
                                            facts[2] if facts else None))
        await _settle(uow, clocks)

    async def on_rated(self, event: ev.ComplaintRatedV1, uow: SlaUnitOfWork) -> None:
        await uow.clocks.rated(event.complaint_id, event.opd_id, event.jurisdiction,
                               event.rating, event.occurred_at)

    # ---- shared steps

    async def _start(self, event: ev.Event, kind: str, opd_id: str | None,
                     category: str | None, report_type: str | None,
                     quiet_until: datetime | None = None) -> Clock:
        jurisdiction = event.jurisdiction   # type: ignore[attr-defined]
        terms = await self.policies.terms(jurisdiction, kind, category=category,
                                          report_type=report_type, opd=opd_id)
        return Clock.start(
            complaint_id=event.complaint_id, tracking_number=event.tracking_number,  # type: ignore[attr-defined]
            jurisdiction=jurisdiction, kind=kind, opd_id=opd_id, category=category,
            report_type=report_type, terms=terms, started_at=event.occurred_at, now=self.now(),
            calendar=await self.calendars.calendar(jurisdiction), quiet_until=quiet_until)

    async def _answered(self, event: ev.ComplaintTransitionV1, uow: SlaUnitOfWork,
                        reason: str) -> None:
        at, now = event.occurred_at, self.now()
        clocks = await uow.clocks.for_complaint(event.complaint_id)
        cal = await self.calendars.calendar(event.jurisdiction)
        for clock in _of(clocks, "first_response"):
            clock.stop(at, cal, fulfilled=True, reason=reason, now=now)
        for clock in _of(clocks, "resolution"):
            clock.pause(at, cal, "waiting for the citizen", now)
        started_here = clock_id_for(event.complaint_id, "auto_close", at)
        for clock in _of(clocks, "auto_close"):
            if clock.started_at < at:
                clock.supersede(at, cal, "a later follow-up", now)
        if not any(c.clock_id == started_here for c in clocks):
            clocks.append(await self._start(event, "auto_close", event.opd_id, None, None))
        await _settle(uow, clocks)

    async def _wait_for_citizen(self, event: ev.ComplaintTransitionV1, uow: SlaUnitOfWork, *,
                                pause: bool) -> None:
        at, now = event.occurred_at, self.now()
        clocks = await uow.clocks.for_complaint(event.complaint_id)
        cal = await self.calendars.calendar(event.jurisdiction)
        for clock in _open(clocks):
            if clock.kind in ("verification", "resolution"):
                if pause:
                    clock.pause(at, cal, "waiting for the citizen's information", now)
                else:
                    clock.resume(at, cal, "the citizen's information" if
                                 event.action == "provide_info" else "resumed by an operator", now)
        await _settle(uow, clocks)

    async def _decided(self, event: ev.ComplaintTransitionV1, uow: SlaUnitOfWork,
                       reason: str) -> None:
        at, now = event.occurred_at, self.now()
        clocks = await uow.clocks.for_complaint(event.complaint_id)
        cal = await self.calendars.calendar(event.jurisdiction)
        for clock in _open(clocks):
            clock.stop(at, cal, fulfilled=clock.kind == "verification", reason=reason, now=now)
        await _settle(uow, clocks)


def _open(clocks: list[Clock]) -> list[Clock]:
    return [c for c in clocks if c.open]


def _of(clocks: list[Clock], kind: str, *, any_state: bool = False) -> list[Clock]:
    return [c for c in clocks if c.kind == kind and (any_state or c.open)]


async def _settle(uow: SlaUnitOfWork, clocks: list[Clock]) -> None:
    """What changed is saved and what happened is told, in the handler's transaction."""
    for clock in clocks:
        for event in clock.events:
            await uow.outbox.record(event)
        clock.events.clear()
    await uow.clocks.save(clocks)


def subscribe(consumer, keeper: ClockKeeper) -> None:
    """Every lifecycle fact sla acts on, one handler each."""
    # A batch's clocks and facts are locked and read at once: each handler's reads cost nothing.
    consumer.read_ahead(lambda ids, uow: uow.clocks.reads_ahead(ids))
    for model, handler in (
        (ev.ComplaintSubmittedV1, keeper.on_submitted),
        (ev.ComplaintDisposedV1, keeper.on_disposed),
        (ev.ComplaintFollowedUpV1, keeper.on_followed_up),
        (ev.ComplaintResolvedV1, keeper.on_resolved),
        (ev.CitizenRepliedV1, keeper.on_citizen_replied),
        (ev.ComplaintPostponedV1, keeper.on_postponed),
        (ev.ComplaintInformationAddedV1, keeper.on_information_added),
        (ev.ComplaintResumedV1, keeper.on_resumed),
        (ev.ComplaintRejectedNotAuthorityV1, keeper.on_rejected),
        (ev.ComplaintArchivedV1, keeper.on_archived),
        (ev.ComplaintMarkedNotOursV1, keeper.on_marked_not_ours),
        (ev.ComplaintMergedV1, keeper.on_merged),
        (ev.ComplaintClosedV1, keeper.on_closed),
        (ev.ComplaintReopenedV1, keeper.on_reopened),
        (ev.ComplaintRatedV1, keeper.on_rated),
    ):
        consumer.on(model, handler)
