"""Open311 over HTTP against the in-memory twins: the spec's shapes in JSON and XML, its error
list (never RFC 9457) with the right status, API keys, and nothing personal in public reads."""

import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI

from backbone import problems
from backbone.pii import PiiCipher
from contracts.lifecycle import Action, Status
from intake import api_keys_api, handlers
from intake.adapters.uow import IntakeInMemoryUnitOfWork
from intake.domain.actions import TakeAction
from intake.domain.actors import Actor
from intake.domain.tokens import AccessTokens
from intake.open311 import errors, routes

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


class _Runtime:
    def __init__(self) -> None:
        self.uow = IntakeInMemoryUnitOfWork()

    def unit_of_work(self):
        return self.uow


@pytest.fixture
async def client():
    app = FastAPI()
    app.include_router(routes.router)
    app.state.runtime = _Runtime()
    app.state.clock = lambda: NOW
    app.state.settings = SimpleNamespace(
        default_jurisdiction="kota-contoh", public_base_url="http://lapor.test",
        open311_timezone="Asia/Jakarta", open311_contact="Diskominfo",
        open311_jurisdiction_ids=lambda: ("kota-contoh", "kota-lain"))
    app.state.submit_deps = handlers.SubmitDeps(
        clock=lambda: NOW, cipher=PiiCipher(PiiCipher.new_key()), tokens=AccessTokens(b"s" * 32),
        default_jurisdiction="kota-contoh")
    problems.install(app)
    app.add_middleware(errors.SpecErrors)
    key, secret = api_keys_api.new_key("fixmystreet", NOW)
    async with app.state.runtime.uow as uow:
        await uow.open311.add_key(key)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://lapor.test/open311/v2") as c:
        c.key, c.app = secret, app
        yield c


FORM = {"service_code": "pupr.jalan-rusak", "lat": "-6.9175", "long": "107.6191",
        "address_string": "Jl. Merdeka No. 10", "attribute[ukuran]": "besar",
        "description": "Jalan berlubang besar di depan SDN 3. Hubungi saya 0812-3456-7890.",
        "email": "siti@example.id", "first_name": "Siti", "last_name": "Rahayu",
        "phone": "+6281234567890", "media_url": "https://fms.example/photo/1.jpg"}


async def test_post_then_read_back_without_personal_data(client):
    posted = await client.post("/requests.json", data={**FORM, "api_key": client.key})
    assert posted.status_code == 201, posted.text
    [answer] = posted.json()
    number, token = answer["service_request_id"], answer["token"]
    assert (await client.get(f"/tokens/{token}.json")).json() == [
        {"service_request_id": number, "token": token}]
    [one] = (await client.get(f"/requests/{number}.json")).json()
    assert one["status"] == "open" and one["service_code"] == "pupr.jalan-rusak"
    assert one["lat"] == -6.9175 and one["media_url"] == FORM["media_url"]
    assert one["requested_datetime"] == "2026-11-23T09:00:00+07:00"
    listed = (await client.get("/requests.json", params={"service_code": "pupr.jalan-rusak"})).json()
    assert [r["service_request_id"] for r in listed] == [number]
    for text in ((await client.get(f"/requests/{number}.xml")).text, str(listed)):
        for personal in ("Siti", "Rahayu", "siti@", "3456", "6281234567890"):
            assert personal not in text
    uow = client.app.state.runtime.uow
    complaint = await uow.complaints.get_by_tracking_number(number)
    assert complaint.channel == "open311" and complaint.reporter.name == "Siti Rahayu"
    assert "Besar (> 2 m)" in complaint.description
    assert (await uow.open311.request_for(complaint.id)).attributes == {"ukuran": "besar"}
    submitted = next(e for e in uow.outbox.events if type(e).__name__ == "ComplaintSubmittedV1")
    assert submitted.frontend == "fixmystreet", "the front end's webhooks hear of it"


