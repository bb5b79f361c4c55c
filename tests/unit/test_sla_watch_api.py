"""What operators and OPD staff watch, on the in-memory twin of sla's queries: open clocks by
urgency with filters, counts and keyset paging; alerts; per-OPD figures (JSON and CSV) over
local days; scoping (an OPD token never sees another OPD's data, a jurisdiction's operator no
other jurisdiction); bad parameters as RFC 9457 problems; and the broadcaster behind the live
stream (fan-out by scope, ids in order across a commit gap, slow clients, shutdown)."""

import asyncio
import csv
import io
import json
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from fastapi import FastAPI

from backbone import problems
from backbone.staff_auth import JwtSettings, JwtVerifier
from devstack import tokens
from devstack.tokens import SigningKey
from sla import watch_api
from sla.adapters.queries import InMemorySlaQueries, Scope, percentile_cont
from sla.calendar_registry import FixedCalendars

pytestmark = pytest.mark.unit
KEY = SigningKey.generate()
J = "kota-bandung"
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)       # Monday 09:00 WIB
PROBLEM = "application/problem+json"


def bearer(role="operator", **claims) -> dict:
    return {"authorization": "Bearer " + KEY.mint(role, **claims)}


def build_app(queries: InMemorySlaQueries) -> FastAPI:
    app = FastAPI()
    app.include_router(watch_api.router)
    problems.install(app)
    app.state.sla_queries = queries
    app.state.calendars = FixedCalendars()
    app.state.alert_broadcaster = watch_api.AlertBroadcaster(poll_interval=0.05)
    app.state.staff_tokens = JwtVerifier(JwtSettings(
        public_key=KEY.public_pem, audience=tokens.AUDIENCE, issuer=tokens.ISSUER))
    return app


@pytest.fixture
def data() -> InMemorySlaQueries:
    return InMemorySlaQueries()


@pytest.fixture
async def client(data):
    app = build_app(data)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sla") as c:
        c.app = app
        yield c
    await app.state.alert_broadcaster.stop()


def clock(data, opd, hours, *, jurisdiction=J, kind="first_response", state="running",
          at_risk=False, breached=False, **more) -> str:
    row = data.add_clock(**{
        "tracking_number": f"T{len(data.clocks):04d}", "jurisdiction": jurisdiction, "kind": kind,
        "opd_id": opd, "started_at": T0 - timedelta(days=1), "due_at": T0 + timedelta(hours=hours),
        "state": state, "at_risk_since": T0 if at_risk else None,
        "breached_at": T0 if breached else None} | more)
    return str(row["clock_id"])


def alert(data, opd, type_="breach", jurisdiction=J, kind="first_response") -> int:
    row = data.add_alert(type=type_, clock_id=uuid.uuid4(), complaint_id=uuid.uuid4(),
                         tracking_number="42", jurisdiction=jurisdiction, opd_id=opd, kind=kind,
                         due_at=T0, occurred_at=T0,
                         level="opd_head" if type_ == "escalation" else None,
                         payload={"opd_id": opd, "tracking_number": "42", "kind": kind})
    return row["id"]


def ids(body) -> list[str]:
    return [i["clock_id"] for i in body["items"]]


# ---------------------------------------------------------------------------------- clocks


async def test_open_clocks_are_listed_most_urgent_first_with_counts(client, data):
    late = clock(data, "dinas-pupr", -5, breached=True)
    risky = clock(data, "dinas-pupr", 2, at_risk=True)
    calm = clock(data, "dinas-pupr", 50, state="paused")
    clock(data, "dinas-pupr", 1, state="stopped", outcome="met")
    clock(data, "dinas-pupr", 1, state="superseded")
    other = clock(data, "dlh", 1, kind="resolution")
    body = (await client.get("/v1/clocks", headers=bearer())).json()
    assert ids(body) == [late, other, risky, calm]
    assert body["counts"] == {"on_track": 2, "at_risk": 1, "breached": 1}
    assert body["next_cursor"] is None
    first = body["items"][0]
    assert {k: first[k] for k in ("status", "state", "opd_id", "jurisdiction", "kind",
                                  "working_days", "policy_version", "tracking_number")} == {
        "status": "breached", "state": "running", "opd_id": "dinas-pupr", "jurisdiction": J,
        "kind": "first_response", "working_days": 5, "policy_version": 0,
        "tracking_number": "T0000"}
    assert datetime.fromisoformat(first["due_at"]) == T0 - timedelta(hours=5)
    assert datetime.fromisoformat(first["breached_at"]) == T0


