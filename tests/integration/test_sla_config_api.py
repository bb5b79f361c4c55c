"""sla's public deadline endpoint and the operators' calendar and policy changes, over HTTP on
real PostgreSQL: exact deadline strings in all three time zones, problems for bad parameters,
a decree that moves a day changes the next answer at once, operators only, with history."""

import httpx
import pytest
from fastapi import FastAPI

from backbone import problems
from backbone.db import apply_migrations, create_pool
from backbone.staff_auth import JwtSettings, JwtVerifier
from devstack import tokens
from devstack.tokens import SigningKey
from sla import calendars_api, policies_api
from sla.calendar_registry import CalendarRegistry, load_calendar_files
from sla.policy_registry import PolicyRegistry, load_policy_files

pytestmark = pytest.mark.integration
KEY = SigningKey.generate()


@pytest.fixture
async def client(infra, prefix):
    schema = prefix.replace(".", "") + "_slaapi"
    pool = await create_pool(infra.dsn, schema)
    await apply_migrations(pool, schema, "backbone", "sla")
    app = FastAPI()
    app.include_router(calendars_api.router)
    app.include_router(policies_api.router)
    problems.install(app)
    app.state.calendars = CalendarRegistry(pool, load_calendar_files(), refresh_seconds=0.1)
    app.state.policies = PolicyRegistry(pool, load_policy_files(), refresh_seconds=0.1)
    await app.state.calendars.start()
    await app.state.policies.start()
    app.state.staff_tokens = JwtVerifier(JwtSettings(
        public_key=KEY.public_pem, audience=tokens.AUDIENCE, issuer=tokens.ISSUER))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sla") as c:
        yield c
    await pool.close()


def bearer(role="operator", **claims):
    return {"authorization": "Bearer " + KEY.mint(role, **claims)}


@pytest.mark.parametrize("jurisdiction, start, n, expected", [
    ("kota-bandung", "2026-03-17T09:00:00+07:00", 3, "2026-03-27T23:59:59+07:00"),
    ("kota-makassar", "2026-03-17T09:00:00+08:00", 3, "2026-03-27T23:59:59+08:00"),
    ("kota-jayapura", "2026-03-17T09:00:00+09:00", 3, "2026-03-27T23:59:59+09:00"),
    ("kota-jayapura", "2026-11-20T16:30:00Z", 1, "2026-11-24T23:59:59+09:00"),   # Saturday in WIT
    ("kota-bandung", "2026-11-20T16:30:00Z", 1, "2026-11-23T23:59:59+07:00"),    # Friday in WIB
    ("kota-bandung", "2026-11-21T09:00:00 07:00", 0, "2026-11-23T23:59:59+07:00"),  # unencoded +
    ("kota-bandung", "2026-12-23", 2, "2026-12-29T23:59:59+07:00"),
    ("kabupaten-tanpa-kalender", "2025-08-15T10:00:00+07:00", 1, "2025-08-19T23:59:59+07:00"),
])
async def test_the_deadline_answers(client, jurisdiction, start, n, expected):
    answer = await client.get(f"/v1/calendars/{jurisdiction}/deadline",
                              params={"start": start, "working_days": n})
    assert answer.status_code == 200, answer.text
    assert answer.json()["deadline"] == expected


@pytest.mark.parametrize("params, field", [
    ({"start": "kemarin", "working_days": 3}, "start"),
    ({"start": "2026-03-17T09:00:00", "working_days": 3}, "start"),        # no offset
    ({"start": "2026-03-17T09:00:00Z", "working_days": -1}, "working_days"),
    ({"start": "2026-03-17T09:00:00Z", "working_days": "tiga"}, "working_days"),
    ({"start": "2026-03-17T09:00:00Z", "working_days": 5000}, "working_days"),
    ({"working_days": 3}, "start"),
])
async def test_bad_parameters_get_a_problem(client, params, field):
    answer = await client.get("/v1/calendars/kota-bandung/deadline", params=params)
    assert answer.status_code in (400, 422)
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in answer.text


async def test_a_decree_moving_a_day_is_in_force_at_once_for_operators_only(client):
    ask = {"start": "2026-05-26T09:00:00+07:00", "working_days": 0}
    before = (await client.get("/v1/calendars/kota-bandung/deadline", params=ask)).json()
    assert before["deadline"] == "2026-05-26T23:59:59+07:00"     # a working day: its own end
    change = {"change": {"op": "move", "date": "2026-05-27", "to": "2026-05-26",
                         "decree": "SKB revisi"}, "note": "Iduladha maju sehari"}
    assert (await client.post("/v1/calendars/kota-bandung/days", json=change)).status_code == 401
    assert (await client.post("/v1/calendars/kota-bandung/days", json=change,
                              headers=bearer("opd", opd="dinas-pupr"))).status_code == 403
    assert (await client.post("/v1/calendars/kota-bandung/days", json=change,
                              headers=bearer(jurisdiction="kota-makassar"))).status_code == 403
    saved = await client.post("/v1/calendars/kota-bandung/days", json=change, headers=bearer())
    assert saved.status_code == 201, saved.text
    after = (await client.get("/v1/calendars/kota-bandung/deadline", params=ask)).json()
    # 26 May is now the holiday: day 0 is 27 May
    assert after["deadline"] == "2026-05-27T23:59:59+07:00"
    assert after["calendar_version"] > before["calendar_version"]
    days = (await client.get("/v1/calendars/kota-bandung/non-working-days",
                             params={"from": "2026-05-25", "to": "2026-05-29"})).json()
    assert [d["date"] for d in days] == ["2026-05-26", "2026-05-28"]
    history = (await client.get("/v1/calendars/kota-bandung/history", headers=bearer())).json()
    assert [h["source"] for h in history] == ["api", "file"]
    assert history[0]["note"] == "Iduladha maju sehari"


async def test_policies_are_public_and_changed_by_operators(client):
    terms = (await client.get("/v1/policies/kota-bandung/terms",
                              params={"kind": "first_response", "category": "kesehatan.rsud"})).json()
    assert terms["working_days"] == 3
    current = (await client.get("/v1/policies/kota-bandung")).json()
    policy = {"jurisdiction": "kota-bandung", "clocks": {"first_response": {"working_days": 4}}}
    body = {"policy": policy, "note": "Perwal 2027", "based_on_version": current["version"]}
    assert (await client.put("/v1/policies/kota-bandung", json=body,
                             headers=bearer("opd", opd="dinkes"))).status_code == 403
    assert (await client.put("/v1/policies/kota-bandung", json=body, headers=bearer())).status_code == 200
    terms = (await client.get("/v1/policies/kota-bandung/terms",
                              params={"kind": "first_response", "category": "pupr.jalan-rusak"})).json()
    assert terms["working_days"] == 4
    stale = await client.put("/v1/policies/kota-bandung", json=body, headers=bearer())
    assert stale.status_code == 409
    assert (await client.get("/v1/policies/kota-bandung/terms", params={"kind": "nope"})).status_code == 400
