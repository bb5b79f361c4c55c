"""One deadline clock: started, paused, resumed and stopped by lifecycle facts; warned,
breached and escalated by the firing loop. Pure: time and the calendar come in as arguments,
and every change is recorded as an event for the outbox.

Working time is the calendar's (office hours when the jurisdiction has them, else the whole of
each working day). A clock holds a budget of working time from its start to its deadline; a
pause keeps what is left (`remaining_seconds`) and a resume sets the deadline that far from
the resume, in working time, snapped to the end of the day when it ends with one. Warnings fall
where the working time left reaches their threshold, and are delivered in the alert window of a
working day (never at night): one that could only arrive after the deadline is dropped, the
breach says it. `next_fire_at` is the earliest moment the loop owes this clock something.

A clock may start quietly (`announce_at`): its start is told only if it still runs then, or as
soon as anything else about it must be told. The verification clock starts so, a few seconds
past the submission: most complaints are routed at once, and a verification deadline that is
set and met within a second tells nobody anything (two records fewer per complaint, each read
by intake and routing). One stopped while quiet is told nothing at all; sla still keeps it,
met, for the figures.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import TYPE_CHECKING
from uuid import UUID

from contracts.events import (
    Event, SlaAutoCloseDueV1, SlaBreachedV1, SlaClockPausedV1, SlaClockResumedV1,
    SlaClockStartedV1, SlaClockStoppedV1, SlaEscalatedV1, SlaWarningIssuedV1,
)
from sla.domain.policy import Plan, Selected

if TYPE_CHECKING:
    from sla.domain.calendar import WorkingCalendar

_NAMESPACE = uuid.UUID("6f1d3c52-9a3e-4c61-9d7e-5b2f0c1a7e44")
# Clocks that breach and escalate; the others end quietly when due.
ALERTING = frozenset({"verification", "first_response", "resolution"})
OPEN = frozenset({"running", "paused"})


def clock_id_for(complaint_id: UUID, kind: str, started_at: datetime) -> UUID:
    """Stable name of a clock: the same fact, replayed, names the same clock."""
    return uuid.uuid5(_NAMESPACE, f"{complaint_id}/{kind}/{started_at.isoformat()}")


@dataclass
class Clock:
    clock_id: UUID
    complaint_id: UUID
    tracking_number: str
    jurisdiction: str
    kind: str
    opd_id: str | None
    category: str | None
    report_type: str | None
    policy_version: int
    plan: Plan
    working_days: int
    timezone: str
    started_at: datetime
    due_at: datetime
    budget_seconds: float
    segment_started_at: datetime | None
    used_seconds: float = 0.0
    remaining_seconds: float | None = None
    state: str = "running"
    paused_at: datetime | None = None
    outcome: str | None = None
    stopped_at: datetime | None = None
    working_seconds_used: float | None = None
    warnings_sent: list[str] = field(default_factory=list)
    at_risk_since: datetime | None = None
    breached_at: datetime | None = None
    escalation_step: int = 0
    escalation_level: str | None = None
    next_fire_at: datetime | None = None
    announce_at: datetime | None = None     # started quietly: its start not told before this
    plan_id: int | None = None
    events: list[Event] = field(default_factory=list, repr=False)
    changed: bool = field(default=False, repr=False)

    # ---- started by a lifecycle fact

    @classmethod
    def start(cls, *, complaint_id: UUID, tracking_number: str, jurisdiction: str, kind: str,
              opd_id: str | None, category: str | None, report_type: str | None,
              terms: Selected, started_at: datetime, now: datetime,
              calendar: "WorkingCalendar", quiet_until: datetime | None = None) -> "Clock":
        """A clock from `started_at` (the fact's instant, not when sla read it); with
        `quiet_until` still ahead of `now`, its start is told only then (see the module)."""
        due = calendar.deadline(started_at, terms.working_days)
        clock = cls(
            clock_id=clock_id_for(complaint_id, kind, started_at), complaint_id=complaint_id,
            tracking_number=tracking_number, jurisdiction=jurisdiction, kind=kind, opd_id=opd_id,
            category=category, report_type=report_type, policy_version=terms.version,
            plan=terms.plan, working_days=terms.working_days, timezone=calendar.timezone,
            started_at=started_at, due_at=due,
            budget_seconds=calendar.working_seconds(started_at, due),
            segment_started_at=started_at, changed=True)
        if quiet_until is not None and quiet_until > now:
            clock.announce_at = quiet_until
        else:
            clock._announce(now)
        clock.schedule(calendar)
        return clock

    def carry_on(self, *, at: datetime, now: datetime, calendar: "WorkingCalendar",
                 opd_id: str | None = None) -> "Clock":
        """A new clock of this kind that continues where this stopped one stood: the working
        time it had left (never a fresh budget), at least to the end of `at`'s working day.
        Used when a "bukan wewenang" sends the complaint back to verification."""
        left = max(self.budget_seconds - (self.working_seconds_used or 0.0), 0.0)
        due = calendar.deadline_after(at, left) if left > 0 else calendar.deadline(at, 0)
        clock = Clock(
            clock_id=clock_id_for(self.complaint_id, self.kind, at), complaint_id=self.complaint_id,
            tracking_number=self.tracking_number, jurisdiction=self.jurisdiction, kind=self.kind,
            opd_id=opd_id, category=self.category, report_type=self.report_type,
            policy_version=self.policy_version, plan=self.plan, plan_id=self.plan_id,
            working_days=self.working_days, timezone=calendar.timezone, started_at=at,
            due_at=due, budget_seconds=calendar.working_seconds(at, due),
            segment_started_at=at, changed=True,
            # what was already warned stays warned: the citizen's wait is one wait
            warnings_sent=list(self.warnings_sent), at_risk_since=self.at_risk_since)
        clock._record(SlaClockStartedV1, now, started_at=at, due_at=due,
                      working_days=self.working_days, timezone=calendar.timezone,
                      policy_version=self.policy_version)
        clock.schedule(calendar)
        return clock

    # ---- moved by lifecycle facts

    @property
    def open(self) -> bool:
        return self.state in OPEN

    def pause(self, at: datetime, calendar: "WorkingCalendar", reason: str, now: datetime) -> bool:
        """Waiting (for the citizen, or for a new OPD): the working time left is kept."""
        if self.state != "running":
            return False
        at = max(at, self.segment_started_at or at)
        self.used_seconds += calendar.working_seconds(self.segment_started_at or at, at)
        self.remaining_seconds = calendar.working_seconds(at, self.due_at) if at < self.due_at else 0.0
        self.state, self.paused_at, self.next_fire_at = "paused", at, None
        self.changed = True
        self._record(SlaClockPausedV1, now, remaining_working_seconds=self.remaining_seconds,
                     reason=reason)
        return True

    def resume(self, at: datetime, calendar: "WorkingCalendar", reason: str, now: datetime) -> bool:
        """Runs again with what it had left; the deadline moves by the paused working time."""
        if self.state != "paused":
            return False
        at = max(at, self.paused_at or at)
        previous = self.due_at
        remaining = self.remaining_seconds or 0.0
        self.due_at = calendar.deadline_after(at, remaining) if remaining > 0 else max(at, previous)
        self.state, self.segment_started_at = "running", at
        self.paused_at = self.remaining_seconds = None
        self.changed = True
        self._record(SlaClockResumedV1, now, due_at=self.due_at, previous_due_at=previous,
                     reason=reason)
        self.schedule(calendar)
        return True

    def stop(self, at: datetime, calendar: "WorkingCalendar", *, fulfilled: bool, reason: str,
             now: datetime, outcome: str | None = None) -> bool:
        """Ended: `fulfilled` when what it waited for happened (met, or late after a breach);
        otherwise withdrawn (no longer this clock's business)."""
        if not self.open:
            return False
        if self.state == "running" and self.segment_started_at is not None:
            self.used_seconds += calendar.working_seconds(self.segment_started_at,
                                                          max(at, self.segment_started_at))
        if outcome is None:
            outcome = ("late" if self.breached_at is not None or at > self.due_at else "met") \
                if fulfilled else "withdrawn"
        self.state, self.outcome, self.stopped_at = "stopped", outcome, at
        self.working_seconds_used = self.used_seconds
        self.next_fire_at = None
        self.changed = True
        self._record(SlaClockStoppedV1, now, outcome=outcome, reason=reason,
                     working_seconds_used=self.used_seconds)
        return True

    def supersede(self, at: datetime, calendar: "WorkingCalendar", reason: str,
                  now: datetime) -> bool:
        """A newer clock of the same kind takes over (e.g. a later follow-up's auto-close)."""
        if not self.stop(at, calendar, fulfilled=False, reason=reason, now=now):
            return False
        self.state = "superseded"
        return True

    def hand_over(self, opd_id: str | None) -> None:
        """The citizen's clocks follow the complaint from OPD to OPD."""
        if opd_id != self.opd_id:
            self.opd_id, self.changed = opd_id, True

    # ---- fired by the loop

    def fire(self, now: datetime, calendar: "WorkingCalendar") -> None:
        """Everything owed up to `now`: a quiet start, warnings, the breach, escalation steps, or
        the quiet end of a clock that does not breach. Idempotent: what was done is remembered."""
        if self.announce_at is not None and self.announce_at <= now and self.open:
            self._announce(self.started_at)
            self.changed = True
        if self.state != "running":
            self.next_fire_at = None
            return
        for rule, deliver_at in self._pending_warnings(calendar):
            if deliver_at is not None and now >= self.due_at:
                deliver_at = None   # too late to warn: the breach says it
            if deliver_at is not None and deliver_at <= now:
                left = calendar.working_seconds(now, self.due_at) if now < self.due_at else 0.0
                elapsed = 1 - left / self.budget_seconds if self.budget_seconds else 1.0
                self.warnings_sent = [*self.warnings_sent, rule.label]
                self.at_risk_since = self.at_risk_since or now
                self._record(SlaWarningIssuedV1, now, due_at=self.due_at, threshold=rule.label,
                             elapsed_share=round(max(elapsed, 0.0), 4), working_seconds_left=left)
            elif deliver_at is None:
                self.warnings_sent = [*self.warnings_sent, rule.label + "!skipped"]
        if now >= self.due_at:
            if self.kind == "auto_close":
                self._record(SlaAutoCloseDueV1, now, due_at=self.due_at)
                self.stop(self.due_at, calendar, fulfilled=False, reason="the citizen stayed silent",
                          now=now, outcome="expired")
                return
            if self.kind not in ALERTING:
                self.stop(self.due_at, calendar, fulfilled=False, reason="the window ended",
                          now=now, outcome="expired")
                return
            if self.breached_at is None:
                self.breached_at = now
                self._record(SlaBreachedV1, now, due_at=self.due_at)
            for step_no, step in enumerate(self.plan.escalation, start=1):
                if step_no <= self.escalation_step:
                    continue
                if self._escalation_time(step.after_working_days, calendar) > now:
                    break
                self.escalation_step, self.escalation_level = step_no, step.level
                self._record(SlaEscalatedV1, now, due_at=self.due_at, level=step.level, step=step_no)
        self.changed = True
        self.schedule(calendar)

    def schedule(self, calendar: "WorkingCalendar") -> None:
        """When the loop next owes this clock something (None: nothing until a fact moves it)."""
        if self.state != "running":
            self.next_fire_at = None
            return
        times = [t for _, t in self._pending_warnings(calendar) if t is not None]
        if self.announce_at is not None:
            times.append(self.announce_at)
        if self.breached_at is None:
            times.append(self.due_at)
        elif self.escalation_step < len(self.plan.escalation):
            times.append(self._escalation_time(
                self.plan.escalation[self.escalation_step].after_working_days, calendar))
        self.next_fire_at = min(times) if times else None

    def _pending_warnings(self, calendar: "WorkingCalendar"):
        """(rule, delivery time or None when it could only come after the deadline) for each
        warning not yet issued."""
        if self.kind == "reopen_window" or self.breached_at is not None:
            return []
        done = {label.removesuffix("!skipped") for label in self.warnings_sent}
        start = self.segment_started_at or self.started_at
        left_at_start = calendar.working_seconds(start, self.due_at) if start < self.due_at else 0.0
        pending = []
        for rule in self.plan.warnings:
            if rule.label in done:
                continue
            threshold = max(
                (1 - rule.elapsed) * self.budget_seconds if rule.elapsed is not None else 0.0,
                rule.hours_left * 3600 if rule.hours_left is not None else 0.0)
            reached = start if left_at_start <= threshold else \
                calendar.add_working_seconds(start, left_at_start - threshold)
            deliver = calendar.next_alert_time(reached)
            pending.append((rule, deliver if deliver < self.due_at else None))
        return pending

    def _escalation_time(self, after_working_days: int, calendar: "WorkingCalendar") -> datetime:
        if after_working_days == 0:
            return self.breached_at or self.due_at
        due_day = self.due_at.astimezone(calendar.zone).date()
        day = calendar.add_working_days(due_day, after_working_days)
        return calendar.next_alert_time(datetime.combine(day, time(0), tzinfo=calendar.zone))

    # ---- events

    def _announce(self, now: datetime) -> None:
        """Tell the start. A quiet start is told as of the instant it started: when the
        deadline was set, not when sla got round to saying so."""
        self.announce_at = None
        self._record(SlaClockStartedV1, now, started_at=self.started_at, due_at=self.due_at,
                     working_days=self.working_days, timezone=self.timezone,
                     policy_version=self.policy_version)

    def _record(self, model: type[Event], now: datetime, **fields) -> None:
        if self.announce_at is not None:
            if model is SlaClockStoppedV1:      # ended before anyone heard it start
                self.announce_at = None
                return
            self._announce(self.started_at)
        fields.setdefault("due_at", self.due_at)
        self.events.append(model(
            complaint_id=self.complaint_id, occurred_at=now, tracking_number=self.tracking_number,
            clock=self.kind, clock_id=self.clock_id, jurisdiction=self.jurisdiction,
            opd_id=self.opd_id, **fields))

    @property
    def status(self) -> str:
        """What operators see: on_track, at_risk or breached (open clocks), else the outcome."""
        if not self.open:
            return self.outcome or self.state
        if self.breached_at is not None:
            return "breached"
        return "at_risk" if self.at_risk_since is not None else "on_track"