async def test_filters_narrow_the_listing_and_counts_follow_all_but_status(client, data):
    late = clock(data, "dinas-pupr", -5, breached=True)
    risky = clock(data, "dinas-pupr", 2, at_risk=True)
    both = clock(data, "dinas-pupr", 3, at_risk=True, breached=True)   # breached wins
    calm = clock(data, "dinas-pupr", 50, kind="resolution")
    elsewhere = clock(data, "dinas-x", 4, jurisdiction="kota-makassar")

    async def listing(**params):
        return (await client.get("/v1/clocks", params=params, headers=bearer())).json()

    assert ids(await listing(status="breached")) == [late, both]
    assert ids(await listing(status="at_risk")) == [risky]
    assert ids(await listing(status="on_track")) == [elsewhere, calm]
    assert ids(await listing(status="open")) == [late, risky, both, elsewhere, calm]
    assert ids(await listing(kind="resolution")) == [calm]
    assert ids(await listing(jurisdiction="kota-makassar")) == [elsewhere]
    assert ids(await listing(tracking_number="T0001")) == [risky]
    window = await listing(due_after=(T0 + timedelta(hours=2)).isoformat(),
                           due_before=(T0 + timedelta(hours=4)).isoformat())
    assert ids(window) == [risky, both]               # after inclusive, before exclusive
    assert (await listing(status="breached", jurisdiction=J))["counts"] == \
        {"on_track": 1, "at_risk": 1, "breached": 2}


async def test_keyset_paging_visits_every_open_clock_once_even_with_equal_deadlines(client, data):
    made = [clock(data, "dinas-pupr", hours) for hours in (5, 1, 1, 1, 3, 1, 8)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = (await client.get("/v1/clocks", params=params, headers=bearer())).json()
        seen += ids(body)
        pages += 1
        assert len(body["items"]) <= 2 and body["counts"]["on_track"] == 7
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 4 and sorted(seen) == sorted(made) and len(set(seen)) == 7
    dues = [data.clocks[made.index(i)]["due_at"] for i in seen]
    assert dues == sorted(dues)


async def test_an_opd_token_sees_its_own_opd_only(client, data):
    mine = clock(data, "dinas-pupr", 5)
    clock(data, "dlh", 1, breached=True)
    clock(data, None, 2, kind="verification")         # the citizen's wait before disposition
    opd = bearer("opd", opd="dinas-pupr")
    body = (await client.get("/v1/clocks", headers=opd)).json()
    assert ids(body) == [mine] and body["counts"] == {"on_track": 1, "at_risk": 0, "breached": 0}
    assert ids((await client.get("/v1/clocks", params={"opd_id": "dinas-pupr"}, headers=opd)).json()) == [mine]
    other = await client.get("/v1/clocks", params={"opd_id": "dlh"}, headers=opd)
    assert other.status_code == 403 and other.headers["content-type"] == PROBLEM
    assert other.json()["type"].endswith("/forbidden") and "dinas-pupr" in other.json()["title"]


async def test_a_jurisdictions_operator_sees_that_jurisdiction_only(client, data):
    here = clock(data, "dinas-pupr", 5)
    clock(data, "dinas-x", 1, jurisdiction="kota-makassar")
    token = bearer(jurisdiction=J)
    assert ids((await client.get("/v1/clocks", headers=token)).json()) == [here]
    refused = await client.get("/v1/clocks", params={"jurisdiction": "kota-makassar"}, headers=token)
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer not-a-jwt"},
                                     {"authorization": "Basic dXNlcjpwdw=="}])
