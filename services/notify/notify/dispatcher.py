"""The delivery loop: sends what is owed, woken by new deliveries (LISTEN on this schema's
deliveries channel, over a dedicated connection it rebuilds after a database restart) and
otherwise every poll interval, so retries and expired leases come due on time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from backbone.db import DbTimeouts, connect, notify_channel
from backbone.loops import SupervisedLoop
from notify.adapters.deliveries import DELIVERIES_CHANNEL

log = logging.getLogger(__name__)


class Dispatcher(SupervisedLoop):
    def __init__(self, service: str, dispatch_once: Callable[[], Awaitable[int]], *, dsn: str,
                 schema: str, poll_interval: float, batch_size: int,
                 timeouts: DbTimeouts = DbTimeouts()) -> None:
        super().__init__("dispatcher", service)
        self._dispatch_once = dispatch_once
        self._dsn, self._schema, self._timeouts = dsn, schema, timeouts
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._listener: asyncpg.Connection | None = None

    async def run(self) -> None:
        backoff = 0.2
        while not self.stopping:
            await self._listen()
            try:
                handled = await self._dispatch_once()
            except Exception as exc:  # database away: the lease keeps claimed rows safe
                self.report(False, f"cannot dispatch: {type(exc).__name__}")
                log.warning("dispatch round failed", extra={"error": repr(exc)})
                await self.pause(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.2
            self.report(True)
            if handled < self._batch_size:
                await self.pause(self._poll_interval)
        await self.on_restart()

    async def _listen(self) -> None:
        """Keep the LISTEN connection up; without it the poll interval still bounds the wait."""
        if self._listener is not None and not self._listener.is_closed():
            return
        await self.on_restart()
        try:
            self._listener = await connect(self._dsn, self._schema, f"{self._schema}-dispatcher",
                                           self._timeouts)
            await self._listener.add_listener(notify_channel(DELIVERIES_CHANNEL, self._schema),
                                              lambda *_: self.wake())
        except Exception as exc:
            log.warning("cannot listen for new deliveries", extra={"error": repr(exc)})
            await self.on_restart()

    async def on_restart(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(listener.close(), 2)
            listener.terminate()
