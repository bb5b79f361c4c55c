"""Benchmark: latency of one complaint from HTTP submit to the citizen's e-mail in the catcher.

Starts a private platform (its own Kafka, PostgreSQL, mail catcher and the four services under
var/bench-*), submits N complaints one after another, and for each measures submit start ->
the mail catcher's receive time. Prints percentiles, throughput and each process's memory.
Not a test: nothing here passes or fails on a number.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import httpx

from devstack.kafka import REPO_ROOT
from devstack.stack import SERVICES, Stack, StackConfig, wait_until

TEXTS = [
    ("Jalan berlubang di Jl. Merdeka", "Mhn diperbaiki, jalan berlubang besar di depan SDN 3 sdh dua minggu."),
    ("Sampah menumpuk di TPS", "Sampah di TPS dekat pasar tidak diangkut seminggu, bau busuk sekali."),
    ("Parkir liar depan pasar", "Banyak parkir liar di depan pasar sehingga jalan macet setiap sore."),
    ("Antrian puskesmas", "Antrian di puskesmas sangat lama dan dokter sering datang terlambat."),
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--complaints", type=int, default=100)
    args = parser.parse_args()

    home = REPO_ROOT / "var" / f"bench-{uuid.uuid4().hex[:6]}"
    stack = Stack(StackConfig.private(home, prefix="bench."))
    started = time.monotonic()
    try:
        stack.up()
        print(f"platform ready in {time.monotonic() - started:.1f}s; submitting {args.complaints} complaints")
        api = httpx.Client(base_url=stack.service_url("intake"), timeout=30)
        mail = httpx.Client(base_url=stack.mail_url, timeout=30)
        latencies, submits = [], []
        first = time.monotonic()
        for n in range(args.complaints):
            title, description = TEXTS[n % len(TEXTS)]
            email = f"bench-{n}@example.id"
            t0 = datetime.now(timezone.utc)
            response = api.post("/v1/complaints", json={
                "title": title, "description": description, "reporter": {"email": email}})
            response.raise_for_status()
            submits.append((datetime.now(timezone.utc) - t0).total_seconds())
            number = response.json()["tracking_number"]
            message = wait_until(lambda: next((m for m in reversed(mail.get("/api/messages").json())
                                               if m["rcpt_tos"] == [email]
                                               and m["headers"].get("X-Lapor-Tracking-Number") == number), None),
                                 60, f"mail {n}", interval=0.005)
            received = datetime.fromisoformat(message["received_at"])
            latencies.append((received - t0).total_seconds())
        elapsed = time.monotonic() - first
        ms = [x * 1000 for x in latencies]
        print(f"\nsubmit -> e-mail over {len(ms)} complaints (ms): p50 {percentile(ms, 50):.0f}"
              f"  p90 {percentile(ms, 90):.0f}  p99 {percentile(ms, 99):.0f}  max {max(ms):.0f}"
              f"  mean {statistics.mean(ms):.0f}")
        sub = [x * 1000 for x in submits]
        print(f"HTTP submit alone (ms): p50 {percentile(sub, 50):.1f}  p99 {percentile(sub, 99):.1f}")
        print(f"sequential throughput: {len(ms) / elapsed:.1f} complaints/s end to end")
        for name in SERVICES:
            pid = stack._pid(name)  # noqa: SLF001 - a benchmark may look inside
            if pid:
                print(f"RSS {name:8} {rss_mib(pid):6.1f} MiB")
    finally:
        stack.down()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
