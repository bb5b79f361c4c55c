"""Printing the results for people and saving them as JSON for comparing runs.

Every phase prints its block as soon as it is done (a long run shows progress); the summary
at the end puts the platform next to the goals and the machine's own limits. The JSON file in
var/bench-results/ holds everything printed and a little more (commit, load, CPU per process).
"""

from __future__ import annotations

import json
import math
import os
from datetime import datetime, timezone
from pathlib import Path

from bench.stats import fmt_ms

GOAL_PER_S = 300.0  # end-to-end complaints/s, everything co-located on this machine
P99_TARGET_MS = 1000.0  # submit -> e-mail at the paced rate
PACED_TARGET_RATE = 50.0


def say(text: str = "") -> None:
    print(text, flush=True)


def cpu_line(cpu: dict[str, float], cores: int) -> str:
    """CPU per process as % of one core, busiest first; then what other work on the machine
    took, and the machine as a whole (out of 100% per core)."""
    parts = [f"{name} {pct:.0f}%" for name, pct in sorted(cpu.items(), key=lambda kv: -kv[1])
             if name not in ("others", "machine")]
    return ("  ".join(parts) + f"  | not ours {cpu.get('others', 0):.0f}%"
            f"  | machine {cpu.get('machine', 0):.0f}% of {100 * cores}%")


def print_throughput(r: dict) -> None:
    say(f"\n== throughput: {r['complaints']} complaints, concurrency {r['concurrency']} ==")
    say(f"accepted        {r['accepted']}/{r['complaints']} in {r['submit_seconds']:.1f}s = "
        f"{r['accepted_per_s']:.1f}/s" + _failures(r))
    say(f"HTTP submit ms  {fmt_ms(r['http_ms'])}")
    say(f"e-mails         {r['delivered']}/{r['accepted']} in {r['e2e_seconds']:.1f}s from first submit"
        f" = {r['e2e_per_s']:.1f} complaints/s end to end" + _missing(r))
    say(f"submit->e-mail  {fmt_ms(r['submit_to_email_ms'])} (ms)")
    if r.get("per_complaint"):
        say(f"per complaint   {r['per_complaint']['write_transactions']:.1f} PostgreSQL write transactions,"
            f" {r['per_complaint']['kafka_records']:.1f} Kafka records")
    say(f"CPU (% of one core, submit to last e-mail): {cpu_line(r['cpu_percent'], os.cpu_count() or 1)}")


def print_paced(r: dict) -> None:
    say(f"\n== paced: {r['rate']:g}/s offered for {r['duration']:g}s (open loop) ==")
    say(f"accepted        {r['accepted']}/{r['offered']}" + _failures(r)
        + f"; sender's worst lag behind schedule {r['sender_worst_lag_ms']:.0f} ms")
    say(f"HTTP submit ms  {fmt_ms(r['http_ms'])}")
    say(f"submit->e-mail  {fmt_ms(r['submit_to_email_ms'])} (ms)" + _missing(r))
    say(f"accept->e-mail  {fmt_ms(r['accept_to_email_ms'])} (ms, after the HTTP answer)")
    say(f"CPU (% of one core, first submit to last e-mail): {cpu_line(r['cpu_percent'], os.cpu_count() or 1)}")


def print_limits(limits: dict) -> None:
    say("\n== machine limits (same run, same PostgreSQL and broker) ==")
    pg = limits.get("pgbench")
    if pg and "tps" in pg:
        say(f"pgbench         {pg['tps']:.0f} tps ({pg['transaction']}; -c {pg['clients']} -j {pg['threads']}"
            f" -T {pg['seconds']}, prepared; avg latency {pg['latency_avg_ms']} ms)")
    elif pg:
        say(f"pgbench         failed: {pg['error']}")
    kafka = limits.get("kafka_producer")
    if kafka and "records_per_s" in kafka:
        lat = kafka["latency_ms"]
        say(f"kafka producer  {kafka['records_per_s']:.0f} records/s ({kafka['records']} x {kafka['record_size']} B,"
            f" {kafka['partitions']} partitions, {kafka['producer']}; latency p50 {lat['p50']} ms"
            f" p99 {lat['p99']} ms)")
    elif kafka:
        say(f"kafka producer  failed: {kafka['error']}")


