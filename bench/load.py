"""Sending complaints to intake: closed loop (fixed concurrency) and open loop (fixed rate).

Closed loop answers "how many per second can it take": `concurrency` workers each submit the
next complaint as soon as their previous one is answered. Open loop answers "how long does a
citizen wait at a given load": requests go out on a schedule whatever happens to earlier ones,
and latency counts from the scheduled moment, so a stalled server cannot hide its queue by
slowing the sender down (coordinated omission).

Times are wall-clock epoch seconds (time.time()) because they are compared with the mail
catcher's received_at, taken on the same machine's clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bench.complaints import complaint_body


@dataclass
class Submission:
    email: str
    scheduled: float  # when it was due to be sent: latency counts from here
    started: float  # when the request actually went out
    finished: float = 0.0
    status: int | None = None  # HTTP status; None if the request itself failed
    error: str | None = None
    tracking_number: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status == 201

    @property
    def http_seconds(self) -> float:
        return self.finished - self.started


def client(base_url: str, connections: int) -> httpx.AsyncClient:
    """One keep-alive pool sized so the client never queues a request on its own side."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits)


async def submit(api: httpx.AsyncClient, email: str, n: int, scheduled: float | None = None) -> Submission:
    started = time.time()
    s = Submission(email=email, scheduled=scheduled or started, started=started)
    try:
        response = await api.post("/v1/complaints", json=complaint_body(email, n))
        s.status = response.status_code
        if s.accepted:
            s.tracking_number = response.json()["tracking_number"]
        else:
            s.error = response.text[:200]
    except httpx.HTTPError as exc:
        s.error = (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)[:200]
    s.finished = time.time()
    return s


async def closed_loop(api: httpx.AsyncClient, emails: list[str], concurrency: int) -> list[Submission]:
    """Submit one complaint per e-mail address, `concurrency` at a time; results in input order."""
    results: list[Submission | None] = [None] * len(emails)
    work = iter(enumerate(emails))  # shared by the workers: each takes the next one

    async def worker() -> None:
        for n, email in work:
            results[n] = await submit(api, email, n)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return [r for r in results if r is not None]


async def open_loop(api: httpx.AsyncClient, email_for: Callable[[int], str], rate: float,
                    duration: float) -> tuple[list[Submission], float]:
    """Start one submission every 1/rate seconds for `duration` seconds, never waiting for
    answers. Returns the submissions and the worst lag of a send behind its schedule (if that
    is large, the load generator itself could not keep up and the result says little)."""
    count = int(rate * duration)
    start = time.time() + 0.05
    tasks, worst_lag = [], 0.0
    for n in range(count):
        due = start + n / rate
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        worst_lag = max(worst_lag, time.time() - due)
        tasks.append(asyncio.create_task(submit(api, email_for(n), n, scheduled=due)))
    return list(await asyncio.gather(*tasks)), worst_lag
