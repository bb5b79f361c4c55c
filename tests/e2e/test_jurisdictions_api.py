"""Jurisdictions over HTTP on the running platform: the public list, an operator's change in
force at once without a restart and in the audit history, and who may not change anything."""

import copy
import uuid

import httpx
import pytest

from devstack.stack import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def routing(platform):
    with httpx.Client(base_url=platform.service_url("routing"), timeout=10) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_public_list_names_three_jurisdictions_with_iana_zones(routing):
    listed = routing.get("/v1/jurisdictions")
    assert listed.status_code == 200
    assert {j["id"]: j["timezone"] for j in listed.json()} == {
        "kota-bandung": "Asia/Jakarta", "kota-makassar": "Asia/Makassar",
        "kota-jayapura": "Asia/Jayapura"}
    assert {j["name"] for j in listed.json()} == {"Kota Bandung", "Kota Makassar", "Kota Jayapura"}
    makassar = routing.get("/v1/jurisdictions/kota-makassar").json()
    assert makassar["version"] >= 1 and len(makassar["opds"]) >= 25
    missing = routing.get("/v1/jurisdictions/kota-entah")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_an_operators_change_is_in_force_at_once_and_in_the_history(platform, routing):
    subject = f"op-{uuid.uuid4().hex[:6]}"
    operator = bearer(platform.staff_token("operator", subject=subject))
    before = routing.get("/v1/jurisdictions/kota-jayapura").json()
    config = copy.deepcopy({k: v for k, v in before.items() if k != "version"})
    pohon = next(r for r in config["rules"] if r["category"] == "lingkungan")
    config["rules"].insert(config["rules"].index(pohon),
                           {"category": "lingkungan.pohon", "kecamatan": "Abepura", "opd": "distrik-abepura"})
    changed = routing.put("/v1/jurisdictions/kota-jayapura", headers=operator, json={
        "config": config, "reason": "pohon tumbang di Abepura ditangani distrik",
        "based_on_version": before["version"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == before["version"] + 1

    after = routing.get("/v1/jurisdictions/kota-jayapura").json()   # no restart in between
    assert after["version"] == before["version"] + 1
    assert {"category": "lingkungan.pohon", "kecamatan": "Abepura",
            "opd": "distrik-abepura"} in after["rules"]

    history = routing.get("/v1/jurisdictions/kota-jayapura/history", headers=operator)
    assert history.status_code == 200
    newest, *older = history.json()
    assert (newest["version"], newest["source"], newest["changed_by"], newest["reason"]) == (
        after["version"], "api", subject, "pohon tumbang di Abepura ditangani distrik")
    assert older[-1]["version"] == 1 and older[-1]["source"] == "file"
    first = routing.get("/v1/jurisdictions/kota-jayapura/versions/1", headers=operator).json()
    assert before["version"] == 1 and first["source"] == "file"
    assert first["config"] == {k: v for k, v in before.items() if k != "version"}

    stale = routing.put("/v1/jurisdictions/kota-jayapura", headers=operator, json={
        "config": config, "reason": "again, on an old copy", "based_on_version": before["version"]})
    assert stale.status_code == 409 and stale.json()["current_version"] == after["version"]


def test_a_configuration_that_does_not_hold_together_is_a_problem(platform, routing):
    operator = bearer(platform.staff_token("operator"))
    config = {k: v for k, v in routing.get("/v1/jurisdictions/kota-makassar").json().items()
              if k != "version"}
    config["rules"] = [{"category": "kesehatan", "opd": "dinas-tidak-ada"}, *config["rules"]]
    refused = routing.put("/v1/jurisdictions/kota-makassar", headers=operator,
                          json={"config": config, "reason": "typo"})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert "dinas-tidak-ada" in str(refused.json()["errors"])
    no_reason = routing.put("/v1/jurisdictions/kota-makassar", headers=operator,
                            json={"config": {**config, "rules": config["rules"][1:]}})
    assert no_reason.status_code == 422
    assert routing.get("/v1/jurisdictions/kota-makassar/history", headers=operator).json()[0][
        "source"] == "file"


def test_only_operators_of_the_jurisdiction_may_change_or_read_its_history(platform, routing):
    body = {"config": {k: v for k, v in routing.get("/v1/jurisdictions/kota-bandung").json().items()
                       if k != "version"}, "reason": "coba"}
    url = "/v1/jurisdictions/kota-bandung"
    anonymous = routing.put(url, json=body)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert routing.get(f"{url}/history").status_code == 401
    assert routing.put(url, json=body, headers=bearer("a.b.c")).status_code == 401
    opd = bearer(platform.staff_token("opd", opd="dinas-pupr"))
    assert routing.put(url, json=body, headers=opd).status_code == 403
    assert routing.get(f"{url}/history", headers=opd).status_code == 403
    makassar_operator = bearer(platform.staff_token("operator", jurisdiction="kota-makassar"))
    assert routing.put(url, json=body, headers=makassar_operator).status_code == 403
    assert routing.get(f"{url}/versions/1", headers=makassar_operator).status_code == 403
    assert routing.get(url).json()["version"] == 1     # nothing changed


def test_classify_reads_a_text_and_says_where_it_goes_and_how_sure(routing):
    answer = routing.post("/v1/classify", json={
        "title": "jln rusak parah", "jurisdiction": "kota-bandung",
        "description": "Mhn diperbaiki, jln berlubang besar dpn SDN 3 sdh 2 minggu, bahaya bgt"})
    assert answer.status_code == 200, answer.text
    read = answer.json()
    assert read["main_category"]["code"] == "pupr" and read["subcategory"]["code"] == "pupr.jalan-rusak"
    assert read["opd"]["opd_id"] == "dinas-pupr" and read["decision"] == "auto"
    assert read["report_type"] == "pengaduan" and read["urgency"] in ("sedang", "tinggi")
    assert len(read["alternatives"]) <= 3 and read["explanation"]
    unsure = routing.post("/v1/classify", json={"title": "Mohon ditindaklanjuti",
                                                 "description": "Sudah lama dibiarkan begitu saja."})
    assert unsure.json()["decision"] == "triage" and unsure.json()["opd"] is None
    unknown = routing.post("/v1/classify", json={"title": "x", "description": "y",
                                                 "jurisdiction": "kota-atlantis"})
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("application/problem+json")
    assert routing.post("/v1/classify", json={"title": ""}).status_code == 422


def test_a_rule_changed_through_the_api_routes_the_next_complaint_without_a_restart(platform, routing):
    """A Bandung operator gives street lighting to the kecamatan office of Coblong; the next
    complaint about a dead street light there goes to it, no restart in between."""
    operator = bearer(platform.staff_token("operator", subject="op-pju"))
    before = routing.get("/v1/jurisdictions/kota-bandung").json()
    config = copy.deepcopy({k: v for k, v in before.items() if k != "version"})
    config["rules"].insert(0, {"category": "perhubungan.pju", "kecamatan": "Coblong",
                               "opd": "kecamatan-coblong"})
    changed = routing.put("/v1/jurisdictions/kota-bandung", headers=operator, json={
        "config": config, "reason": "PJU di Coblong ditangani kecamatan",
        "based_on_version": before["version"]})
    assert changed.status_code == 200, changed.text
    with httpx.Client(base_url=platform.service_url("intake"), timeout=10) as api:
        receipt = api.post("/v1/complaints", json={
            "title": "Lampu jalan mati", "location": {"kecamatan": "Coblong"},
            "description": "Lampu PJU di jalan Dago mati sudah seminggu, gelap dan rawan begal."})
        assert receipt.status_code == 201, receipt.text
        citizen = {"Authorization": f"Bearer {receipt.json()['access_token']}"}
        tn = receipt.json()["tracking_number"]

        def routed():
            view = api.get(f"/v1/complaints/{tn}", headers=citizen).json()
            return view if view["status"] != "submitted" else None
        view = wait_until(routed, 60, "routed")
    assert view["status"] == "disposed" and view["assigned_opd"]["id"] == "kecamatan-coblong"