async def test_xml_uses_the_spec_element_names(client):
    services = ET.fromstring((await client.get("/services.xml")).content)
    assert services.tag == "services" and services[0].tag == "service"
    assert services.find("service/metadata").text in ("true", "false")
    definition = ET.fromstring((await client.get("/services/pupr.jalan-rusak.xml")).content)
    assert definition.tag == "service_definition"
    assert definition.find("attributes/attribute/values/value/key").text == "kecil"
    posted = await client.post("/requests.xml", data={**FORM, "api_key": client.key})
    root = ET.fromstring(posted.content)
    assert posted.headers["content-type"].startswith("text/xml")
    assert root.tag == "service_requests" and root.find("request/service_request_id").text


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("change,status,says", [
    ({"service_code": None}, 400, "service_code is required"),
    ({"api_key": "wrong"}, 403, "api_key"),
    ({"api_key": None}, 403, "api_key"),
    ({"service_code": "tidak.ada"}, 404, "service_code"),
    ({"attribute[ukuran]": None}, 400, "attribute[ukuran] is required"),
    ({"attribute[ukuran]": "raksasa"}, 400, "attribute[ukuran] must be one of"),
    ({"lat": None, "long": None, "address_string": None}, 400, "location is required"),
    ({"lat": "91"}, 400, "lat must be between"),
    ({"email": "bukan-email"}, 400, "email"),
    ({"jurisdiction_id": "kota-entah"}, 404, "jurisdiction_id"),
    ({"description": "ada \x00 nol"}, 400, "cannot be stored"),
])
async def test_refusals_are_the_spec_error_list(client, fmt, change, status, says):
    data = {**FORM, "api_key": client.key, **change}
    answer = await client.post(f"/requests.{fmt}", data={k: v for k, v in data.items() if v is not None})
    assert answer.status_code == status
    if fmt == "json":
        errors_ = answer.json()
        assert isinstance(errors_, list) and errors_[0]["code"] == status
        assert says in errors_[0]["description"]
    else:
        root = ET.fromstring(answer.content)
        assert root.tag == "errors" and root.find("error/code").text == str(status)
        assert says in root.find("error/description").text


async def test_unknown_paths_and_methods_answer_in_the_spec_format(client):
    missing = await client.get("/nothing.xml")
    assert missing.status_code == 404 and ET.fromstring(missing.content).tag == "errors"
    wrong = await client.delete("/requests.json")
    assert wrong.status_code == 405 and wrong.json()[0]["code"] == 405
    assert (await client.get("/requests/123.json")).status_code == 404
    assert (await client.get("/tokens/nope.json")).status_code == 404


async def test_filters_and_paging(client):
    numbers = []
    for _ in range(3):
        numbers.append((await client.post("/requests.json", data={**FORM, "api_key": client.key})).json()[0]["service_request_id"])
    page = await client.get("/requests.json", params={"page_size": 2})
    assert len(page.json()) == 2 and 'rel="next"' in page.headers["link"]
    by_id = await client.get("/requests.json", params={"service_request_id": f"{numbers[0]},{numbers[2]}"})
    assert sorted(r["service_request_id"] for r in by_id.json()) == sorted([numbers[0], numbers[2]])
    assert (await client.get("/requests.json", params={"status": "closed"})).json() == []
    assert len((await client.get("/requests.json", params={"status": "open"})).json()) == 3
    assert (await client.get("/requests.json", params={"start_date": "2026-11-24T00:00:00+07:00"})).json() == []
    bad = await client.get("/requests.json", params={"status": "pending"})
    assert bad.status_code == 400 and bad.json()[0]["code"] == 400


async def test_rahasia_complaints_are_not_served(client):
    uow = client.app.state.runtime.uow
    from intake.domain.commands import SubmitComplaint
    async with uow:
        receipt = await handlers.submit_complaint(SubmitComplaint(
            title="Rahasia", description="Laporan rahasia tentang pungutan", confidential=True,
            category="pendidikan.pungutan-sekolah"), uow, client.app.state.submit_deps)
    number = receipt.complaint.tracking_number
    assert (await client.get(f"/requests/{number}.json")).status_code == 404
    assert (await client.get("/requests.json", params={"service_request_id": number})).json() == []


