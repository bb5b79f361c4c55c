"""Open311 POST requests per second and latency at a fixed concurrency: what a busy front end
(FixMyStreet forwarding a burst) costs intake. Form-encoded posts with an API key issued by an
operator, as a real client sends them; HTTP answer latency only (the pipeline behind it is the
same as the native API's, measured by the other phases)."""

from __future__ import annotations

import asyncio
import time

import httpx

from bench.stats import rate, spread_ms

FORM = {"service_code": "pupr.jalan-rusak", "lat": "-6.9175", "long": "107.6191",
        "address_string": "Jl. Merdeka No. 10", "attribute[ukuran]": "sedang",
        "description": "Jalan berlubang besar di depan SDN 3, sudah dua minggu, mohon diperbaiki.",
        "first_name": "Bench", "last_name": "Open311"}


async def issue_key(intake_url: str, operator_token: str) -> str:
    async with httpx.AsyncClient(base_url=intake_url, timeout=30) as api:
        issued = await api.post("/v1/api-keys", json={"name": "bench"},
                                headers={"Authorization": f"Bearer {operator_token}"})
        issued.raise_for_status()
        return issued.json()["api_key"]


async def posts(intake_url: str, operator_token: str, run_id: str, count: int,
                concurrency: int) -> dict:
    """`count` POST requests.json at `concurrency`: accepted/s and latency percentiles."""
    key = await issue_key(intake_url, operator_token)
    latencies: list[float] = []
    failures: dict[str, int] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=intake_url, timeout=60, limits=limits) as api:
        async def worker() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                form = {**FORM, "api_key": key, "device_id": f"{run_id}-{n}"}
                started = time.monotonic()
                try:
                    answer = await api.post("/open311/v2/requests.json", data=form)
                    outcome = str(answer.status_code)
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                if outcome == "201":
                    latencies.append(time.monotonic() - started)
                else:
                    failures[outcome] = failures.get(outcome, 0) + 1

        began = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.monotonic() - began
    return {"requests": count, "concurrency": concurrency, "accepted": len(latencies),
            "failures": failures, "seconds": round(seconds, 2),
            "accepted_per_s": rate(len(latencies), seconds), "latency_ms": spread_ms(latencies)}


def print_posts(say, r: dict) -> None:
    say(f"\n== Open311 POST requests: {r['requests']} at concurrency {r['concurrency']} ==")
    lat = r["latency_ms"]
    say(f"accepted {r['accepted_per_s']:.1f}/s; latency p50 {lat['p50']:.0f} ms, p99 {lat['p99']:.0f} ms"
        + (f"; failures {r['failures']}" if r["failures"] else ""))
