"""The delivery loop: sends what is owed. A commit that made a delivery due wakes it in-process
(see NotifyPgUnitOfWork); otherwise it looks every poll interval, so retries and expired leases
come due on time, and deliveries another replica recorded are found."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from backbone.loops import SupervisedLoop

log = logging.getLogger(__name__)


class Dispatcher(SupervisedLoop):
    def __init__(self, service: str, dispatch_once: Callable[[], Awaitable[int]], *,
                 poll_interval: float, batch_size: int, linger: float = 0.01) -> None:
        super().__init__("dispatcher", service)
        self._dispatch_once = dispatch_once
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._linger = linger

    async def run(self) -> None:
        backoff = 0.2
        while not self.stopping:
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
                await self.pause(self._poll_interval, linger=self._linger)
