"""The delivery loop: runs `dispatch_due` in its own transactions, woken by new deliveries
(LISTEN deliveries_due) and otherwise every poll interval, so retries come due on time."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from backbone.runtime import Runtime

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, dispatch_once, poll_interval: float) -> None:
        self._dispatch_once = dispatch_once
        self._poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._listener = None

    async def start(self, runtime: Runtime) -> None:
        assert runtime.pool is not None
        self._listener = await runtime.pool.acquire()
        await self._listener.add_listener("deliveries_due", lambda *_: self._wake.set())
        self._task = asyncio.create_task(self._run(runtime), name="notify-dispatcher")

    async def stop(self, runtime: Runtime) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._listener is not None and runtime.pool is not None:
            await runtime.pool.release(self._listener)

    async def _run(self, runtime: Runtime) -> None:
        while True:
            self._wake.clear()
            try:
                async with runtime.unit_of_work() as uow:
                    handled = await self._dispatch_once(uow)
            except Exception:
                log.exception("dispatch round failed")
                handled = 0
            if not handled:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval)
