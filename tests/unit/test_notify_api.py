"""notify's HTTP API on the in-memory twins: the citizen's preferences with their access token
(masked addresses, anonymity kept, bad choices as RFC 9457 problems), operators' directory of
staff addresses and webhooks (scoped, secrets shown once), and the delivery log."""

import hashlib
import uuid

import httpx
import pytest
from fastapi import FastAPI

from backbone import problems
from backbone.staff_auth import JwtSettings, JwtVerifier
from devstack import tokens
from devstack.tokens import SigningKey
from notify import deliveries_api, directory_api, preferences_api
from tests.unit.notify_world import CIPHER, NOW, Citizen, World

pytestmark = pytest.mark.unit
KEY = SigningKey.generate()
TOKEN = "citizen-access-token-0123456789"
PROBLEM = "application/problem+json"


def bearer(role="operator", **claims) -> dict:
    return {"authorization": "Bearer " + KEY.mint(role, **claims)}


class _Runtime:
    def __init__(self, uow) -> None:
        self._uow = uow

    def unit_of_work(self):
        return self._uow


@pytest.fixture
async def world():
    w = World()
    app = FastAPI()
    for router in (preferences_api.router, directory_api.router, deliveries_api.router):
        app.include_router(router)
    problems.install(app)
    app.state.runtime = _Runtime(w.uow)
    app.state.cipher, app.state.composer = CIPHER, w.composer
    app.state.staff_tokens = JwtVerifier(JwtSettings(public_key=KEY.public_pem,
                                                     audience=tokens.AUDIENCE, issuer=tokens.ISSUER))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notify") as c:
        w.http = c
        yield w


def me(token=TOKEN) -> dict:
    return {"authorization": f"Bearer {token}"}


async def known(w, **kwargs) -> Citizen:
    citizen = Citizen(token_hash=hashlib.sha256(TOKEN.encode()).hexdigest(), **kwargs)
    await w.feed(citizen.submitted, citizen.contact)
    return citizen