async def test_updates_round_trip(client):
    number = (await client.post("/requests.json", data={**FORM, "api_key": client.key})).json()[0]["service_request_id"]
    uow = client.app.state.runtime.uow
    async with uow:
        await handlers._apply_system(uow, (await uow.complaints.get_by_tracking_number(number)).id,
                                     TakeAction(Action.ASSIGN, opd_id="dinas-pupr", opd_name="Dinas PUPR"),
                                     "routing", NOW)
    async with uow:
        await handlers.take_action(number, TakeAction(Action.RESPOND, note="Tim meninjau Senin."),
                                   handlers.Caller(Actor(role=__import__("contracts.lifecycle").lifecycle.Role.OPD,
                                                         opd_id="dinas-pupr", subject="budi")),
                                   uow, lambda: NOW)
    updates = (await client.get("/servicerequestupdates.json", params={"start_date": "2026-11-01T00:00:00Z"})).json()
    mine = [u for u in updates if u["service_request_id"] == number]
    assert [u["description"] for u in mine][-1] == "Tim meninjau Senin."
    [one] = (await client.get(f"/requests/{number}.json")).json()
    assert one["status_notes"] == "Tim meninjau Senin." and one["agency_responsible"] == "Dinas PUPR"
    other_key, other_secret = api_keys_api.new_key("lain", NOW)
    async with uow:
        await uow.open311.add_key(other_key)
    refused = await client.post("/servicerequestupdates.json", data={
        "api_key": other_secret, "service_request_id": number, "status": "OPEN", "description": "x"})
    assert refused.status_code == 404
    posted = await client.post("/servicerequestupdates.xml", data={
        "api_key": client.key, "service_request_id": number, "status": "OPEN",
        "description": "Lubangnya makin besar.", "email": "siti@example.id"})
    assert posted.status_code == 200, posted.text
    root = ET.fromstring(posted.content)
    assert root.tag == "service_request_updates" and root.find("request_update/update_id").text
    assert (await uow.complaints.get_by_tracking_number(number)).status is Status.CITIZEN_REPLIED
    again = await client.post("/servicerequestupdates.json", data={
        "api_key": client.key, "service_request_id": number, "status": "OPEN", "description": "lagi"})
    assert again.status_code == 400 and "does not await" in again.json()[0]["description"]
    updates = (await client.get("/servicerequestupdates.json", params={"start_date": "2026-11-01T00:00:00Z"})).json()
    assert "Lubangnya" not in str(updates) and "Pelapor memberikan tanggapan." in str(updates)


async def test_a_retry_with_an_idempotency_key_answers_the_first_request(client):
    """A front end that lost the answer posts again: the first service request comes back,
    the complaint is filed once; another form under the same key is refused."""
    retry = {"Idempotency-Key": "fms-report-4711"}
    first = await client.post("/requests.json", data={**FORM, "api_key": client.key}, headers=retry)
    again = await client.post("/requests.json", data={**FORM, "api_key": client.key}, headers=retry)
    assert first.status_code == again.status_code == 201, again.text
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.json()[0]["service_request_id"] == first.json()[0]["service_request_id"]
    assert again.json()[0]["token"] == first.json()[0]["token"]
    assert len(client.app.state.runtime.uow.complaints.rows) == 1

    other = await client.post("/requests.json", headers=retry, data={
        **FORM, "api_key": client.key, "attribute[ukuran]": "kecil"})
    assert other.status_code == 422
    assert other.json()[0]["code"] == 422 and "Idempotency-Key" in other.json()[0]["description"]
    assert len(client.app.state.runtime.uow.complaints.rows) == 1


async def test_idempotency_keys_belong_to_one_front_end(client):
    """Two front ends that happen to choose the same key file two complaints; neither ever
    gets the other's request back."""
    key, secret = api_keys_api.new_key("lapor-app", NOW)
    async with client.app.state.runtime.uow as uow:
        await uow.open311.add_key(key)
    retry = {"Idempotency-Key": "report-00000001"}
    mine = await client.post("/requests.json", data={**FORM, "api_key": client.key}, headers=retry)
    theirs = await client.post("/requests.json", data={**FORM, "api_key": secret}, headers=retry)
    assert mine.status_code == theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()[0]["service_request_id"] != mine.json()[0]["service_request_id"]


@pytest.mark.parametrize("value", ["short", "k" * 256])
async def test_an_idempotency_key_out_of_bounds_is_a_400(client, value):
    posted = await client.post("/requests.xml", data={**FORM, "api_key": client.key},
                               headers={"Idempotency-Key": value})
    assert posted.status_code == 400 and b"Idempotency-Key" in posted.content
    assert not client.app.state.runtime.uow.complaints.rows
