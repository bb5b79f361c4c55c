"""What operators and OPD staff watch, on real PostgreSQL: open clocks by urgency with scoping,
filters, counts and paging; per-OPD figures with exact medians; and the live alert stream over
a real HTTP server (an alert fired after connecting arrives, Last-Event-ID resumes, an OPD never
sees another OPD's alert)."""

import asyncio
import csv
import io
import json
import socket
import uuid
from datetime import datetime, timedelta, timezone

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
from sla.adapters.queries import PgSlaQueries
from sla.calendar_registry import FixedCalendars
from tests.integration.helpers import eventually

pytestmark = pytest.mark.integration
KEY = SigningKey.generate()
J = "kota-bandung"
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)       # Monday 09:00 WIB


def bearer(role="operator", **claims):
    return {"authorization": "Bearer " + KEY.mint(role, **claims)}


@pytest.fixture
async def app(infra, prefix):
    schema = prefix.replace(".", "") + "_watch"
    pool = await create_pool(infra.dsn, schema)
    await apply_migrations(pool, schema, "backbone", "sla")
    app = FastAPI()
    app.include_router(watch_api.router)
    problems.install(app)
    app.state.sla_queries = PgSlaQueries(pool)
    app.state.calendars = FixedCalendars()
    app.state.alert_broadcaster = watch_api.AlertBroadcaster(poll_interval=0.1)
    app.state.alert_broadcaster.start(app.state.sla_queries)
    app.state.staff_tokens = JwtVerifier(JwtSettings(
        public_key=KEY.public_pem, audience=tokens.AUDIENCE, issuer=tokens.ISSUER))
    app.state.pool = pool
    yield app
    await app.state.alert_broadcaster.stop()
    await pool.close()


async def clock(pool, opd, *, kind="first_response", due_in_hours=24, started=T0, state="running",
                breached=False, at_risk=False, outcome=None, used_hours=None, jurisdiction=J):
    clock_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO clocks (clock_id, complaint_id, tracking_number, jurisdiction, kind, opd_id,"
        " started_at, due_at, working_days, timezone, state, breached_at, at_risk_since, outcome,"
        " working_seconds_used) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,5,'Asia/Jakarta',$9,$10,$11,$12,$13)",
        clock_id, uuid.uuid4(), str(uuid.uuid4().int % 10**9), jurisdiction, kind, opd, started,
        T0 + timedelta(hours=due_in_hours), state, T0 if breached else None,
        T0 if at_risk else None, outcome, used_hours * 3600 if used_hours is not None else None)
    return clock_id


async def alert(pool, opd, kind="breach"):
    await pool.execute(
        "INSERT INTO alerts (event_id, type, clock_id, complaint_id, tracking_number, jurisdiction,"
        " opd_id, kind, due_at, occurred_at, payload) VALUES ($1,$2,$3,$4,'42',$5,$6,"
        " 'first_response',$7,$7,$8::jsonb)",
        uuid.uuid4(), kind, uuid.uuid4(), uuid.uuid4(), J, opd, T0,
        json.dumps({"opd_id": opd, "tracking_number": "42"}))


def client(app):
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sla")


async def test_open_clocks_most_urgent_first_scoped_filtered_and_paged(app):
    pool = app.state.pool
    late = await clock(pool, "dinas-pupr", due_in_hours=-5, breached=True)
    risky = await clock(pool, "dinas-pupr", due_in_hours=2, at_risk=True)
    calm = await clock(pool, "dinas-pupr", due_in_hours=50)
    await clock(pool, "dinas-pupr", state="stopped", outcome="met")
    other = await clock(pool, "dlh", due_in_hours=1)
    async with client(app) as c:
        assert (await c.get("/v1/clocks")).status_code == 401
        page = (await c.get("/v1/clocks", headers=bearer())).json()
        assert [i["clock_id"] for i in page["items"]] == [str(x) for x in (late, other, risky, calm)]
        assert page["counts"] == {"on_track": 2, "at_risk": 1, "breached": 1}
        mine = (await c.get("/v1/clocks", headers=bearer("opd", opd="dinas-pupr"))).json()
        assert [i["status"] for i in mine["items"]] == ["breached", "at_risk", "on_track"]
        assert (await c.get("/v1/clocks", params={"opd_id": "dlh"},
                            headers=bearer("opd", opd="dinas-pupr"))).status_code == 403
        breached = (await c.get("/v1/clocks", params={"status": "breached"}, headers=bearer())).json()
        assert [i["clock_id"] for i in breached["items"]] == [str(late)]
        first = (await c.get("/v1/clocks", params={"limit": 2}, headers=bearer())).json()
        second = (await c.get("/v1/clocks", params={"limit": 2, "cursor": first["next_cursor"]},
                              headers=bearer())).json()
        assert [i["clock_id"] for i in first["items"] + second["items"]] == \
            [str(x) for x in (late, other, risky, calm)] and second["next_cursor"] is None
        bad = await c.get("/v1/clocks", params={"cursor": "nonsense"}, headers=bearer())
        assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
        elsewhere = await c.get("/v1/clocks", params={"jurisdiction": "kota-makassar"},
                                headers=bearer(jurisdiction=J))
        assert elsewhere.status_code == 403


