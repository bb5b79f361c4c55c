"""Sharing one event loop fairly between long batches and everything else in the process.

A consumer batch whose reads were all done ahead, or a relay batch handed to the producer, runs
for tens of milliseconds without awaiting anything that yields. Meanwhile nothing else in the
process moves: intake's HTTP requests, each needing several turns of the loop, waited behind
such stretches. A `TimeSlice` hands the loop back once its holder has run for `budget` seconds
without yielding, so a stretch costs the others at most about that much per turn.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class TimeSlice:
    """Call `await slice.check()` between units of work: it yields (one turn of the event loop)
    once `budget` seconds have passed since it last yielded or was made (`clock`: seconds)."""

    def __init__(self, budget: float = 0.005,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self._budget = budget
        self._clock = clock
        self._since = clock()

    async def check(self) -> None:
        if self._clock() - self._since >= self._budget:
            await asyncio.sleep(0)
            self._since = self._clock()
