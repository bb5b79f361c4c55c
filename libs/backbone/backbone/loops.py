"""Long-running loops (relay, consumer, dispatcher, housekeeping) under one supervision.

Each loop beats a heartbeat every turn and says whether it can do its work right now
(`healthy`, `detail`). The runtime's watchdog restarts a loop whose task died or whose
heartbeat went stale (wedged on something that never answers); readiness reads `healthy`;
liveness fails when a heartbeat stays stale even after that, so a supervisor or Kubernetes
restarts the process. Every wait inside a loop is bounded, so a healthy loop always beats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from backbone import metrics

log = logging.getLogger(__name__)


class SupervisedLoop:
    """Base of every loop: heartbeat, health, start, graceful stop, restart by the watchdog."""

    #: a heartbeat older than this means the loop is wedged (seconds)
    wedged_after: float = 60.0

    def __init__(self, name: str, service: str) -> None:
        self.name = name
        self.service = service
        self.healthy = False
        self.detail = "starting"
        self._beat = time.monotonic()
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()

    # ---- what the loop does: override `run`, call `beat` each turn

    async def run(self) -> None:
        raise NotImplementedError

    def beat(self) -> None:
        self._beat = time.monotonic()

    def report(self, healthy: bool, detail: str = "ok") -> None:
        if healthy != self.healthy or detail != self.detail:
            (log.info if healthy else log.warning)(
                "loop state", extra={"loop": self.name, "healthy": healthy, "detail": detail})
        self.healthy, self.detail = healthy, detail

    @property
    def heartbeat_age(self) -> float:
        return time.monotonic() - self._beat

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def pause(self, seconds: float, linger: float = 0.0) -> None:
        """Sleep up to `seconds`, beating, and wake early on `wake()` or stop. Woken early,
        wait `linger` more so the commits that arrive together are handled together: one
        batch instead of one per commit, for a few milliseconds of latency."""
        self.beat()
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
            if linger and not self._stopping:
                await asyncio.sleep(linger)
        except asyncio.TimeoutError:
            pass
        self._wake.clear()
        self.beat()

    def wake(self) -> None:
        self._wake.set()

    # ---- lifecycle, driven by the runtime

    def start(self) -> None:
        self._stopping = False
        self.beat()
        self._task = asyncio.create_task(self._guarded(), name=f"{self.service}:{self.name}")

    async def _guarded(self) -> None:
        try:
            await self.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            self.report(False, "crashed")
            log.exception("loop crashed", extra={"loop": self.name})

    @property
    def dead(self) -> bool:
        return self._task is not None and self._task.done() and not self._stopping

    async def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to finish its turn; cancel it if it does not within `timeout`."""
        self._stopping = True
        self.wake()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        except Exception:  # it crashed while stopping; nothing more to do
            pass

    async def restart(self, why: str) -> None:
        log.error("restarting loop", extra={"loop": self.name, "why": why,
                                            "heartbeat_age": round(self.heartbeat_age, 1)})
        metrics.LOOP_RESTARTS.labels(self.service, self.name, why).inc()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, 10)
        await self.on_restart()
        self.start()

    async def on_restart(self) -> None:
        """Drop whatever the wedged turn held (clients, connections) before running anew."""


class Watchdog:
    """Restarts loops that died or wedged; the runtime runs one per service."""

    def __init__(self, loops: list[SupervisedLoop], interval: float = 1.0) -> None:
        self.loops = loops
        self._interval = interval
        self._task: asyncio.Task | None = None
        self._beat = time.monotonic()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="watchdog")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def heartbeat_age(self) -> float:
        return time.monotonic() - self._beat

    async def _run(self) -> None:
        while True:
            self._beat = time.monotonic()
            for loop in self.loops:
                metrics.LOOP_AGE.labels(loop.service, loop.name).set(loop.heartbeat_age)
                try:
                    if loop.dead:
                        await loop.restart("died")
                    elif not loop.stopping and loop.heartbeat_age > loop.wedged_after:
                        await loop.restart("wedged")
                except Exception:
                    log.exception("watchdog could not restart a loop", extra={"loop": loop.name})
            await asyncio.sleep(self._interval)