def print_rss(rss: dict[str, float]) -> None:
    say("\n== memory (RSS at the end) ==")
    say("  ".join(f"{name} {mib:.0f} MiB" for name, mib in rss.items()))


def print_logs(found: dict[str, dict[str, int]]) -> None:
    if not found:
        say("\nservice logs: no warnings or errors after warm-up")
        return
    say("\n== service logs: warnings and errors after warm-up ==")
    for service, counts in found.items():
        for what, n in counts.items():
            say(f"{service:8} {n:6d} x {what}")


def ratios(results: dict) -> dict:
    """The platform against the goals and the machine's ceilings (None where not measured)."""
    t, p = results.get("throughput") or {}, results.get("paced") or {}
    limits = results.get("limits") or {}
    e2e = t.get("e2e_per_s")
    p99 = (p.get("submit_to_email_ms") or {}).get("p99")
    tps = (limits.get("pgbench") or {}).get("tps")
    rps = (limits.get("kafka_producer") or {}).get("records_per_s")
    per = t.get("per_complaint") or {}
    # A ceiling in complaints/s: what the tool did, divided by what one complaint needs of it.
    pg_ceiling = _div(tps, per.get("write_transactions"))
    kafka_ceiling = _div(rps, per.get("kafka_records"))
    return {
        "e2e_vs_goal": _div(e2e, GOAL_PER_S),
        "paced_p99_vs_target": _div(p99, P99_TARGET_MS),
        "e2e_vs_pgbench_tps": _div(e2e, tps),
        "e2e_vs_kafka_records_per_s": _div(e2e, rps),
        "pgbench_ceiling_complaints_per_s": pg_ceiling,
        "e2e_vs_pgbench_ceiling": _div(e2e, pg_ceiling),
        "kafka_ceiling_complaints_per_s": kafka_ceiling,
        "e2e_vs_kafka_ceiling": _div(e2e, kafka_ceiling),
    }


def print_summary(results: dict) -> None:
    t, p = results.get("throughput"), results.get("paced")
    limits, r = results.get("limits") or {}, results["ratios"]
    meta = results["meta"]
    say(f"\n== summary (commit {meta['commit']}{' + local changes' if meta['dirty'] else ''},"
        f" {meta['cores']} cores, load {meta['load_before'][0]:.2f} before) ==")
    if t:
        say(f"throughput      accepted {t['accepted_per_s']:.1f}/s; end to end {t['e2e_per_s']:.1f} complaints/s"
            f" = {_pct(r['e2e_vs_goal'])} of the {GOAL_PER_S:.0f}/s goal;"
            f" submit->e-mail p50 {t['submit_to_email_ms']['p50']:.0f} ms p99 {t['submit_to_email_ms']['p99']:.0f} ms")
    if p:
        verdict = "within" if r["paced_p99_vs_target"] is not None and r["paced_p99_vs_target"] < 1 else "over"
        say(f"paced {p['rate']:g}/s     submit->e-mail p50 {p['submit_to_email_ms']['p50']:.0f} ms"
            f" p99 {p['submit_to_email_ms']['p99']:.0f} ms max {p['submit_to_email_ms']['max']:.0f} ms"
            f" ({verdict} the {P99_TARGET_MS:.0f} ms p99 target"
            + ("" if p["rate"] == PACED_TARGET_RATE else f", which is set for {PACED_TARGET_RATE:g}/s") + ")")
    if t:
        cpu = t["cpu_percent"]
        busiest = sorted(((n, v) for n, v in cpu.items() if n not in ("others", "machine")), key=lambda kv: -kv[1])
        say(f"CPU             machine {cpu['machine']:.0f}% of {100 * meta['cores']}% during throughput"
            f" (not ours {cpu['others']:.0f}%); busiest " + ", ".join(f"{n} {v:.0f}%" for n, v in busiest[:3]))
    per = (t or {}).get("per_complaint") or {}
    if "tps" in (limits.get("pgbench") or {}) and t:
        say(f"vs PostgreSQL   e2e/pgbench = {t['e2e_per_s']:.1f}/{limits['pgbench']['tps']:.0f} tps"
            f" = {_pct(r['e2e_vs_pgbench_tps'])}" + _ceiling(r["pgbench_ceiling_complaints_per_s"],
            r["e2e_vs_pgbench_ceiling"], per.get("write_transactions"), "write transactions"))
    if "records_per_s" in (limits.get("kafka_producer") or {}) and t:
        say(f"vs Kafka        e2e/producer = {t['e2e_per_s']:.1f}/{limits['kafka_producer']['records_per_s']:.0f}"
            f" records/s = {_pct(r['e2e_vs_kafka_records_per_s'])}" + _ceiling(r["kafka_ceiling_complaints_per_s"],
            r["e2e_vs_kafka_ceiling"], per.get("kafka_records"), "records"))
    o = results.get("open311")
    if o:
        say(f"open311 POST    {o['accepted_per_s']:.1f} requests/s at concurrency {o['concurrency']}, "
            f"p99 {o['latency_ms']['p99']:.0f} ms")
    for line in sla_clocks_lines(results.get("sla_clocks")):
        say(line)