async def test_per_opd_figures_for_a_period(app):
    pool = app.state.pool
    for hours, outcome in ((2, "met"), (4, "met"), (6, "met"), (50, "late")):
        await clock(pool, "dinas-pupr", state="stopped", outcome=outcome, used_hours=hours)
    await clock(pool, "dinas-pupr", breached=True)                # still open, late
    await clock(pool, "dinas-pupr", started=T0 - timedelta(days=60), state="stopped",
                outcome="met", used_hours=1)                      # outside the period
    for i in range(3):
        await pool.execute("INSERT INTO received VALUES ($1,'dinas-pupr',$2,$3)", uuid.uuid4(), J,
                           T0 + timedelta(hours=i))
    await pool.execute("INSERT INTO ratings VALUES ($1,'dinas-pupr',$2,4,$3), ($4,'dinas-pupr',$2,5,$3)",
                       uuid.uuid4(), J, T0, uuid.uuid4())
    params = {"jurisdiction": J, "from": "2026-11-01", "to": "2026-12-01"}
    async with client(app) as c:
        body = (await c.get("/v1/figures/opds", params=params, headers=bearer())).json()
        [row] = body["opds"]
        assert row == {"opd_id": "dinas-pupr", "received": 3, "first_response_median_hours": 5.0,
                       "first_response_p90_hours": 36.8, "answered": 4, "answered_on_time": 3,
                       "on_time_share": 0.6, "open_breaches": 1, "rating_average": 4.5, "ratings": 2}
        as_csv = await c.get("/v1/figures/opds", params={**params, "format": "csv"}, headers=bearer())
        assert as_csv.headers["content-type"].startswith("text/csv")
        assert list(csv.DictReader(io.StringIO(as_csv.text)))[0]["on_time_share"] == "0.6"
        mine = (await c.get("/v1/figures/opds", params=params, headers=bearer("opd", opd="dlh"))).json()
        assert mine["opds"] == []
        backwards = await c.get("/v1/figures/opds", params={**params, "to": "2026-10-01"},
                                headers=bearer())
        assert backwards.status_code == 400


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_the_live_stream_delivers_resumes_and_keeps_to_its_opd(app):
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    await eventually(lambda: asyncio.sleep(0, server.started), "server up", timeout=10)
    pool = app.state.pool
    token = KEY.mint("opd", opd="dinas-pupr")
    seen: list[dict] = []

    async def listen(headers=None, params=None):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            async with c.stream("GET", "/v1/alerts/stream", headers=headers or {},
                                params={"access_token": token, **(params or {})}) as answer:
                assert answer.status_code == 200
                event: dict = {}
                async for line in answer.aiter_lines():
                    if line.startswith(("event:", "id:", "data:")):
                        name, _, value = line.partition(":")
                        event[name] = value.strip()
                    elif not line and event.get("data"):
                        seen.append(event)
                        event = {}

    try:
        reader = asyncio.create_task(listen())
        await eventually(lambda: asyncio.sleep(0, bool(app.state.alert_broadcaster._clients)),
                         "subscribed", timeout=10)
        await alert(pool, "dlh")                     # another OPD's: never shown
        await alert(pool, "dinas-pupr")
        app.state.alert_broadcaster.wake()
        await eventually(lambda: asyncio.sleep(0, len(seen) >= 1), "the alert arrives", timeout=10)
        reader.cancel()
        assert [(e["event"], json.loads(e["data"])["opd_id"]) for e in seen] == [("breach", "dinas-pupr")]
        first_id = int(seen[0]["id"])
        await alert(pool, "dinas-pupr", kind="warning")      # while disconnected
        seen.clear()
        resumed = asyncio.create_task(listen(headers={"last-event-id": str(first_id)}))
        await eventually(lambda: asyncio.sleep(0, len(seen) >= 1), "missed alert replayed", timeout=10)
        resumed.cancel()
        assert [e["event"] for e in seen] == ["warning"] and int(seen[0]["id"]) > first_id
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
            refused = await c.get("/v1/alerts/stream", params={"access_token": "not-a-token"})
            assert refused.status_code == 401
    finally:
        server.should_exit = True
        await serving
