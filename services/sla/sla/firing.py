"""The firing loop: what clocks owe by now (warnings, breaches, escalations, auto-closes, ends
of reopen windows), claimed in batches with FOR UPDATE SKIP LOCKED so several sla workers share
the work and none fires a clock another holds. One transaction per batch: the clocks' new state,
the alerts table and the outbox rows commit together, so a crash fires nothing twice and loses
nothing (the claim is retried by whoever looks next).

It looks every `poll_interval` (a quarter second by default: a deadline is fired within a
second of falling due) and at once again while batches come back full.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from backbone import metrics
from backbone.loops import SupervisedLoop
from contracts.events import SlaAlert
from sla.calendar_registry import Calendars

log = logging.getLogger(__name__)


class FiringLoop(SupervisedLoop):
    def __init__(self, service: str, unit_of_work: Callable[[], Any], calendars: Calendars,
                 now: Callable[[], datetime], *, batch_size: int = 500,
                 poll_interval: float = 0.25,
                 on_alerts: Callable[[], None] | None = None) -> None:
        super().__init__("firing", service)
        self._uow = unit_of_work
        self._calendars = calendars
        self._now = now
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._on_alerts = on_alerts

    async def run(self) -> None:
        backoff = 0.2
        while not self.stopping:
            try:
                fired = await self.fire_once()
            except Exception as exc:   # database away: nothing was claimed for good
                self.report(False, f"cannot fire clocks: {type(exc).__name__}")
                log.warning("firing round failed", extra={"error": repr(exc)})
                await self.pause(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.2
            self.report(True)
            if fired < self._batch_size:
                await self.pause(self._poll_interval)

    async def fire_once(self) -> int:
        """One batch: returns how many clocks it handled."""
        now = self._now()
        started = time.perf_counter()
        alerts: list[SlaAlert] = []
        async with self._uow() as uow:
            clocks = await uow.clocks.claim_due(now, self._batch_size)
            owed_at = [c.next_fire_at for c in clocks if c.next_fire_at is not None]
            for clock in clocks:
                clock.fire(now, await self._calendars.calendar(clock.jurisdiction))
                for event in clock.events:
                    await uow.outbox.record(event)
                    if isinstance(event, SlaAlert):
                        alerts.append(event)
                clock.events.clear()
            await uow.clocks.save(clocks)
            await uow.clocks.add_alerts(alerts)
        if clocks:
            metrics.SLA_FIRE_BATCH.labels(self.service).observe(time.perf_counter() - started)
        for owed in owed_at:
            metrics.SLA_FIRE_LAG.labels(self.service).observe(max((now - owed).total_seconds(), 0))
        for alert in alerts:
            metrics.SLA_ALERTS.labels(self.service, type(alert).__name__, alert.clock).inc()
            log.info("sla alert", extra={"alert": type(alert).__name__, "clock": alert.clock,
                                         "tracking_number": alert.tracking_number,
                                         "opd_id": alert.opd_id})
        if alerts and self._on_alerts is not None:
            self._on_alerts()
        return len(clocks)
