"""`GET /v1/complaints/{tracking_number}/routing` (routing.decisions_api) on the in-memory
decision log: the newest decision with its candidates and words first, every decision in order,
operators only, and an operator of another jurisdiction sees nothing."""

import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI

from backbone import problems
from backbone.staff_auth import JwtSettings, JwtVerifier
from devstack import tokens
from devstack.tokens import SigningKey
from routing import decisions_api
from routing.adapters.decisions import RoutingInMemoryUnitOfWork
from routing.domain.classification import Classification
from routing.domain.decision import Candidate, Decision, Destination

pytestmark = pytest.mark.unit
KEY = SigningKey.generate()
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def bearer(role="operator", **claims) -> dict:
    return {"authorization": "Bearer " + KEY.mint(role, **claims)}


@pytest.fixture
async def client():
    uow = RoutingInMemoryUnitOfWork()
    app = FastAPI()
    app.include_router(decisions_api.router)
    problems.install(app)
    app.state.runtime = SimpleNamespace(unit_of_work=lambda: uow)
    app.state.staff_tokens = JwtVerifier(JwtSettings(
        public_key=KEY.public_pem, audience=tokens.AUDIENCE, issuer=tokens.ISSUER))
    read = Classification("pupr", "pupr.jalan", "pengaduan", "sedang", 0.42,
                          (("pupr.jalan", 0.42), ("lh.sampah", 0.31)), ("berlubang", "aspal"))
    cid = uuid.uuid4()
    async with uow:
        await uow.decisions.record(cid, "2611230001", "kota-bandung", Decision(
            "triage", 0.42, "not sure enough", suggestions=("dinas-pupr", "dlh"), classification=read,
            candidates=(Candidate("pupr.jalan", 0.42, Destination("dinas-pupr", "Dinas PUPR")),
                        Candidate("lh.sampah", 0.31, Destination("dlh", "DLH")))), T0)
        await uow.decisions.record(cid, "2611230001", "kota-bandung", Decision(
            "assign", 1.0, "by hand", opd_id="dinas-pupr", opd_name="Dinas PUPR"),
            T0 + timedelta(minutes=5), trigger="operator_assign", decided_by="op-1")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://routing") as c:
        yield c


async def test_an_operator_reads_every_decision_newest_last(client):
    answer = await client.get("/v1/complaints/2611230001/routing", headers=bearer())
    assert answer.status_code == 200
    body = answer.json()
    first, last = body["decisions"]
    assert body["latest"] == last and last["trigger"] == "operator_assign" and last["opd_id"] == "dinas-pupr"
    assert first["category"] == "pupr.jalan" and first["explanation"] == ["berlubang", "aspal"]
    assert [(c["category"], c["opd_id"], c["confidence"]) for c in first["candidates"]] == [
        ("pupr.jalan", "dinas-pupr", 0.42), ("lh.sampah", "dlh", 0.31)]
    assert first["suggestions"] == ["dinas-pupr", "dlh"] and first["reason"] == "not sure enough"


async def test_only_operators_of_its_jurisdiction_see_it(client):
    path = "/v1/complaints/2611230001/routing"
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=bearer("opd", opd="dinas-pupr"))).status_code == 403
    other = await client.get(path, headers=bearer(jurisdiction="kota-surabaya"))
    assert other.status_code == 404 and other.headers["content-type"] == "application/problem+json"
    assert (await client.get(path, headers=bearer(jurisdiction="kota-bandung"))).status_code == 200
    assert (await client.get("/v1/complaints/999/routing", headers=bearer())).status_code == 404


async def test_a_page_of_complaints_in_one_call_in_the_order_asked(client):
    answer = await client.get("/v1/routing", headers=bearer(), params=[
        ("tracking_number", "999"), ("tracking_number", "2611230001"), ("tracking_number", "2611230001")])
    assert answer.status_code == 200
    assert [r["tracking_number"] for r in answer.json()["items"]] == ["2611230001"]
    other = await client.get("/v1/routing", params={"tracking_number": "2611230001"},
                             headers=bearer(jurisdiction="kota-surabaya"))
    assert other.json()["items"] == []
    bad = await client.get("/v1/routing", params={"tracking_number": "x1"}, headers=bearer())
    assert bad.status_code == 422
    assert (await client.get("/v1/routing", headers=bearer())).status_code == 422
    too_many = [("tracking_number", str(n)) for n in range(101)]
    assert (await client.get("/v1/routing", params=too_many, headers=bearer())).status_code == 422