async def test_every_route_needs_a_staff_token(client, headers):
    for path in ("/v1/clocks", "/v1/alerts", "/v1/alerts/stream",
                 f"/v1/figures/opds?jurisdiction={J}"):
        answer = await client.get(path, headers=headers)
        assert answer.status_code == 401, path
        assert answer.headers["content-type"] == PROBLEM
        assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_an_access_token_parameter_is_for_the_stream_only(client):
    token = KEY.mint("operator")
    assert (await client.get("/v1/clocks", params={"access_token": token})).status_code == 401
    refused = await client.get("/v1/alerts/stream", params={"access_token": "forged"})
    assert refused.status_code == 401 and "forged" not in refused.text


@pytest.mark.parametrize("params, field, status", [
    ({"status": "late"}, "status", 400),
    ({"kind": "coffee"}, "kind", 400),
    ({"due_before": "2026-11-02T09:00:00"}, "due_before", 400),
    ({"due_after": "tomorrow"}, "due_after", 422),
    ({"cursor": "bm9uc2Vuc2U"}, "cursor", 400),
    ({"cursor": "!!!"}, "cursor", 400),
    ({"limit": 201}, "limit", 422),
    ({"limit": 0}, "limit", 422),
])
async def test_bad_listing_parameters_are_problems_naming_the_field(client, params, field, status):
    answer = await client.get("/v1/clocks", params=params, headers=bearer())
    assert answer.status_code == status and answer.headers["content-type"] == PROBLEM
    assert [e["field"] for e in answer.json()["errors"]] == [field if status == 400 else f"query.{field}"]


# ---------------------------------------------------------------------------------- alerts


async def test_alerts_after_an_id_filtered_and_scoped(client, data):
    a1 = alert(data, "dinas-pupr", "warning")
    alert(data, "dlh", "breach")
    a3 = alert(data, "dinas-pupr", "breach")
    a4 = alert(data, "dinas-pupr", "escalation")
    alert(data, "dinas-x", "breach", jurisdiction="kota-makassar")
    everything = (await client.get("/v1/alerts", headers=bearer())).json()
    assert [a["id"] for a in everything["items"]] == [1, 2, 3, 4, 5] and everything["last_id"] == 5
    mine = (await client.get("/v1/alerts", params={"after": a1},
                             headers=bearer("opd", opd="dinas-pupr"))).json()
    assert [(a["id"], a["type"]) for a in mine["items"]] == [(a3, "breach"), (a4, "escalation")]
    assert mine["items"][1]["level"] == "opd_head" and mine["items"][1]["tracking_number"] == "42"
    breaches = (await client.get("/v1/alerts", params={"type": "breach", "jurisdiction": J},
                                 headers=bearer())).json()
    assert [a["id"] for a in breaches["items"]] == [2, 3]
    latest = (await client.get("/v1/alerts", params={"order": "newest", "limit": 2},
                               headers=bearer("opd", opd="dinas-pupr"))).json()
    assert [a["id"] for a in latest["items"]] == [a4, a3] and latest["last_id"] == a4
    empty = (await client.get("/v1/alerts", params={"after": 99}, headers=bearer())).json()
    assert empty == {"items": [], "last_id": 99}
    assert (await client.get("/v1/alerts", params={"opd_id": "dlh"},
                             headers=bearer("opd", opd="dinas-pupr"))).status_code == 403
    bad = await client.get("/v1/alerts", params={"type": "gossip"}, headers=bearer())
    assert bad.status_code == 400 and bad.headers["content-type"] == PROBLEM


