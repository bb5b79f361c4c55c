"""sla's read side on real PostgreSQL: `PgSlaQueries` answers what its in-memory twin answers
(the same rows, written to the tables) and what operators expect: open clocks most urgent
first with filters, counts and keyset paging through equal deadlines; alerts by scope; per-OPD
figures with PostgreSQL's own percentile_cont (median and p90 exact on known data); and the live
stream over a real HTTP server, polled (no wake-up) by the broadcaster: an alert inserted after
connecting arrives, Last-Event-ID resumes, and an OPD token never sees another OPD's alert."""

import asyncio
import json
import socket
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from backbone import problems
from backbone.db import apply_migrations, create_pool
from backbone.staff_auth import JwtSettings, JwtVerifier
from devstack import tokens
from devstack.tokens import SigningKey
from sla import watch_api
from sla.adapters.queries import InMemorySlaQueries, PgSlaQueries, Scope
from sla.calendar_registry import FixedCalendars
from tests.integration.helpers import eventually

pytestmark = pytest.mark.integration
KEY = SigningKey.generate()
J = "kota-bandung"
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)       # Monday 09:00 WIB
WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture
async def pool(infra, prefix):
    schema = prefix.replace(".", "") + "_queries"
    pool = await create_pool(infra.dsn, schema)
    await apply_migrations(pool, schema, "backbone", "sla")
    yield pool
    await pool.close()


async def copy(twin: InMemorySlaQueries, pool) -> PgSlaQueries:
    """The twin's rows, written to the real tables (alerts in id order, so ids match)."""
    for row in twin.clocks:
        names = list(row)
        await pool.execute(
            f"INSERT INTO clocks ({', '.join(names)}) VALUES "
            f"({', '.join(f'${i + 1}' for i in range(len(names)))})", *row.values())
    for a in sorted(twin.alerts, key=lambda a: a["id"]):
        assert await insert_alert(pool, a) == a["id"]
    for r in twin.received:
        await pool.execute("INSERT INTO received VALUES ($1, $2, $3, $4)", *r.values())
    for r in twin.rating_rows:
        await pool.execute("INSERT INTO ratings VALUES ($1, $2, $3, $4, $5)", *r.values())
    return PgSlaQueries(pool)


async def insert_alert(pool, a: dict) -> int:
    return await pool.fetchval(
        "INSERT INTO alerts (event_id, type, clock_id, complaint_id, tracking_number,"
        " jurisdiction, opd_id, kind, due_at, level, threshold, occurred_at, payload)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13::jsonb) RETURNING id",
        uuid.uuid4(), a["type"], a["clock_id"], a["complaint_id"], a["tracking_number"],
        a["jurisdiction"], a["opd_id"], a["kind"], a["due_at"], a.get("level"),
        a.get("threshold"), a["occurred_at"], json.dumps(a["payload"]))


def clock(twin, opd, hours, *, jurisdiction=J, kind="first_response", state="running",
          at_risk=False, breached=False, **more):
    return twin.add_clock(**{
        "tracking_number": f"T{len(twin.clocks):04d}", "jurisdiction": jurisdiction,
        "kind": kind, "opd_id": opd, "started_at": T0 - timedelta(days=1),
        "due_at": T0 + timedelta(hours=hours), "state": state,
        "at_risk_since": T0 if at_risk else None, "breached_at": T0 if breached else None,
        "policy_version": 3, "escalation_level": "opd_admin" if breached else None} | more
    )["clock_id"]


def alert_row(opd, type_="breach", jurisdiction=J, kind="first_response") -> dict:
    return {"type": type_, "clock_id": uuid.uuid4(), "complaint_id": uuid.uuid4(),
            "tracking_number": "42", "jurisdiction": jurisdiction, "opd_id": opd, "kind": kind,
            "due_at": T0, "occurred_at": T0, "level": "opd_head" if type_ == "escalation" else None,
            "threshold": "75%" if type_ == "warning" else None,
            "payload": {"opd_id": opd, "tracking_number": "42"}}


