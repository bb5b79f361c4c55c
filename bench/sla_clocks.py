"""SLA clocks at scale: database size, the claim of due clocks, and deadline-to-alert lag.

    .venv/bin/python -m bench.sla_clocks [--sizes 100000,1000000] [--due 5000] [--claim-runs 200]

Why: sla keeps one row per open deadline and a loop that claims due rows every quarter second
(`FOR UPDATE SKIP LOCKED`, batches of 500). What a city with a backlog needs to know is whether
that stays cheap with a million open clocks, and how late an alert comes after its deadline.

For each size N, in a fresh schema with sla's migrations:

  load    N open clocks bulk-loaded with COPY: complaints in each stage of their life (waiting
          for verification; disposed, with the OPD's first-response clock and the citizen's
          resolution clock; followed up, resolution paused and auto-close running; closed, with
          a reopen window), over 12 jurisdictions (the three shipped calendars and the national
          one), 12 OPDs and the taxonomy's subcategories; terms from the shipped policies; each
          clock's state (deadline, warnings sent, breach, escalation step, next_fire_at) is what
          the real domain (`Clock.fire` on the real calendars) says at load time, for a start
          rounded to 3 hours (the rows' `started_at` keep their own minute). Then VACUUM ANALYZE.
  size    pg_total_relation_size of clocks (heap + indexes) and alerts, pg_database_size.
  claim   `PgClockStore.claim_due(now, 500)`, the loop's own call (query + rows to Clock), many
          times, each in a transaction rolled back so the set stays the same: once with a
          backlog (1% of N due), once idle (none due: most polls). EXPLAIN shows the plan; it must
          use the `clocks_fire` index.
  lag     --due clocks get a plan without warnings or escalation and deadlines spread over the
          next 10 s of real time; the real FiringLoop runs (real time, default batch and poll)
          until all breached: lag = alerts.occurred_at - due_at (p50/p90/p99/max), plus when a
          poller (every 50 ms) saw each alert committed. Then --due more fall due at one instant:
          how fast the loop drains a burst (alerts/s).

Standalone it starts its own embedded PostgreSQL (as the devstack does) under var/, removed
at the end; from `python -m bench` it uses the bench stack's server. Either way it works in its
own database `bench_sla`, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import gc
import itertools
import json
import random
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import asyncpg

from backbone.db import apply_migrations, create_pool
from bench.stats import rate, spread_ms
from contracts.taxonomy import load as load_taxonomy
from devstack.kafka import REPO_ROOT
from devstack.postgres import EmbeddedPostgres, create_database
from devstack.stack import free_port
from sla.adapters.clocks import PgClockStore, PlanIds, SlaPgUnitOfWork
from sla.calendar_registry import FixedCalendars
from sla.domain.calendar import WorkingCalendar
from sla.domain.clock import ALERTING, Clock
from sla.domain.policy import KINDS, Plan, Selected, select
from sla.firing import FiringLoop
from sla.policy_registry import FixedPolicies

DATABASE = "bench_sla"
BATCH = 500                 # the loop's default batch
CHUNK = 20_000              # rows generated and copied at a time
SLOT = timedelta(hours=3)   # start instants are rounded to this for the domain computation
SPREAD_S = 10.0
JURISDICTIONS = (  # (id, weight): the shipped calendars, and others on the national one
    ("kota-bandung", 4), ("kota-makassar", 3), ("kota-jayapura", 2), ("kab-bandung", 2),
    ("kota-surabaya", 3), ("kota-medan", 2), ("kab-sleman", 1), ("kota-denpasar", 1),
    ("kota-mataram", 1), ("kota-kupang", 1), ("kota-ambon", 1), ("kab-sorong", 1))
OPDS = ("dinas-pupr", "dlh", "disdukcapil", "dishub", "dinkes", "disdik", "dinsos", "satpol-pp",
        "pdam", "bkpsdm", "dpmptsp", "kecamatan")
REPORT_TYPES = (("pengaduan", 80), ("aspirasi", 12), ("permintaan_informasi", 8))
# Stages of an open complaint (which clocks it has open), weighted
STAGES = (("submitted", 20), ("disposed", 45), ("followed_up", 20), ("closed", 15))
COPY_COLUMNS = (
    "clock_id", "complaint_id", "tracking_number", "jurisdiction", "kind", "opd_id", "category",
    "report_type", "policy_version", "plan_id", "working_days", "timezone", "started_at",
    "due_at", "budget_seconds", "segment_started_at", "used_seconds", "remaining_seconds",
    "state", "paused_at", "outcome", "stopped_at", "working_seconds_used", "warnings_sent",
    "at_risk_since", "breached_at", "escalation_step", "escalation_level", "next_fire_at",
    "updated_at")


def say(text: str = "") -> None:
    print(text, flush=True)


# ---------------------------------------------------------------- generating clocks


@dataclass
class Sim:
    """A clock's state at load time, as the domain computes it (shared by similar clocks)."""
    due_at: datetime
    budget: float
    warnings_sent: list[str]
    at_risk_since: datetime | None
    breached_at: datetime | None
    escalation_step: int
    escalation_level: str | None
    next_fire_at: datetime | None
    open: bool