async def test_the_citizen_sees_and_changes_how_they_are_told(world):
    await known(world, phone="+6281234567890")
    url = "/v1/complaints/1000007/notification-preferences"
    assert (await world.http.get(url)).status_code == 401
    for wrong in (me("not-the-token"),):
        answer = await world.http.get(url, headers=wrong)
        assert answer.status_code == 404 and answer.headers["content-type"] == PROBLEM
    assert (await world.http.get("/v1/complaints/1000008/notification-preferences", headers=me())).status_code == 404
    view = (await world.http.get(url, headers=me())).json()
    assert view["channels"] == ["email", "whatsapp", "sms"] and view["chosen_channels"] is None
    assert view["email"] == "s***@example.id" and view["phone"] == "+6281****890"
    changed = await world.http.put(url, headers=me(), json={"channels": ["whatsapp", "email"],
                                                            "language": "en", "quiet_hours": "off"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["channels"] == ["whatsapp", "email"] and changed.json()["language"] == "en"
    assert (await world.http.get(url, headers=me())).json()["quiet_hours"] == "off"


async def test_bad_choices_are_problems(world):
    await known(world, email="a@example.id")
    url = "/v1/complaints/1000007/notification-preferences"
    for body in ({"channels": ["sms"]}, {"channels": ["email", "email"]}, {"channels": ["fax"]},
                 {"quiet_hours": "25:00-07:00"}, {"phone": "0812345"}, {"email": "bukan-email"},
                 {"surprise": 1}):
        answer = await world.http.put(url, headers=me(), json=body)
        assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM, body
    added = await world.http.put(url, headers=me(), json={"phone": "6281298765432", "channels": ["sms", "email"]})
    assert added.status_code == 200 and added.json()["channels"] == ["sms", "email"]
    assert added.json()["phone"] == "+6281****432"


async def test_an_anonymous_reporter_keeps_the_channel_they_gave(world):
    await known(world, phone="+6281234567890", channel="whatsapp", anonymous=True)
    url = "/v1/complaints/1000007/notification-preferences"
    view = (await world.http.get(url, headers=me())).json()
    assert view["anonymous"] and view["channels"] == ["whatsapp"]
    refused = await world.http.put(url, headers=me(), json={"channels": ["email"]})
    assert refused.status_code == 422
    assert (await world.http.put(url, headers=me(), json={"email": "x@example.id"})).status_code == 422
    assert (await world.http.put(url, headers=me(), json={"language": "en"})).status_code == 200


async def test_operators_keep_the_directory_scoped_and_masked(world):
    body = {"jurisdiction": "kota-bandung", "role": "opd_staff", "opd_id": "dlh", "channel": "email",
            "address": "pengaduan@dlh.bandung.go.id"}
    assert (await world.http.post("/v1/staff-addresses", json=body)).status_code == 401
    assert (await world.http.post("/v1/staff-addresses", json=body,
                                  headers=bearer("opd", opd="dlh"))).status_code == 403
    assert (await world.http.post("/v1/staff-addresses", json=body,
                                  headers=bearer(jurisdiction="kota-makassar"))).status_code == 403
    added = await world.http.post("/v1/staff-addresses", json=body, headers=bearer())
    assert added.status_code == 201 and added.json()["address"] == "p***@dlh.bandung.go.id"
    for bad in ({**body, "opd_id": None}, {**body, "role": "operator"},
                {**body, "channel": "sms", "address": "0812"}, {**body, "digest": True}):
        answer = await world.http.post("/v1/staff-addresses", json=bad, headers=bearer())
        assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM, bad
    mine = await world.http.get("/v1/staff-addresses", headers=bearer(jurisdiction="kota-makassar"))
    assert mine.json() == []
    listed = (await world.http.get("/v1/staff-addresses", headers=bearer())).json()
    assert [a["id"] for a in listed] == [added.json()["id"]]
    assert (await world.http.delete(f"/v1/staff-addresses/{added.json()['id']}",
                                    headers=bearer(jurisdiction="kota-makassar"))).status_code == 404
    assert (await world.http.delete(f"/v1/staff-addresses/{added.json()['id']}",
                                    headers=bearer())).status_code == 204


async def test_a_webhook_secret_is_shown_once(world):
    made = await world.http.post("/v1/webhooks", headers=bearer(),
                                 json={"frontend": "fixmystreet-kota", "url": "https://fe.test/hook"})
    assert made.status_code == 201 and made.json()["secret"].startswith("whsec_")
    listed = (await world.http.get("/v1/webhooks", headers=bearer())).json()
    assert listed and "secret" not in listed[0]
    bad = await world.http.post("/v1/webhooks", headers=bearer(), json={"frontend": "x", "url": "ftp://x"})
    assert bad.status_code == 422


async def test_the_delivery_log_for_the_citizen_and_operators_and_a_retry(world):
    citizen = await known(world, email="a@example.id")
    world.mailer.fail_times = 99
    await world.feed(citizen.disposed())
    await world.drain()
    url = "/v1/complaints/1000007/deliveries"
    log = (await world.http.get(url, headers=me())).json()
    assert {d["status"] for d in log} == {"failed"} and len(log) == 2
    assert [a["outcome"] for a in log[0]["log"]][-1] == "failed"
    assert "a@example.id" not in str(log)
    assert (await world.http.get(url, headers=bearer())).json() == log
    assert (await world.http.get(url, headers=bearer("opd", opd="dlh"))).status_code == 403
    assert (await world.http.get(url, headers=me("wrong"))).status_code == 404
    failed = log[0]["id"]
    assert (await world.http.post(f"/v1/deliveries/{failed}/retry", headers=me())).status_code == 401
    assert (await world.http.post(f"/v1/deliveries/{failed}/retry", headers=bearer())).status_code == 202
    assert (await world.http.post(f"/v1/deliveries/{failed}/retry", headers=bearer())).status_code == 404
    assert (await world.http.post(f"/v1/deliveries/{uuid.uuid4()}/retry", headers=bearer())).status_code == 404
    world.mailer.fail_times = 0
    await world.dispatch(NOW + __import__("datetime").timedelta(days=3))
    assert [m.headers["X-Lapor-Tracking-Number"] for m in world.mailer.sent] == ["1000007"]