async def both(twin, pg, method, *args, **kwargs):
    """Ask both; they must agree."""
    mine = await getattr(twin, method)(*args, **kwargs)
    real = await getattr(pg, method)(*args, **kwargs)
    assert real == mine, method
    return real


async def test_open_clocks_filters_counts_and_status_agree_with_the_twin(pool):
    twin = InMemorySlaQueries()
    late = clock(twin, "dinas-pupr", -5, breached=True)
    risky = clock(twin, "dinas-pupr", 2, at_risk=True)
    both_marks = clock(twin, "dinas-pupr", 3, at_risk=True, breached=True)
    calm = clock(twin, "dinas-pupr", 50, kind="resolution", state="paused")
    clock(twin, "dinas-pupr", 1, state="stopped", outcome="met")
    clock(twin, "dinas-pupr", 1, state="superseded")
    dlh = clock(twin, "dlh", 1)
    far = clock(twin, "dinas-x", 4, jurisdiction="kota-makassar")
    pg = await copy(twin, pool)

    async def listing(**scope):
        items, cursor = await both(twin, pg, "open_clocks", Scope(**scope), 50)
        assert cursor is None
        return [i["clock_id"] for i in items]

    assert await listing() == [late, dlh, risky, both_marks, far, calm]
    assert await listing(jurisdiction=J, opd_id="dinas-pupr") == [late, risky, both_marks, calm]
    assert await listing(status="breached") == [late, both_marks]
    assert await listing(status="at_risk") == [risky]
    assert await listing(status="on_track", jurisdiction=J) == [dlh, calm]
    assert await listing(kind="resolution") == [calm]
    assert await listing(tracking_number="T0001") == [risky]
    assert await listing(due_after=T0 + timedelta(hours=2), due_before=T0 + timedelta(hours=4)) \
        == [risky, both_marks]           # after inclusive, before exclusive
    assert await both(twin, pg, "counts", Scope(jurisdiction=J, status="breached")) == \
        {"on_track": 2, "at_risk": 1, "breached": 2}
    [first], _ = await pg.open_clocks(Scope(), 1)
    assert first == {
        "clock_id": late, "complaint_id": twin.clocks[0]["complaint_id"],
        "tracking_number": "T0000", "jurisdiction": J, "kind": "first_response",
        "opd_id": "dinas-pupr", "started_at": T0 - timedelta(days=1),
        "due_at": T0 - timedelta(hours=5), "state": "running", "at_risk_since": None,
        "breached_at": T0, "escalation_level": "opd_admin", "working_days": 5,
        "policy_version": 3, "status": "breached"}


async def test_keyset_paging_through_equal_deadlines_sees_each_clock_once(pool):
    twin = InMemorySlaQueries()
    made = [clock(twin, "dinas-pupr", h) for h in (5, 1, 1, 1, 3, 1, 8, 1, 1)]
    clock(twin, "dinas-pupr", 1, state="stopped", outcome="met")
    pg = await copy(twin, pool)
    seen, cursor = [], None
    for _ in range(10):
        items, cursor = await both(twin, pg, "open_clocks", Scope(opd_id="dinas-pupr"), 2, cursor)
        seen += [i["clock_id"] for i in items]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made) and len(seen) == len(made)
    assert [twin.clocks[made.index(c)]["due_at"] for c in seen] == \
        sorted(twin.clocks[i]["due_at"] for i in range(len(made)))
    # a clock that breaches between pages moves no one: the cursor is a (due, id) position
    items, cursor = await pg.open_clocks(Scope(), 4)
    await pool.execute("UPDATE clocks SET breached_at = now() WHERE clock_id = $1", items[0]["clock_id"])
    rest, _ = await pg.open_clocks(Scope(), 50, cursor)
    assert [i["clock_id"] for i in items + rest] == seen