def sla_clocks_lines(s: dict | None) -> list[str]:
    """Per size: database size, claim time, deadline->alert lag (bench/sla_clocks.py)."""
    if not s:
        return []
    if "error" in s:
        return [f"sla clocks      failed: {s['error']}"]
    return [f"sla {int(n):>9,}   clocks {r['size']['clocks_total'] / 2**20:.0f} MiB"
            f" ({r['size']['bytes_per_clock']:.0f} B/clock), database {r['size']['database'] / 2**20:.0f} MiB;"
            f" claim {s['batch']} p50 {r['claim']['backlog']['ms']['p50']:.1f} ms"
            f" p99 {r['claim']['backlog']['ms']['p99']:.1f} ms;"
            f" deadline->alert p50 {r['lag']['lag_ms']['p50']:.0f} ms p99 {r['lag']['lag_ms']['p99']:.0f} ms;"
            f" burst {r['burst']['alerts_per_s']:.0f} alerts/s"
            for n, r in s["sizes"].items()]


def write_json(results: dict, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{stamp}.json"
    path.write_text(json.dumps(_no_nan(results), indent=2, ensure_ascii=False) + "\n")
    return path


def _ceiling(ceiling: float | None, share: float | None, per: float | None, what: str) -> str:
    if ceiling is None:
        return ""
    return (f"; at {per:.1f} {what} per complaint the tool's rate is ~{ceiling:.0f} complaints/s,"
            f" the platform reaches {_pct(share)} of that")


def _failures(r: dict) -> str:
    parts = [f"{n} x HTTP {status}" for status, n in r["rejected"].items()]
    if r["errors"]:
        at = ", ".join(f"+{t:g}s" for t in r["errors_at_s"][:5])
        parts.append(f"{r['errors']} transport errors, first: {r['first_error'] or '?'} at {at}")
    return f" ({', '.join(parts)})" if parts else ""


def _missing(r: dict) -> str:
    triage = (f"  ({r['in_triage']} in triage: routing was unsure, an operator assigns them)"
              if r.get("in_triage") else "")
    return triage + (f"  !! {r['missing']} e-mails never arrived" if r["missing"] else "")


def _div(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0 or math.isnan(a) or math.isnan(b):
        return None
    return round(a / b, 4)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _no_nan(value):
    """JSON has no NaN: unmeasured numbers become null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return value
