"""`make bench`: start a private platform, measure it, measure the machine, report.

    .venv/bin/python -m bench [--complaints 3000] [--concurrency 32] [--rate 50] [--duration 20]
                              [--skip-limits] [--keep]

The platform (its own Kafka, PostgreSQL, mail catcher and the four services, free ports, state
under var/bench-<id>/) is started as `make run` would, then:

  1. warm-up      a few complaints, not counted
  2. throughput   --complaints submitted with --concurrency in flight: accepted/s, HTTP latency,
                  end-to-end complaints/s to the mail catcher and submit->e-mail percentiles
  3. paced        --rate complaints/s offered for --duration s, open loop: submit->e-mail latency
  4. limits       pgbench and Kafka's ProducerPerformance on the same server and broker
                  (--skip-limits leaves them out)
  5. classifier   routing's classifier in process after the stack stopped: classifications/s
                  and p99 latency per complaint on the held-out texts (bench/classify.py;
                  --classify-rounds 0 skips)
  6. notify      after the platform phases: --notify-per-channel complaints per channel (e-mail,
                  SMS, WhatsApp, webhook) made known to notify on its topics, then one burst of
                  dispositions: deliveries/s per channel and event->delivery lag at the local
                  sinks (bench/notify_deliveries.py; 0 skips)
  7. sla clocks   before the stack stops, on its PostgreSQL (own database): for each of
                  --sla-clocks open clocks, database size, the time to claim due clocks and the
                  lag from deadline to alert with the real firing loop (bench/sla_clocks.py;
                  --sla-clocks 0 skips)

then prints memory, the services' warnings, a summary with the ratios, and writes everything to
var/bench-results/<UTC time>.json. The stack is stopped and its folder removed at the end
(--keep keeps the folder, logs included). --complaints 0 or --duration 0 skip that phase.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

from backbone.gc_tuning import settle_after_start
from bench import complaints, limits, open311, phases, report, service_logs
from bench import classify as bench_classify
from bench import notify_deliveries as bench_notify
from bench import sla_clocks as bench_sla_clocks
from bench.footprint import Footprint
from bench.mailwatch import MailWatch
from bench.procs import CpuMeter, platform_processes, rss_mib
from devstack.kafka import REPO_ROOT
from devstack.stack import Stack, StackConfig

RESULTS = REPO_ROOT / "var" / "bench-results"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--complaints", type=int, default=3000, help="throughput phase size (default 3000)")
    p.add_argument("--concurrency", type=int, default=32, help="requests in flight in the throughput phase")
    p.add_argument("--open311", type=int, default=1000,
                   help="Open311 POST requests (at --concurrency) after the other phases; 0 skips")
    p.add_argument("--rate", type=float, default=50, help="complaints/s offered in the paced phase")
    p.add_argument("--duration", type=float, default=20, help="seconds of the paced phase")
    p.add_argument("--warmup", type=int, default=300,
                   help="complaints sent first and not counted (warms the JIT, pools, caches)")
    p.add_argument("--skip-limits", action="store_true", help="no pgbench / Kafka producer phase")
    p.add_argument("--pgbench-seconds", type=int, default=10)
    p.add_argument("--kafka-records", type=int, default=200_000)
    p.add_argument("--stall-timeout", type=float, default=30,
                   help="stop waiting for e-mails after this many seconds without a new one")
    p.add_argument("--drain-timeout", type=float, default=600,
                   help="stop waiting for a phase's e-mails after this many seconds in total")
    p.add_argument("--keep", action="store_true", help="keep var/bench-<id>/ (logs, data) afterwards")
    p.add_argument("--copies", action="store_true",
                   help="submit four fixed texts over and over, without a place (a campaign's "
                        "burst of copies: every complaint a duplicate of the earlier ones)")
    p.add_argument("--sla-clocks", default="100000,1000000", metavar="SIZES",
                   help="open clocks for the sla clocks phase, comma separated; 0 skips")
    p.add_argument("--notify-per-channel", type=int, default=1000,
                   help="messages per channel in the notify phase; 0 skips")
    p.add_argument("--classify-rounds", type=int, default=3,
                   help="rounds over the held-out texts for the in-process classifier bench; 0 skips")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    complaints.COPIES["on"] = args.copies
    run_id = uuid.uuid4().hex[:6]
    home = REPO_ROOT / "var" / f"bench-{run_id}"
    results: dict = {"meta": meta(run_id, args)}
    config = StackConfig.private(home, prefix="bench.")
    # One load generator on one address: limits stay on (their cost is measured), out of reach.
    config.extra_env = {"RATE_LIMIT_PER_CLIENT": "10000000/minute",
                        "QUIET_HOURS": ""}   # measured at any hour: nothing held till morning
    stack = Stack(config)
    started = time.monotonic()
    try:
        stack.up()
        results["meta"]["platform_ready_s"] = round(time.monotonic() - started, 1)
        report.say(f"platform ready in {results['meta']['platform_ready_s']}s under {home}")
        processes = platform_processes(stack)
        # This process sends the load and watches the mailbox: its own collector pauses would
        # be counted as the platform's latency. Settled as the services settle theirs.
        settle_after_start()
        log_marks = asyncio.run(platform_phases(stack, args, run_id, CpuMeter(processes), results))
        results["rss_mib"] = rss_mib(processes)
        results["service_logs"] = service_logs.warnings_and_errors(stack.log_dir, log_marks)
        if not args.skip_limits:
            results["limits"] = machine_limits(stack, args, home)
            report.print_limits(results["limits"])
        if args.sla_clocks.strip() not in ("", "0"):
            results["sla_clocks"] = sla_clocks(stack, args)
        report.print_rss(results["rss_mib"])
        report.print_logs(results["service_logs"])
    finally:
        stack.down()
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    if args.classify_rounds:
        try:   # in process, after the platform stopped: it has both cores to itself
            results["classifier"] = bench_classify.run(report.say, args.classify_rounds)
        except Exception as exc:  # a missing model must not lose the platform's numbers
            results["classifier"] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
            report.say(f"classifier bench failed: {results['classifier']['error']}")
    results["ratios"] = report.ratios(results)
    report.print_summary(results)
    report.say(f"\nresults: {report.write_json(results, RESULTS).relative_to(REPO_ROOT)}")


async def platform_phases(stack: Stack, args: argparse.Namespace, run_id: str, meter: CpuMeter,
                          results: dict) -> dict[str, int]:
    """Runs the phases into `results`; returns where the service logs stood after warm-up."""
    async with MailWatch(stack.mail_url) as watch:
        footprint = Footprint(stack.dsn, f"127.0.0.1:{stack.c.kafka_port}", stack.c.topic_prefix)
        ctx = phases.Context(stack.service_url("intake"), watch, meter, footprint, run_id,
                             args.stall_timeout, args.drain_timeout)
        if args.warmup:
            results["warmup"] = w = await phases.warm_up(ctx, args.warmup)
            report.say(f"warm-up: {w['accepted']}/{w['complaints']} accepted, e-mails in {w['seconds']}s"
                       + (f" ({w['missing']} missing)" if w["missing"] else ""))
        log_marks = service_logs.mark(stack.log_dir)
        if args.complaints:
            results["throughput"] = await phases.throughput(ctx, args.complaints, args.concurrency)
            report.print_throughput(results["throughput"])
        if args.duration and args.rate:
            results["paced"] = await phases.paced(ctx, args.rate, args.duration)
            report.print_paced(results["paced"])
        if args.open311:
            results["open311"] = await open311.posts(ctx.intake_url, stack.staff_token("operator"),
                                                     run_id, args.open311, args.concurrency)
            open311.print_posts(report.say, results["open311"])
        if args.notify_per_channel:
            try:
                results["notify"] = await bench_notify.run(stack, args.notify_per_channel, report.say)
            except Exception as exc:  # must not lose the platform's numbers
                results["notify"] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
                report.say(f"notify bench failed: {results['notify']['error']}")
    return log_marks


def sla_clocks(stack: Stack, args: argparse.Namespace) -> dict:
    """sla's clocks at scale on the stack's PostgreSQL (services idle); prints its table."""
    try:
        sizes = [int(x) for x in args.sla_clocks.split(",") if x.strip() and int(x) > 0]
        return bench_sla_clocks.run(sizes, dsn=stack.dsn, report=report.say)
    except Exception as exc:  # must not lose the platform's numbers
        report.say(f"sla clocks bench failed: {type(exc).__name__}: {exc}"[:500])
        return {"error": f"{type(exc).__name__}: {exc}"[:500]}


def machine_limits(stack: Stack, args: argparse.Namespace, home: Path) -> dict:
    """Each tool on its own: one failing still leaves the other's number (and the error)."""
    out: dict = {}
    try:
        out["pgbench"] = limits.pgbench(stack.dsn, home, args.pgbench_seconds)
    except Exception as exc:  # a limits tool failing must not lose the platform's numbers
        out["pgbench"] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
    try:
        out["kafka_producer"] = limits.kafka_producer(
            stack.c.kafka_libs, f"127.0.0.1:{stack.c.kafka_port}", home, args.kafka_records)
    except Exception as exc:
        out["kafka_producer"] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
    return out


def meta(run_id: str, args: argparse.Namespace) -> dict:
    def git(*argv: str) -> str:
        try:
            return subprocess.run(["git", *argv], cwd=REPO_ROOT, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except OSError:
            return ""

    return {"run_id": run_id, "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "commit": git("rev-parse", "--short", "HEAD") or "unknown",
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
            "cores": os.cpu_count(), "load_before": [round(x, 2) for x in os.getloadavg()],
            "args": vars(args)}


if __name__ == "__main__":
    main()