async def test_alerts_after_an_id_by_scope_and_type(pool):
    twin = InMemorySlaQueries()
    for opd, type_, jurisdiction in (("dinas-pupr", "warning", J), ("dlh", "breach", J),
                                     ("dinas-pupr", "breach", J), (None, "escalation", J),
                                     ("dinas-x", "breach", "kota-makassar")):
        twin.add_alert(**alert_row(opd, type_, jurisdiction))
    pg = await copy(twin, pool)
    assert await both(twin, pg, "newest_alert_id") == 5
    rows = await both(twin, pg, "alerts_after", 0, Scope())
    assert [r["id"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["payload"] == {"opd_id": "dinas-pupr", "tracking_number": "42"}
    assert rows[0]["threshold"] == "75%" and rows[3]["level"] == "opd_head"
    assert [r["id"] for r in await both(twin, pg, "alerts_after", 1, Scope(opd_id="dinas-pupr"))] == [3]
    assert [r["id"] for r in await both(twin, pg, "alerts_after", 0, Scope(jurisdiction=J),
                                        type_="breach")] == [2, 3]
    assert [r["id"] for r in await both(twin, pg, "alerts_after", 0, Scope(), limit=2)] == [1, 2]
    assert [r["id"] for r in await both(twin, pg, "alerts_after", 0, Scope(jurisdiction=J), limit=2,
                                        newest_first=True)] == [4, 3]


async def test_per_opd_figures_on_known_data(pool):
    twin = InMemorySlaQueries()
    start = T0 - timedelta(hours=1)
    for hours, outcome in ((1, "met"), (3, "met"), (8, "met"), (10, "late"), (30, "late")):
        clock(twin, "dinas-pupr", 0, state="stopped", outcome=outcome,
              working_seconds_used=hours * 3600.0, started_at=start)
    clock(twin, "dinas-pupr", 0, state="stopped", outcome="withdrawn",
          working_seconds_used=60.0, started_at=start)
    clock(twin, "dinas-pupr", -1, breached=True, started_at=start)
    clock(twin, "dinas-pupr", -1, breached=True, kind="resolution")
    clock(twin, "dinas-pupr", -1, breached=True, kind="verification")
    clock(twin, "dinas-pupr", 0, state="stopped", outcome="met", working_seconds_used=3600.0,
          started_at=datetime(2026, 10, 31, 16, 59, tzinfo=timezone.utc))
    clock(twin, "dlh", 0, state="stopped", outcome="late", working_seconds_used=7200.0,
          started_at=start)
    clock(twin, "dlh", 0, state="stopped", outcome="met", working_seconds_used=1800.0,
          started_at=start)
    for at in (datetime(2026, 10, 31, 17, 0, tzinfo=timezone.utc), T0, T0, T0 + timedelta(days=5),
               datetime(2026, 10, 31, 16, 59, tzinfo=timezone.utc),
               datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc)):
        twin.add_received(uuid.uuid4(), "dinas-pupr", J, at)
    twin.add_received(uuid.uuid4(), "dinas-x", "kota-makassar", T0)
    for rating, at in ((5, T0), (4, T0), (2, T0 + timedelta(days=3)), (1, T0 - timedelta(days=40))):
        twin.add_rating(uuid.uuid4(), "dinas-pupr", J, rating, at)
    twin.add_rating(uuid.uuid4(), None, J, 1, T0)        # a complaint closed before any OPD
    pg = await copy(twin, pool)
    period = (J, datetime(2026, 11, 1, tzinfo=WIB), datetime(2026, 12, 1, tzinfo=WIB))
    rows = await both(twin, pg, "figures", *period)
    assert rows == [
        {"opd_id": "dinas-pupr", "received": 4, "first_response_median_hours": 8.0,
         "first_response_p90_hours": 22.0, "answered": 5, "answered_on_time": 3,
         "on_time_share": 0.5, "open_breaches": 2, "rating_average": 3.67, "ratings": 3},
        {"opd_id": "dlh", "received": 0, "first_response_median_hours": 1.25,
         "first_response_p90_hours": 1.85, "answered": 2, "answered_on_time": 1,
         "on_time_share": 0.5, "open_breaches": 0, "rating_average": None, "ratings": 0}]
    assert await both(twin, pg, "figures", *period, opd_id="dlh") == rows[1:]
    assert await both(twin, pg, "figures", "kota-makassar", *period[1:]) == [
        {"opd_id": "dinas-x", "received": 1, "first_response_median_hours": None,
         "first_response_p90_hours": None, "answered": 0, "answered_on_time": 0,
         "on_time_share": None, "open_breaches": 0, "rating_average": None, "ratings": 0}]


# ---------------------------------------------------------------------------------- the stream


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_the_stream_polls_resumes_and_keeps_to_its_opd(pool):
    app = FastAPI()
    app.include_router(watch_api.router)
    problems.install(app)
    app.state.sla_queries = PgSlaQueries(pool)
    app.state.calendars = FixedCalendars()
    app.state.staff_tokens = JwtVerifier(JwtSettings(
        public_key=KEY.public_pem, audience=tokens.AUDIENCE, issuer=tokens.ISSUER))
    broadcaster = app.state.alert_broadcaster = watch_api.AlertBroadcaster(poll_interval=0.1)
    await insert_alert(pool, alert_row("dinas-pupr"))          # before: not live
    broadcaster.start(app.state.sla_queries)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    token = KEY.mint("opd", opd="dinas-pupr")
    seen: list[dict] = []

    async def listen(headers=None):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            async with c.stream("GET", "/v1/alerts/stream", headers=headers or {},
                                params={"access_token": token}) as answer:
                assert answer.status_code == 200
                assert answer.headers["content-type"].startswith("text/event-stream")
                event: dict = {}
                async for line in answer.aiter_lines():
                    if line and not line.startswith(":"):
                        name, _, value = line.partition(":")
                        event[name] = value.strip()
                    elif not line and event.get("data"):
                        seen.append(event)
                        event = {}

    try:
        await eventually(lambda: asyncio.sleep(0, server.started), "server up", timeout=10)
        reader = asyncio.create_task(listen())
        await eventually(lambda: asyncio.sleep(0, broadcaster.clients == 1 or reader.done()),
                         "subscribed", timeout=10)
        other = await insert_alert(pool, alert_row("dlh"))           # never shown
        mine = await insert_alert(pool, alert_row("dinas-pupr", "escalation"))
        await eventually(lambda: asyncio.sleep(0, len(seen) >= 1 or reader.done()),
                         "the alert arrives by polling", timeout=10)
        assert [(e["id"], e["event"]) for e in seen] == [(str(mine), "escalation")]
        data = json.loads(seen[0]["data"])
        assert (data["opd_id"], data["level"], data["id"]) == ("dinas-pupr", "opd_head", mine)
        reader.cancel()
        await eventually(lambda: asyncio.sleep(0, broadcaster.clients == 0), "cleaned up", timeout=10)

        missed = [await insert_alert(pool, alert_row(opd, "warning"))
                  for opd in ("dinas-pupr", "dlh", "dinas-pupr")]        # while away
        seen.clear()
        resumed = asyncio.create_task(listen(headers={"last-event-id": str(mine)}))
        await eventually(lambda: asyncio.sleep(0, len(seen) >= 2 or resumed.done()),
                         "missed alerts replayed", timeout=10)
        later = await insert_alert(pool, alert_row("dinas-pupr", "breach"))
        await eventually(lambda: asyncio.sleep(0, len(seen) >= 3 or resumed.done()),
                         "then live again", timeout=10)
        resumed.cancel()
        assert [int(e["id"]) for e in seen] == [missed[0], missed[2], later]
        assert other not in [int(e["id"]) for e in seen]
    finally:
        server.should_exit = True
        await serving
        await broadcaster.stop()