async def test_the_stream_replays_from_last_event_id_within_its_scope(client, data):
    """Over the ASGI transport the whole answer is read at once: the broadcaster is stopped once
    the client is subscribed, which ends the stream after what it owed."""
    for opd, type_ in (("dinas-pupr", "warning"), ("dlh", "breach"), ("dinas-pupr", "breach"),
                       ("dinas-pupr", "escalation")):
        alert(data, opd, type_)
    broadcaster = client.app.state.alert_broadcaster
    broadcaster.start(data)
    answer = asyncio.create_task(client.get(
        "/v1/alerts/stream", headers={"last-event-id": "1"},
        params={"access_token": KEY.mint("opd", opd="dinas-pupr")}))
    await wait_for(lambda: broadcaster.clients == 1 or answer.done(), "subscribed")
    alert(data, "dlh", "breach")                       # another OPD's, live: never shown
    alert(data, "dinas-pupr", "warning")               # live
    broadcaster.wake()
    await wait_for(lambda: broadcaster.last_id == 6, "live alerts read")
    await broadcaster.stop()
    streamed = await asyncio.wait_for(answer, 10)
    assert streamed.status_code == 200
    assert streamed.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(streamed.text)
    assert [(e["id"], e["event"]) for e in events] == [("3", "breach"), ("4", "escalation"),
                                                       ("6", "warning")]
    assert all(json.loads(e["data"])["opd_id"] == "dinas-pupr" for e in events)
    assert json.loads(events[1]["data"])["level"] == "opd_head"


async def test_bad_stream_parameters_are_problems(client, data):
    client.app.state.alert_broadcaster.start(data)
    for headers, params in (({"last-event-id": "abc"}, {}), ({}, {"type": "gossip"})):
        answer = await client.get("/v1/alerts/stream", params=params, headers={**bearer(), **headers})
        assert answer.status_code == 400 and answer.headers["content-type"] == PROBLEM
    other = await client.get("/v1/alerts/stream", params={"opd_id": "dlh"},
                             headers=bearer("opd", opd="dinas-pupr"))
    assert other.status_code == 403


def parse_sse(text: str) -> list[dict]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines()
                      if line and not line.startswith(":"))
        if "data" in fields:
            events.append(fields)
    return events


