"""Open311 GeoReport v2 on the real platform, as a front end such as FixMyStreet speaks it:
discovery, services, a service definition, POST a request (form-encoded, api_key), its token,
GET the list with filters and one request, and mySociety's servicerequestupdates (GET, POST),
in JSON and in XML. Every answer is validated against the GeoReport v2 JSON schemas in
tests/schemas/open311/ (an XML answer after reading it into the same shape); refusals are the
spec's error list."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import jsonschema
import pytest

from devstack.stack import wait_until

pytestmark = pytest.mark.e2e

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas" / "open311"
V2 = "/open311/v2"
LISTS = {"services": "service", "attributes": "attribute", "values": "value",
         "endpoints": "endpoint", "formats": "format", "service_requests": "request",
         "service_request_updates": "request_update", "errors": "error"}
BOOLEANS = {"metadata", "variable", "required"}
NUMBERS = {"lat": float, "long": float, "order": int, "error/code": int}


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.json").read_text())


def from_xml(content: bytes, root: str):
    """An XML answer in the JSON shape: repeated items as lists, typed scalars."""
    element = ET.fromstring(content)
    assert element.tag == root, f"root element {element.tag}, not {root}"
    return _read(element)


def _read(element: ET.Element, parent: str = ""):
    if element.tag in LISTS:
        item = LISTS[element.tag]
        assert all(child.tag == item for child in element), f"{element.tag} holds only {item}"
        return [_read(child, element.tag) for child in element]
    if len(element):
        return {child.tag: _read(child, element.tag) for child in element}
    text = element.text or ""
    if element.tag in BOOLEANS:
        assert text in ("true", "false")
        return text == "true"
    kind = NUMBERS.get(element.tag) or NUMBERS.get(f"{parent}/{element.tag}")
    return kind(text) if kind else text


def answer(response, root: str, name: str, fmt: str, status: int = 200):
    assert response.status_code == status, response.text
    if fmt == "xml":
        assert response.headers["content-type"].startswith("text/xml")
        assert response.content.startswith(b"<?xml version='1.0' encoding='UTF-8'?>") or \
            response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        data = from_xml(response.content, root)
    else:
        assert response.headers["content-type"].startswith("application/json")
        data = response.json()
        data = [{k: v for k, v in d.items() if v is not None} for d in data] \
            if isinstance(data, list) else data
    jsonschema.validate(data, schema(name))
    return data


@pytest.fixture(scope="module")
def api_key(platform):
    """Issued by an operator, as a city issues one to each front end; shown once."""
    operator = {"Authorization": f"Bearer {platform.staff_token('operator')}"}
    with httpx.Client(base_url=platform.service_url("intake"), timeout=10) as api:
        issued = api.post("/v1/api-keys", json={"name": "fixmystreet-e2e"}, headers=operator)
        assert issued.status_code == 201, issued.text
        assert issued.json()["api_key"] not in api.get("/v1/api-keys", headers=operator).text
    return issued.json()["api_key"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_front_end_round_trip(platform, api, api_key, fmt):
    word = f"lubang{uuid.uuid4().hex[:6]}"
    discovery = answer(api.get(f"{V2}/discovery.{fmt}"), "discovery", "discovery", fmt)
    assert discovery["endpoints"][0]["url"].endswith(V2)
    services = answer(api.get(f"{V2}/services.{fmt}"), "services", "services", fmt)
    road = next(s for s in services if s["service_code"] == "pupr.jalan-rusak")
    assert road["metadata"] is True and road["group"] == "Pekerjaan Umum dan Penataan Ruang"
    definition = answer(api.get(f"{V2}/services/pupr.jalan-rusak.{fmt}"),
                        "service_definition", "service_definition", fmt)
    required = [a["code"] for a in definition["attributes"] if a["required"]]
    assert required == ["ukuran"]

    email = f"warga-{uuid.uuid4().hex[:6]}@example.id"
    form = {"api_key": api_key, "jurisdiction_id": "kota-bandung", "service_code": "pupr.jalan-rusak",
            "lat": "-6.9175", "long": "107.6191", "address_string": "Jl. Merdeka No. 10",
            "attribute[ukuran]": "besar", "attribute[membahayakan]": "ya",
            "description": f"Jalan berlubang besar ({word}) di depan SDN 3, sudah dua minggu.",
            "email": email, "first_name": "Siti", "last_name": "Rahayu", "phone": "081234567890",
            "media_url": "https://fms.example/photo/1.jpeg", "device_id": "dev-1", "account_id": "acc-9"}
    [created] = answer(api.post(f"{V2}/requests.{fmt}", data=form), "service_requests",
                       "post_service_request", fmt, 201)
    number, token = created["service_request_id"], created["token"]
    assert created["account_id"] == "acc-9"
    [by_token] = answer(api.get(f"{V2}/tokens/{token}.{fmt}"), "service_requests", "token", fmt)
    assert by_token == {"service_request_id": number, "token": token}

    listed = answer(api.get(f"{V2}/requests.{fmt}", params={
        "service_code": "pupr.jalan-rusak", "status": "open", "start_date": "2026-01-01T00:00:00+07:00",
        "end_date": "2099-01-01T00:00:00Z", "page_size": 200, "jurisdiction_id": "kota-bandung"}),
        "service_requests", "service_requests", fmt)
    assert number in [r["service_request_id"] for r in listed]
    by_ids = answer(api.get(f"{V2}/requests.{fmt}", params={"service_request_id": f"{number},999999999"}),
                    "service_requests", "service_requests", fmt)
    assert [r["service_request_id"] for r in by_ids] == [number]
    assert answer(api.get(f"{V2}/requests.{fmt}", params={"service_request_id": number, "status": "closed"}),
                  "service_requests", "service_requests", fmt)   # ids win over the other filters

    def routed():
        [one] = answer(api.get(f"{V2}/requests/{number}.{fmt}"), "service_requests",
                       "service_requests", fmt)
        return one if one.get("agency_responsible") else None
    one = wait_until(routed, 60, "routed to an OPD")
    assert one["status"] == "open" and one["lat"] == -6.9175 and one["media_url"].endswith("1.jpeg")
    assert "besar" in one["description"].lower()
    for personal in ("Siti", "Rahayu", email, "81234567890", "dev-1", "acc-9"):
        assert personal not in str(one) and personal not in str(listed)

    operator = {"Authorization": f"Bearer {platform.staff_token('operator')}"}
    opd_id = api.get(f"/v1/complaints/{number}", headers=operator).json()["assigned_opd"]["id"]
    opd = {"Authorization": f"Bearer {platform.staff_token('opd', opd=opd_id)}"}
    acted = api.post(f"/v1/complaints/{number}/actions", headers=opd,
                     json={"action": "respond", "note": f"Tim meninjau {word} hari Senin."})
    assert acted.status_code == 200, acted.text

    updates = answer(api.get(f"{V2}/servicerequestupdates.{fmt}", params={
        "start_date": "2026-01-01T00:00:00Z", "end_date": "2099-01-01T00:00:00Z"}),
        "service_request_updates", "service_request_updates", fmt)
    mine = [u for u in updates if u["service_request_id"] == number]
    assert mine[-1]["description"] == f"Tim meninjau {word} hari Senin."
    [one] = answer(api.get(f"{V2}/requests/{number}.{fmt}"), "service_requests", "service_requests", fmt)
    assert one["status_notes"] == f"Tim meninjau {word} hari Senin."

    [posted] = answer(api.post(f"{V2}/servicerequestupdates.{fmt}", data={
        "api_key": api_key, "service_request_id": number, "status": "OPEN",
        "updated_datetime": "2026-11-23T10:00:00+07:00", "description": "Lubangnya makin besar.",
        "email": email, "first_name": "Siti", "last_name": "Rahayu"}),
        "service_request_updates", "post_service_request_update", fmt)
    assert int(posted["update_id"]) > int(mine[-1]["update_id"])
    view = api.get(f"/v1/complaints/{number}", headers=operator).json()
    assert view["status"] == "citizen_replied"
    after = answer(api.get(f"{V2}/servicerequestupdates.{fmt}", params={"start_date": "2026-01-01T00:00:00Z"}),
                   "service_request_updates", "service_request_updates", fmt)
    assert "Lubangnya" not in str(after), "the citizen's own words are not published"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_refusals_are_the_spec_error_list(api, api_key, fmt):
    form = {"api_key": api_key, "lat": "-6.9", "long": "107.6", "description": "Sampah menumpuk di TPS."}
    missing = answer(api.post(f"{V2}/requests.{fmt}", data=form), "errors", "errors", fmt, 400)
    assert "service_code" in missing[0]["description"] and missing[0]["code"] == 400
    bad_key = answer(api.post(f"{V2}/requests.{fmt}", data={**form, "service_code": "lingkungan.sampah",
                                                          "api_key": "bukan-kunci"}),
                     "errors", "errors", fmt, 403)
    assert bad_key[0]["code"] == 403
    unknown = answer(api.get(f"{V2}/requests/999999999.{fmt}"), "errors", "errors", fmt, 404)
    assert unknown[0]["code"] == 404
    answer(api.get(f"{V2}/services.{fmt}", params={"jurisdiction_id": "kota-entah"}), "errors",
           "errors", fmt, 404)


def test_a_retried_post_with_an_idempotency_key_files_one_complaint(platform, api, api_key):
    """A front end that lost the answer (a timeout, a dropped connection) posts again with the
    same Idempotency-Key: it gets the first service request back, including when the two
    arrive at once; the same key with another form is refused."""
    form = {"api_key": api_key, "service_code": "lingkungan.sampah", "lat": "-6.91", "long": "107.61",
            "description": f"Sampah menumpuk di TPS ({uuid.uuid4().hex[:6]}), sudah seminggu."}
    retry = {"Idempotency-Key": f"fms-{uuid.uuid4()}"}
    [first] = answer(api.post(f"{V2}/requests.json", data=form, headers=retry), "service_requests",
                     "post_service_request", "json", 201)
    again = api.post(f"{V2}/requests.xml", data=form, headers=retry)
    [replayed] = answer(again, "service_requests", "post_service_request", "xml", 201)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert (replayed["service_request_id"], replayed["token"]) == (first["service_request_id"],
                                                                   first["token"])
    changed = api.post(f"{V2}/requests.json", data={**form, "lat": "-6.92"}, headers=retry)
    [refused] = answer(changed, "errors", "errors", "json", 422)
    assert "Idempotency-Key" in refused["description"]

    together = {"Idempotency-Key": f"fms-{uuid.uuid4()}"}
    url = platform.service_url("intake") + f"{V2}/requests.json"

    def post():
        with httpx.Client(timeout=10) as client:
            return client.post(url, data=form, headers=together)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: post(), range(4)))
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert len({a.json()[0]["service_request_id"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 3
