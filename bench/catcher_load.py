"""How many messages per second the local mail catcher takes, on its own.

Why: `make bench` measures the platform up to the moment an e-mail lands in the catcher, and
notify sends one message per SMTP connection, one after another. If the catcher were slow,
the benchmark would be measuring the catcher. This starts a private catcher (free ports,
scratch store), sends it notify-like messages and prints messages/s and the catcher's CPU:

  sequential   one sender, a new connection per message (what notify does today)
  parallel     several such senders at once
  reused       one connection carrying many messages (what a pooled mailer would do)

then checks that /api/stats and /api/messages?since= agree with what was sent.

Run: .venv/bin/python -m bench.catcher_load [--messages 2000] [--senders 8] [--catcher PATH]
(--catcher: another version of mailcatcher.py, e.g. from `git show`, to compare against)
Not part of `make bench`; a check to re-run after touching deploy/local/devstack/mailcatcher.py.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx
import psutil

from devstack.kafka import REPO_ROOT
from devstack.stack import free_port, http_ok, wait_until

CATCHER = REPO_ROOT / "deploy" / "local" / "devstack" / "mailcatcher.py"
BODY = ("Yth. Bapak/Ibu Pelapor,\n\nTerima kasih telah menyampaikan pengaduan. Pengaduan Anda telah "
        "kami terima dan diteruskan kepada instansi yang berwenang.\n\n  Nomor lacak : {n}\n"
        "  Diteruskan ke: Dinas Pekerjaan Umum dan Penataan Ruang\n\nSalam,\nTim Pengelola Pengaduan\n")


def message(n: int) -> EmailMessage:
    """Shaped like notify's: UTF-8 text body, a non-ASCII-safe subject, X-Lapor-* headers."""
    m = EmailMessage()
    m["From"] = "LAPOR <noreply@lapor.example.id>"
    m["To"] = f"load-{n}@example.id"
    m["Subject"] = f"[LAPOR] Pengaduan {n} telah diteruskan — Dinas PUPR"
    m["Message-ID"] = f"<load-{n}@bench>"
    m["X-Lapor-Tracking-Number"] = str(n)
    m.set_content(BODY.format(n=n), charset="utf-8")
    return m


async def sequential(port: int, first: int, count: int) -> None:
    for n in range(first, first + count):
        await aiosmtplib.send(message(n), hostname="127.0.0.1", port=port)


async def reused(port: int, first: int, count: int) -> None:
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as smtp:
        for n in range(first, first + count):
            await smtp.send_message(message(n))


async def measure(name: str, catcher: psutil.Process, run) -> None:
    before, started = catcher.cpu_times(), time.perf_counter()
    sent = await run()
    elapsed = time.perf_counter() - started
    after = catcher.cpu_times()
    user, system = after.user - before.user, after.system - before.system
    print(f"{name:10} {sent:6d} messages in {elapsed:6.2f}s = {sent / elapsed:7.1f} msg/s"
          f"   catcher CPU {100 * (user + system) / elapsed:5.1f}%"
          f" ({1000 * user / sent:.2f} user + {1000 * system / sent:.2f} sys ms/message)")


async def main_async(args: argparse.Namespace, smtp_port: int, http_port: int, catcher: psutil.Process) -> None:
    n, k = args.messages, args.senders
    await measure("sequential", catcher, lambda: _count(sequential(smtp_port, 0, n), n))
    await measure("parallel", catcher, lambda: _count(asyncio.gather(
        *(sequential(smtp_port, n + i * (n // k), n // k) for i in range(k))), (n // k) * k))
    await measure("reused", catcher, lambda: _count(reused(smtp_port, 2 * n, n), n))

    expected = n + (n // k) * k + n
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as http:
        response = await http.get("/api/stats")
        if response.status_code == 404:
            print("api: this catcher has no /api/stats; API checks skipped")
            return
        stats = response.json()
        tail = (await http.get("/api/messages", params={"since": expected - 5})).json()
        started = time.perf_counter()
        everything = (await http.get("/api/messages")).json()
        full_ms = 1000 * (time.perf_counter() - started)
    assert stats["count"] == expected == len(everything), (stats, expected, len(everything))
    assert [m["id"] for m in tail] == [m["id"] for m in everything[-5:]]
    print(f"api: /api/stats count {stats['count']} (expected {expected}); since= returns the tail;"
          f" full /api/messages took {full_ms:.0f} ms")


async def _count(awaitable, count: int) -> int:
    await awaitable
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--catcher", type=Path, default=CATCHER)
    args = parser.parse_args()
    smtp_port, http_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        process = subprocess.Popen([sys.executable, str(args.catcher), "--smtp-port", str(smtp_port),
                                    "--http-port", str(http_port), "--store", str(Path(tmp) / "m.jsonl")])
        try:
            wait_until(lambda: http_ok(f"http://127.0.0.1:{http_port}/healthz"), 30, "mail catcher")
            asyncio.run(main_async(args, smtp_port, http_port, psutil.Process(process.pid)))
        finally:
            process.terminate()
            process.wait(timeout=30)
        lines = sum(1 for _ in (Path(tmp) / "m.jsonl").open())
        print(f"store: {lines} lines after a clean stop")


if __name__ == "__main__":
    main()
