"""Duplicate candidates on the real platform: two near-identical complaints a few metres apart
make the second's candidates name the first (operators' API on routing, and
`DuplicateCandidatesFound` on routing's events topic); an operator merges them through intake's
actions and the pair shows merged. Only operators see the list."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from devstack.stack import wait_until
from tests.e2e.test_channels import read_until
from tests.e2e.test_lifecycle import staff

pytestmark = pytest.mark.e2e

FIRST = ("Jalan amblas di Jl. Cikapundung Timur",
         "Mhn segera diperbaiki, jalan amblas dan berlubang dalam di dpn gerbang SMPN 7, "
         "sdh tiga hari motor jatuh.")
SECOND = ("Jalan amblas Jl Cikapundung Timur",
          "Mohon segera diperbaiki jalan yg amblas dan berlubang dalam di depan gerbang SMPN 7, "
          "sudah 3 hari banyak motor jatuh.")


@pytest.fixture
def routing(platform):
    with httpx.Client(base_url=platform.service_url("routing"), timeout=10) as client:
        yield client


def submit_at(api: httpx.Client, text: tuple[str, str], lat: float, lon: float) -> dict:
    response = api.post("/v1/complaints", json={
        "title": text[0], "description": text[1],
        "location": {"kecamatan": "Sumur Bandung", "lat": lat, "lon": lon},
        "reporter": {"name": "Warga", "email": f"warga-{uuid.uuid4().hex[:8]}@example.id"}})
    assert response.status_code == 201, response.text
    return response.json()


def test_near_identical_complaints_are_candidates_and_a_merge_settles_them(platform, api, routing):
    first = submit_at(api, FIRST, -6.90200, 107.61100)
    second = submit_at(api, SECOND, -6.90230, 107.61120)       # ~40 m away
    token = platform.staff_token("operator", subject=f"op-{uuid.uuid4().hex[:6]}")
    operator = {"Authorization": f"Bearer {token}"}

    def pairs_of(tracking_number: str) -> list[dict]:
        response = routing.get(f"/v1/complaints/{tracking_number}/duplicates", headers=operator)
        assert response.status_code == 200, response.text
        return response.json()

    [pair] = wait_until(lambda: pairs_of(second["tracking_number"]), 60, "duplicate pair found")
    assert pair["complaint"]["tracking_number"] == second["tracking_number"]
    assert pair["candidate"]["tracking_number"] == first["tracking_number"]
    assert pair["status"] == "open" and pair["similarity"] >= 0.65 and pair["distance_m"] < 100
    listed = routing.get("/v1/duplicates", params={"jurisdiction": pair["jurisdiction"]},
                         headers=operator).json()
    assert pair["id"] in [p["id"] for p in listed["items"]]
    elsewhere = {"Authorization": "Bearer " + platform.staff_token(
        "operator", subject="op-mks", jurisdiction="kota-makassar")}
    assert pair["jurisdiction"] == "kota-bandung"
    assert routing.get("/v1/duplicates", params={"jurisdiction": "kota-bandung"},
                       headers=elsewhere).status_code == 403
    assert routing.get(f"/v1/complaints/{second['tracking_number']}/duplicates",
                       headers=elsewhere).json() == []

    topic = f"{platform.c.topic_prefix}complaints.routing.events"

    def told(records) -> list[dict]:
        return [json.loads(r.value) for r in records
                if dict(r.headers).get("ce_type") == b"id.lapor.DuplicateCandidatesFound.v1"
                and json.loads(r.value)["tracking_number"] == second["tracking_number"]]
    [event] = told(read_until(platform, topic, told))
    assert [c["tracking_number"] for c in event["candidates"]] == [first["tracking_number"]]
    assert "Warga" not in json.dumps(event) and "example.id" not in json.dumps(event)

    # Routing has decided on both before the operator merges (intake's state machine).
    who = staff(platform, api, "operator")
    for receipt in (first, second):
        wait_until(lambda r=receipt: who.get(r["tracking_number"])["status"] != "submitted",
                   60, "routed")
    merged = who.act(second["tracking_number"], "merge", into=first["tracking_number"])
    assert merged["status"] == "merged"
    settled = wait_until(lambda: [p for p in pairs_of(first["tracking_number"])
                                  if p["status"] == "merged"], 60, "pair marked merged")
    assert settled[0]["id"] == pair["id"]
    assert routing.get("/v1/duplicates", params={"status": "merged"},
                       headers=operator).json()["total"] >= 1

    dismissed = routing.post(f"/v1/duplicates/{pair['id']}/dismiss", headers=operator)
    assert dismissed.status_code == 409
    assert dismissed.headers["content-type"] == "application/problem+json"


def test_only_operators_see_duplicates(platform, routing):
    assert routing.get("/v1/duplicates").status_code == 401
    opd = platform.staff_token("opd", opd="dinas-pupr", subject="pupr-1")
    forbidden = routing.get("/v1/duplicates", headers={"Authorization": f"Bearer {opd}"})
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"] == "application/problem+json"
    operator = {"Authorization": f"Bearer {platform.staff_token('operator', subject='op-x')}"}
    missing = routing.post("/v1/duplicates/999999/dismiss", headers=operator)
    assert missing.status_code == 404 and missing.json()["status"] == 404