async def wait_for(condition, what: str, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


# ---------------------------------------------------------------------------------- broadcaster


async def test_the_broadcaster_fans_out_by_scope_from_where_the_table_stood(data):
    alert(data, "dinas-pupr")                           # before: the table's, not the stream's
    broadcaster = watch_api.AlertBroadcaster(poll_interval=30)   # only woken
    broadcaster.start(data)
    try:
        pupr = await broadcaster.subscribe(Scope(opd_id="dinas-pupr"))
        everyone = await broadcaster.subscribe(Scope(jurisdiction=J), type_="breach")
        assert pupr.horizon == everyone.horizon == 1
        alert(data, "dlh")
        alert(data, "dinas-pupr", "warning")
        broadcaster.wake()
        got = await asyncio.wait_for(pupr.next(), 5)
        assert (got["id"], got["type"]) == (3, "warning")
        assert (await asyncio.wait_for(everyone.next(), 5))["id"] == 2
        broadcaster.unsubscribe(pupr)
        assert broadcaster.clients == 1
    finally:
        await broadcaster.stop()
    assert await asyncio.wait_for(everyone.next(), 5) is None      # stopped: the stream ends


async def test_the_broadcaster_hands_out_ids_in_order_across_a_commit_gap(data):
    broadcaster = watch_api.AlertBroadcaster(poll_interval=0.02, gap_grace=30)
    broadcaster.start(data)
    try:
        client = await broadcaster.subscribe(Scope())
        alert(data, "a")                                # id 1
        data.add_alert(id=3, type="breach", clock_id=uuid.uuid4(), complaint_id=uuid.uuid4(),
                       tracking_number="3", jurisdiction=J, opd_id="a", kind="resolution",
                       due_at=T0, occurred_at=T0)      # id 2 not committed yet
        assert (await asyncio.wait_for(client.next(), 5))["id"] == 1
        await wait_for(lambda: broadcaster._gap_since is not None, "gap seen")
        assert broadcaster.last_id == 1               # waits for id 2 rather than skip it
        data.add_alert(id=2, type="warning", clock_id=uuid.uuid4(), complaint_id=uuid.uuid4(),
                       tracking_number="2", jurisdiction=J, opd_id="a", kind="resolution",
                       due_at=T0, occurred_at=T0)
        assert [(await asyncio.wait_for(client.next(), 5))["id"] for _ in range(2)] == [2, 3]
    finally:
        await broadcaster.stop()


async def test_a_gap_that_never_fills_is_skipped_after_the_grace(data):
    broadcaster = watch_api.AlertBroadcaster(poll_interval=0.02, gap_grace=0.1)
    broadcaster.start(data)
    try:
        client = await broadcaster.subscribe(Scope())
        data.add_alert(id=2, type="breach", clock_id=uuid.uuid4(), complaint_id=uuid.uuid4(),
                       tracking_number="2", jurisdiction=J, opd_id="a", kind="resolution",
                       due_at=T0, occurred_at=T0)      # id 1 was rolled back
        assert (await asyncio.wait_for(client.next(), 5))["id"] == 2
    finally:
        await broadcaster.stop()


async def test_a_client_that_falls_behind_is_sent_to_the_table(data):
    broadcaster = watch_api.AlertBroadcaster(poll_interval=30, client_buffer=2)
    broadcaster.start(data)
    try:
        client = await broadcaster.subscribe(Scope())
        for _ in range(5):
            alert(data, "dinas-pupr")
        broadcaster.wake()
        assert await asyncio.wait_for(client.next(), 5) == 5      # read the table up to id 5
        alert(data, "dinas-pupr")
        broadcaster.wake()
        assert (await asyncio.wait_for(client.next(), 5))["id"] == 6
    finally:
        await broadcaster.stop()


# ---------------------------------------------------------------------------------- figures


def figures_data(data) -> None:
    start = T0 - timedelta(hours=1)
    for hours, outcome in ((1, "met"), (3, "met"), (8, "met"), (10, "late"), (30, "late")):
        clock(data, "dinas-pupr", 0, state="stopped", outcome=outcome,
              working_seconds_used=hours * 3600, started_at=start)
    clock(data, "dinas-pupr", 0, state="stopped", outcome="withdrawn", working_seconds_used=60,
          started_at=start)                                          # reassigned: no answer
    clock(data, "dinas-pupr", -1, breached=True, started_at=start)   # still unanswered, late
    clock(data, "dinas-pupr", -1, breached=True, kind="resolution")  # an open breach too
    clock(data, "dinas-pupr", -1, breached=True, kind="verification")  # the operator's, not the OPD's
    clock(data, "dinas-pupr", 0, state="stopped", outcome="met", working_seconds_used=3600,
          started_at=datetime(2026, 10, 31, 16, 59, tzinfo=timezone.utc))   # 23:59 WIB: before
    clock(data, "dlh", 0, state="stopped", outcome="met", working_seconds_used=7200,
          started_at=start)
    for at in (datetime(2026, 10, 31, 17, 0, tzinfo=timezone.utc),   # 1 Nov 00:00 WIB: inside
               T0, T0, T0 + timedelta(days=5),
               datetime(2026, 10, 31, 16, 59, tzinfo=timezone.utc),   # before the period
               datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc)):   # 1 Dec WIB: after
        data.add_received(uuid.uuid4(), "dinas-pupr", J, at)
    data.add_received(uuid.uuid4(), "dinas-x", "kota-makassar", T0)
    for rating, at in ((5, T0), (4, T0), (2, T0 + timedelta(days=3)), (1, T0 - timedelta(days=40))):
        data.add_rating(uuid.uuid4(), "dinas-pupr", J, rating, at)


