"""Sending complaints to intake: closed loop (fixed concurrency) and open loop (fixed rate).

Closed loop answers "how many per second can it take": `concurrency` workers each submit the
next complaint as soon as their previous one is answered. Open loop answers "how long does a
citizen wait at a given load": requests go out on a schedule whatever happens to earlier ones,
and latency counts from the scheduled moment, so a stalled server cannot hide its queue by
slowing the sender down (coordinated omission).

Times are wall-clock epoch seconds (time.time()) because they are compared with the mail
catcher's received_at, taken on the same machine's clock.

The client is aiohttp, not httpx: the load generator shares the two cores with the platform it
measures, and httpx spent about 2.5 ms of CPU per submission (12% of a core at 50/s), CPU the
platform then did not have.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

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
    access_token: str | None = None   # the citizen's: lets the bench read the complaint's status

    @property
    def accepted(self) -> bool:
        return self.status == 201

    @property
    def http_seconds(self) -> float:
        return self.finished - self.started


def client(base_url: str, connections: int) -> aiohttp.ClientSession:
    """One keep-alive pool sized so the client never queues a request on its own side."""
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections)
    return aiohttp.ClientSession(base_url=base_url, connector=connector,
                                 timeout=aiohttp.ClientTimeout(total=60))


async def submit(api: aiohttp.ClientSession, email: str, n: int, scheduled: float | None = None) -> Submission:
    started = time.time()
    s = Submission(email=email, scheduled=scheduled or started, started=started)
    try:
        async with api.post("/v1/complaints", json=complaint_body(email, n)) as response:
            s.status = response.status
            if s.accepted:
                receipt = await response.json()
                s.tracking_number, s.access_token = receipt["tracking_number"], receipt["access_token"]
            else:
                s.error = (await response.text())[:200]
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        s.error = (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)[:200]
    s.finished = time.time()
    return s


async def closed_loop(api: aiohttp.ClientSession, emails: list[str], concurrency: int) -> list[Submission]:
    """Submit one complaint per e-mail address, `concurrency` at a time; results in input order."""
    results: list[Submission | None] = [None] * len(emails)
    work = iter(enumerate(emails))  # shared by the workers: each takes the next one

    async def worker() -> None:
        for n, email in work:
            results[n] = await submit(api, email, n)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return [r for r in results if r is not None]


async def open_loop(api: aiohttp.ClientSession, email_for: Callable[[int], str], rate: float,
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


async def statuses(api: aiohttp.ClientSession, subs: list[Submission]) -> dict[str, str | None]:
    """Each accepted submission's complaint status as its citizen reads it (None: unreadable)."""
    async def one(s: Submission) -> tuple[str, str | None]:
        try:
            async with api.get(f"/v1/complaints/{s.tracking_number}",
                               headers={"Authorization": f"Bearer {s.access_token}"}) as response:
                return s.email, (await response.json())["status"] if response.status == 200 else None
        except (aiohttp.ClientError, asyncio.TimeoutError, KeyError, ValueError):
            return s.email, None
    return dict(await asyncio.gather(*(one(s) for s in subs if s.tracking_number)))