class Generator:
    """Open clocks, realistic enough for sizes and plans; deterministic for a seed."""

    def __init__(self, now: datetime, plan_ids: dict[str, int], seed: int = 9) -> None:
        self.now = now
        self.rng = random.Random(seed)
        self.plan_ids = plan_ids
        self.policies = FixedPolicies()
        self.calendars = FixedCalendars()
        self.categories = [s.code for s in load_taxonomy().subcategories()]
        self._terms: dict[tuple, tuple[Selected, str, int]] = {}
        self._weights: dict[int, tuple[list, list]] = {}
        self._sims: dict[tuple, Sim] = {}
        self._calendar: dict[str, WorkingCalendar] = {}
        self.seq = 0
        self.alerting_running: list[uuid.UUID] = []   # candidates for the lag phase

    async def prepare(self) -> None:
        for jurisdiction, _ in JURISDICTIONS:
            self._calendar[jurisdiction] = await self.calendars.calendar(jurisdiction)

    def _choice(self, weighted):
        values, cumulative = self._weights.get(id(weighted)) or self._weigh(weighted)
        return values[bisect.bisect(cumulative, self.rng.random() * cumulative[-1])]

    def _weigh(self, weighted):
        found = self._weights[id(weighted)] = ([v for v, _ in weighted],
                                               list(itertools.accumulate(w for _, w in weighted)))
        return found

    def terms(self, jurisdiction, kind, category, report_type) -> tuple[Selected, str, int]:
        """The shipped policies' terms, with the plan's key and id (cached: few distinct)."""
        key = (jurisdiction, kind, category, report_type)
        found = self._terms.get(key)
        if found is None:
            spec, version = self.policies.effective(jurisdiction)
            selected = select(spec, version, kind, category=category, report_type=report_type)
            plan_key = PlanIds.key(selected.plan)
            found = self._terms[key] = (selected, plan_key, self.plan_ids[plan_key])
        return found

    def plan_id(self, plan: Plan) -> int:
        return self.plan_ids[PlanIds.key(plan)]

    def sim(self, jurisdiction: str, kind: str, terms: Selected, plan_key: str,
            slot_start: datetime) -> Sim:
        calendar = self._calendar[jurisdiction]
        key = (calendar.jurisdiction, calendar.timezone, kind, terms.working_days, plan_key,
               slot_start)
        found = self._sims.get(key)
        if found is None:
            due = calendar.deadline(slot_start, terms.working_days)
            clock = Clock(
                clock_id=uuid.uuid4(), complaint_id=uuid.uuid4(), tracking_number="-",
                jurisdiction=jurisdiction, kind=kind, opd_id=None, category=None, report_type=None,
                policy_version=terms.version, plan=terms.plan, working_days=terms.working_days,
                timezone=calendar.timezone, started_at=slot_start, due_at=due,
                budget_seconds=calendar.working_seconds(slot_start, due),
                segment_started_at=slot_start)
            clock.fire(self.now, calendar)
            found = self._sims[key] = Sim(
                clock.due_at, clock.budget_seconds, clock.warnings_sent, clock.at_risk_since,
                clock.breached_at, clock.escalation_step, clock.escalation_level,
                clock.next_fire_at, clock.open)
        return found

    def _age(self, working_days: int, share: float) -> timedelta:
        """How long ago a clock started: up to `share` x its working days in calendar days
        (x1.4 for weekends) ago. Below 1/1.4 nothing is due yet; above, some breached."""
        return timedelta(hours=self.rng.uniform(0, max(working_days, 1) * 24 * 1.4 * share))

    def clock(self, complaint: tuple, kind: str, age: timedelta, *,
              paused_at: datetime | None = None) -> tuple:
        complaint_id, tracking, jurisdiction, opd, category, report_type = complaint
        terms, plan_key, plan_id = self.terms(jurisdiction, kind, category, report_type)
        started = self.now - age
        slot_start = self.now - SLOT * (age // SLOT)
        sim = self.sim(jurisdiction, kind, terms, plan_key, slot_start)
        if not sim.open:       # a quiet clock that already ended: a younger one
            return self.clock(complaint, kind, age / 3, paused_at=paused_at)
        calendar = self._calendar[jurisdiction]
        clock_id = uuid.uuid4()
        state, used, remaining, next_fire = "running", 0.0, None, sim.next_fire_at
        warnings, at_risk, breached, step, level = (sim.warnings_sent, sim.at_risk_since,
                                                    sim.breached_at, sim.escalation_step,
                                                    sim.escalation_level)
        if paused_at is not None:       # waiting for the citizen since the follow-up
            share = min(max((paused_at - started) / (sim.due_at - started), 0.0), 0.95)
            used, remaining = sim.budget * share, sim.budget * (1 - share)
            state, next_fire = "paused", None
            warnings, at_risk, breached, step, level = [], None, None, 0, None
        elif kind in ALERTING and breached is None and len(self.alerting_running) < 200_000:
            self.alerting_running.append(clock_id)
        return (clock_id, complaint_id, tracking, jurisdiction, kind,
                None if kind == "verification" else opd, category, report_type, terms.version,
                plan_id, terms.working_days, calendar.timezone, started,
                sim.due_at, sim.budget, started, used, remaining, state, paused_at, None, None,
                None, warnings, at_risk, breached, step, level, next_fire, self.now)

    def complaint_clocks(self) -> list[tuple]:
        self.seq += 1
        jurisdiction = self._choice(JURISDICTIONS)
        complaint = (uuid.uuid4(), f"LPR-{2600000 + self.seq:09d}", jurisdiction,
                     self.rng.choice(OPDS), self.rng.choice(self.categories),
                     self._choice(REPORT_TYPES))
        stage = self._choice(STAGES)
        if stage == "submitted":
            return [self.clock(complaint, "verification", self._age(3, 1.3))]
        if stage == "disposed":
            first = self.terms(jurisdiction, "first_response", complaint[4], complaint[5])[0]
            age = self._age(first.working_days, 1.4)
            return [self.clock(complaint, "first_response", age),
                    self.clock(complaint, "resolution", age)]
        if stage == "followed_up":
            since = self._age(10, 0.6)                      # the follow-up, auto-close runs
            resolution_age = since + self._age(5, 0.5)      # disposed a few days before
            return [self.clock(complaint, "resolution", resolution_age,
                               paused_at=self.now - since),
                    self.clock(complaint, "auto_close", since)]
        return [self.clock(complaint, "reopen_window", self._age(10, 0.6))]

    def rows(self, n: int) -> list[tuple]:
        out: list[tuple] = []
        while len(out) < n:
            out.extend(self.complaint_clocks())
        return out[:n]


def distinct_plans(policies: FixedPolicies, categories: list[str]) -> list[Plan]:
    """Every plan the shipped policies can give these clocks, and the empty one (lag phase)."""
    plans = {PlanIds.key(Plan()): Plan()}
    for jurisdiction, _ in JURISDICTIONS:
        spec, version = policies.effective(jurisdiction)
        for kind in KINDS:
            for category in categories:
                for report_type, _ in REPORT_TYPES:
                    plan = select(spec, version, kind, category=category, report_type=report_type).plan
                    plans.setdefault(PlanIds.key(plan), plan)
    return list(plans.values())


# ---------------------------------------------------------------- phases


async def admin(dsn: str, schema: str) -> asyncpg.Connection:
    """The bench's own connection: no statement timeout (VACUUM, COPY of a chunk)."""
    return await asyncpg.connect(dsn, server_settings={"search_path": schema,
                                                       "statement_timeout": "0"})


async def load(conn: asyncpg.Connection, n: int, now: datetime) -> tuple[Generator, dict]:
    policies = FixedPolicies()
    categories = [s.code for s in load_taxonomy().subcategories()]
    plan_ids = {}
    for plan in distinct_plans(policies, categories):
        key = PlanIds.key(plan)
        plan_ids[key] = await conn.fetchval(
            "INSERT INTO clock_plans (plan) VALUES ($1::jsonb) RETURNING plan_id", key)
    gen = Generator(now, plan_ids)
    await gen.prepare()
    started = time.perf_counter()
    generating = 0.0

    async def generate(k: int) -> list[tuple]:   # in a thread: overlaps the server's COPY work
        nonlocal generating
        t = time.perf_counter()
        rows = await asyncio.to_thread(gen.rows, k)
        generating += time.perf_counter() - t
        return rows

    done = 0
    task = asyncio.create_task(generate(min(CHUNK, n)))
    while done < n:
        rows = await task
        done += len(rows)
        if done < n:
            task = asyncio.create_task(generate(min(CHUNK, n - done)))
        await conn.copy_records_to_table("clocks", records=rows, columns=COPY_COLUMNS)
    loaded = time.perf_counter() - started
    t = time.perf_counter()
    await conn.execute("VACUUM ANALYZE clocks")
    await conn.execute("VACUUM ANALYZE clock_plans")
    vacuum = time.perf_counter() - t
    counts = {r["k"]: r["n"] for r in await conn.fetch(
        "SELECT kind || '/' || state AS k, count(*) AS n FROM clocks GROUP BY 1 ORDER BY 1")}
    return gen, {"load_s": round(loaded, 1), "generate_s": round(generating, 1),
                 "rows_per_s": rate(n, loaded), "vacuum_analyze_s": round(vacuum, 1),
                 "plans": len(plan_ids), "domain_states_computed": len(gen._sims),
                 "clocks_by_kind_state": counts,
                 "breached_open": await conn.fetchval(
                     "SELECT count(*) FROM clocks WHERE breached_at IS NOT NULL"),
                 "with_next_fire": await conn.fetchval(
                     "SELECT count(*) FROM clocks WHERE next_fire_at IS NOT NULL"),
                 # Deadlines end at 23:59:59 local and warnings wait for the morning's alert
                 # window, so many clocks fall due at the very same instant: the largest herds.
                 "largest_same_instant": [
                     {"at": r["at"].isoformat(), "clocks": r["n"]} for r in await conn.fetch(
                         "SELECT next_fire_at AS at, count(*) AS n FROM clocks"
                         " WHERE next_fire_at IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 3")]}


async def sizes(conn: asyncpg.Connection, n: int) -> dict:
    row = await conn.fetchrow(
        "SELECT pg_total_relation_size('clocks') AS clocks_total,"
        " pg_relation_size('clocks') AS clocks_heap, pg_indexes_size('clocks') AS clocks_indexes,"
        " pg_total_relation_size('alerts') AS alerts_total,"
        " pg_total_relation_size('clock_plans') AS plans_total,"
        " pg_database_size(current_database()) AS database")
    out = {k: int(v) for k, v in row.items()}
    out["indexes"] = {r["name"]: int(r["size"]) for r in await conn.fetch(
        "SELECT indexrelid::regclass::text AS name, pg_relation_size(indexrelid) AS size"
        " FROM pg_index WHERE indrelid = 'clocks'::regclass ORDER BY 2 DESC")}
    out["bytes_per_clock"] = round(out["clocks_total"] / n, 1)
    return out


async def claim(conn: asyncpg.Connection, n: int, runs: int) -> dict:
    """The loop's claim, timed; `now` is put just after the k-th next_fire_at so exactly k are due."""
    store = PgClockStore(conn, PlanIds())
    out: dict = {}
    for label, due in (("backlog", max(n // 100, BATCH)), ("idle", 0)):
        # backlog: 1% of the clocks due (after an outage; many share an instant anyway);
        # idle: none due, what most quarter-second polls cost
        at = await conn.fetchval(
            "SELECT next_fire_at FROM clocks WHERE next_fire_at IS NOT NULL"
            " ORDER BY next_fire_at OFFSET $1 LIMIT 1", max(due - 1, 0))
        if due == 0:
            at -= timedelta(microseconds=1)
        times, query_times, claimed = [], [], 0
        for _ in range(runs):
            tx = conn.transaction()
            await tx.start()
            t = time.perf_counter()
            got = await store.claim_due(at, BATCH)
            times.append(time.perf_counter() - t)
            await tx.rollback()
            claimed = len(got)
        sql, plan = await explain(conn, store, at)
        for _ in range(runs):   # the statement alone, rows not turned into Clocks
            tx = conn.transaction()
            await tx.start()
            t = time.perf_counter()
            await conn.fetch(sql, at, BATCH)
            query_times.append(time.perf_counter() - t)
            await tx.rollback()
        out[label] = {"due": due, "claimed": claimed, "runs": runs, "ms": spread_ms(times),
                      "query_only_ms": spread_ms(query_times),
                      "uses_clocks_fire": any("clocks_fire" in line for line in plan),
                      "explain": plan}
    out["uses_clocks_fire"] = out["backlog"]["uses_clocks_fire"]
    return out


async def explain(conn: asyncpg.Connection, store: PgClockStore,
                  at: datetime) -> tuple[str, list[str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the exact statement claim_due sends (caught by a logger)."""
    seen: list[str] = []

    def logged(record) -> None:
        seen.append(record.query)

    conn.add_query_logger(logged)
    tx = conn.transaction()
    await tx.start()
    try:
        await store.claim_due(at, BATCH)
        await asyncio.sleep(0.01)   # loggers are called soon after, not during
        sql = next(q for q in seen if "SKIP LOCKED" in q)
        plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", at, BATCH)
    finally:
        await tx.rollback()
        conn.remove_query_logger(logged)
    return sql, [r[0] for r in plan]


async def lag(pool: asyncpg.Pool, conn: asyncpg.Connection, schema: str, ids: list[uuid.UUID],
              empty_plan: int, spread: float) -> dict:
    """`ids` fall due over `spread` s from a little while ahead; the real loop fires them."""
    lead = 5.0   # the UPDATE must be done before the first deadline (it reports its margin)
    t0 = datetime.now(timezone.utc) + timedelta(seconds=lead)
    step = spread / max(len(ids) - 1, 1)
    await conn.execute(
        "UPDATE clocks c SET plan_id = $2, state = 'running', breached_at = NULL,"
        " warnings_sent = '{}', at_risk_since = NULL, escalation_step = 0,"
        " escalation_level = NULL, due_at = $3::timestamptz + (u.ord - 1) * $4::float8 * interval '1 second',"
        " next_fire_at = $3::timestamptz + (u.ord - 1) * $4::float8 * interval '1 second'"
        " FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, ord) WHERE c.clock_id = u.id",
        ids, empty_plan, t0, step)
    margin = (t0 - datetime.now(timezone.utc)).total_seconds()
    wanted = set(ids)
    loop = FiringLoop("sla", lambda: SlaPgUnitOfWork(pool, "/sla", "bench.", schema),
                      FixedCalendars(), lambda: datetime.now(timezone.utc))
    last_id = await conn.fetchval("SELECT coalesce(max(id), 0) FROM alerts")
    seen_at: dict[uuid.UUID, datetime] = {}
    other = 0
    loop.start()
    deadline = time.monotonic() + lead + spread + 120
    try:
        while len(seen_at) < len(wanted) and time.monotonic() < deadline:
            rows = await conn.fetch("SELECT id, clock_id, type FROM alerts WHERE id > $1 ORDER BY id",
                                    last_id)
            now = datetime.now(timezone.utc)
            for r in rows:
                last_id = r["id"]
                if r["clock_id"] in wanted and r["type"] == "breach":
                    seen_at[r["clock_id"]] = now
                else:
                    other += 1
            await asyncio.sleep(0.05)
    finally:
        await loop.stop()
    rows = await conn.fetch(
        "SELECT clock_id, occurred_at, due_at FROM alerts WHERE type = 'breach'"
        " AND clock_id = ANY($1::uuid[])", ids)
    lags = [(r["occurred_at"] - r["due_at"]).total_seconds() for r in rows]
    visible = [(seen_at[r["clock_id"]] - r["due_at"]).total_seconds() for r in rows
               if r["clock_id"] in seen_at]
    first_due = min((r["due_at"] for r in rows), default=t0)
    last = max((r["occurred_at"] for r in rows), default=t0)
    window = (last - first_due).total_seconds()
    return {"clocks": len(ids), "spread_s": spread, "breached": len(rows),
            "missing": len(ids) - len(rows), "early": sum(x < 0 for x in lags),
            "update_margin_s": round(margin, 2),
            "lag_ms": spread_ms(lags), "visible_lag_ms": spread_ms(visible),
            "alerts_per_s": rate(len(rows), window), "window_s": round(window, 2),
            "other_alerts": other}


async def one_size(dsn: str, n: int, due: int, runs: int, report: Callable[[str], None]) -> dict:
    schema = f"sla_bench_{n}"
    conn = await admin(dsn, schema)
    await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    pool = await create_pool(dsn, schema)
    try:
        await apply_migrations(pool, schema, "backbone", "sla")
        now = datetime.now(timezone.utc)
        gen, loaded = await load(conn, n, now)
        report(f"  loaded {n:,} clocks in {loaded['load_s']}s ({loaded['rows_per_s']:,.0f}/s,"
               f" {loaded['generate_s']}s generating, overlapped);"
               f" VACUUM ANALYZE {loaded['vacuum_analyze_s']}s")
        out: dict = {"clocks": n, "load": loaded, "size": await sizes(conn, n)}
        gc.collect()
        gc.freeze()   # the generator's objects are the bench's, not the service's: never scanned
        out["claim"] = await claim(conn, n, runs)
        report(f"  claim p50 {out['claim']['backlog']['ms']['p50']} ms"
               f" p99 {out['claim']['backlog']['ms']['p99']} ms (backlog);"
               f" query alone p50 {out['claim']['backlog']['query_only_ms']['p50']} ms;"
               f" uses clocks_fire: {out['claim']['uses_clocks_fire']}")
        chosen = random.Random(n).sample(gen.alerting_running, min(2 * due, len(gen.alerting_running)))
        empty = gen.plan_id(Plan())
        half = len(chosen) // 2
        out["lag"] = await lag(pool, conn, schema, chosen[:half], empty, SPREAD_S)
        report(f"  lag p50 {out['lag']['lag_ms']['p50']} ms p99 {out['lag']['lag_ms']['p99']} ms"
               f" ({out['lag']['breached']}/{out['lag']['clocks']} breached)")
        out["burst"] = await lag(pool, conn, schema, chosen[half:], empty, 0.0)
        report(f"  burst of {out['burst']['clocks']}: {out['burst']['alerts_per_s']} alerts/s")
        out["size_after"] = await sizes(conn, n)
        return out
    finally:
        gc.unfreeze()
        await pool.close()
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


async def run_all(server_dsn: str, sizes_: list[int], due: int, runs: int,
                  report: Callable[[str], None]) -> dict:
    dsn = create_database(server_dsn, DATABASE)
    try:
        results: dict = {"due": due, "batch": BATCH, "spread_s": SPREAD_S, "sizes": {}}
        for n in sizes_:
            report(f"sla clocks: {n:,} open clocks")
            results["sizes"][str(n)] = await one_size(dsn, n, due, runs, report)
        return results
    finally:
        conn = await asyncpg.connect(server_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        finally:
            await conn.close()


def run(sizes_: list[int], due: int = 5000, *, dsn: str | None = None, runs: int = 200,
        report: Callable[[str], None] = say) -> dict:
    """The phase: on `dsn`'s server, or on a private embedded PostgreSQL when None."""
    if dsn is not None:
        results = asyncio.run(run_all(dsn, sizes_, due, runs, report))
        print_table(results, report)
        return results
    home = REPO_ROOT / "var" / f"bench-sla-{uuid.uuid4().hex[:6]}"
    pg = EmbeddedPostgres(home / "pg", free_port())
    try:
        started = time.monotonic()
        server = pg.start()
        report(f"PostgreSQL up in {time.monotonic() - started:.1f}s under {home}")
        results = asyncio.run(run_all(server, sizes_, due, runs, report))
    finally:
        pg.stop()
        if pg.relocated:
            shutil.rmtree(pg.home, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
    print_table(results, report)
    return results


def mib(b: int) -> str:
    return f"{b / 2**20:,.0f} MiB"


def print_table(results: dict, report: Callable[[str], None] = say) -> None:
    report(f"\n== sla clocks (claim batch {results['batch']}; lag: {results['due']} deadlines over"
           f" {results['spread_s']:g}s, real FiringLoop) ==")
    report(f"{'open clocks':>12} {'clocks':>9} {'B/clock':>8} {'database':>9}"
           f" {'claim p50':>9} {'p99':>6} {'idle p99':>8} {'index':>5}"
           f" {'lag p50':>8} {'p99':>6} {'max':>6} {'seen p99':>8} {'burst/s':>8}")
    for n, r in results["sizes"].items():
        s, c, lg = r["size"], r["claim"], r["lag"]
        report(f"{int(n):>12,} {mib(s['clocks_total']):>9} {s['bytes_per_clock']:>8.0f}"
               f" {mib(s['database']):>9} {c['backlog']['ms']['p50']:>7.1f}ms"
               f" {c['backlog']['ms']['p99']:>6.1f} {c['idle']['ms']['p99']:>8.1f}"
               f" {'yes' if c['uses_clocks_fire'] else 'NO':>5}"
               f" {lg['lag_ms']['p50']:>6.0f}ms {lg['lag_ms']['p99']:>6.0f} {lg['lag_ms']['max']:>6.0f}"
               f" {lg['visible_lag_ms']['p99']:>8.0f} {r['burst']['alerts_per_s']:>8.0f}")


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.sla_clocks", description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="100000,1000000", help="open clocks, comma separated")
    p.add_argument("--due", type=int, default=5000, help="clocks falling due in the lag phase")
    p.add_argument("--claim-runs", type=int, default=200, help="timed claims per scenario")
    p.add_argument("--json", help="also write the results to this file")
    args = p.parse_args()
    results = run([int(x) for x in args.sizes.split(",") if x.strip()], args.due,
                  runs=args.claim_runs)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2, default=str)


if __name__ == "__main__":
    main()