PUPR = {"opd_id": "dinas-pupr", "received": 4, "first_response_median_hours": 8.0,
        "first_response_p90_hours": 22.0, "answered": 5, "answered_on_time": 3,
        "on_time_share": 0.5, "open_breaches": 2, "rating_average": 3.67, "ratings": 3}
DLH = {"opd_id": "dlh", "received": 0, "first_response_median_hours": 2.0,
       "first_response_p90_hours": 2.0, "answered": 1, "answered_on_time": 1,
       "on_time_share": 1.0, "open_breaches": 0, "rating_average": None, "ratings": 0}
PERIOD = {"jurisdiction": J, "from": "2026-11-01", "to": "2026-12-01"}


async def test_per_opd_figures_over_local_days(client, data):
    figures_data(data)
    body = (await client.get("/v1/figures/opds", params=PERIOD, headers=bearer())).json()
    assert body == {"jurisdiction": J, "from": "2026-11-01", "to": "2026-12-01",
                    "timezone": "Asia/Jakarta", "opds": [PUPR, DLH]}
    one = (await client.get("/v1/figures/opds", params={**PERIOD, "opd_id": "dlh"},
                            headers=bearer())).json()
    assert one["opds"] == [DLH]


async def test_an_opd_reads_its_own_figures_only(client, data):
    figures_data(data)
    mine = (await client.get("/v1/figures/opds", params=PERIOD,
                             headers=bearer("opd", opd="dlh"))).json()
    assert mine["opds"] == [DLH]
    other = await client.get("/v1/figures/opds", params={**PERIOD, "opd_id": "dinas-pupr"},
                             headers=bearer("opd", opd="dlh"))
    assert other.status_code == 403 and other.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("how", [{"params": {"format": "csv"}},
                                 {"headers": {"accept": "text/csv"}}])
async def test_figures_as_csv(client, data, how):
    figures_data(data)
    answer = await client.get("/v1/figures/opds", params={**PERIOD, **how.get("params", {})},
                              headers={**bearer(), **how.get("headers", {})})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert 'filename="sla-kota-bandung-2026-11-01-2026-12-01.csv"' in \
        answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["opd_id"] for r in rows] == ["dinas-pupr", "dlh"]
    assert rows[0]["first_response_p90_hours"] == "22.0" and rows[1]["rating_average"] == ""


@pytest.mark.parametrize("params, field", [
    ({"from": "2026-11-01", "to": "2026-11-01"}, "from"),
    ({"from": "2026-12-01", "to": "2026-11-01"}, "from"),
    ({"from": "2024-01-01", "to": "2026-01-01"}, "from"),
    ({"format": "xml"}, "format"),
])
async def test_bad_figure_parameters_are_problems(client, params, field):
    answer = await client.get("/v1/figures/opds", params={"jurisdiction": J, **params},
                              headers=bearer())
    assert answer.status_code == 400 and answer.headers["content-type"] == PROBLEM
    assert answer.json()["errors"][0]["field"] == field


async def test_figures_need_a_jurisdiction(client):
    answer = await client.get("/v1/figures/opds", headers=bearer())
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "jurisdiction"
    bad_day = await client.get("/v1/figures/opds", params={"jurisdiction": J, "from": "1 Nov"},
                               headers=bearer())
    assert bad_day.status_code == 422 and bad_day.headers["content-type"] == PROBLEM
    scoped = await client.get("/v1/figures/opds", headers=bearer(jurisdiction=J))
    assert scoped.status_code == 200 and scoped.json()["jurisdiction"] == J


def test_percentile_cont_matches_postgresql():
    assert percentile_cont([], 0.5) is None
    assert percentile_cont([7], 0.9) == 7
    assert percentile_cont([2, 4, 6, 50], 0.5) == 5
    assert percentile_cont([50, 2, 6, 4], 0.9) == pytest.approx(36.8)
