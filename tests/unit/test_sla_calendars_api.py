"""sla's calendar routes on the in-memory twin (the same routes on PostgreSQL:
tests/integration/test_sla_config_api.py): public answers with exact strings, problems for bad
parameters, and changes by operators only (a jurisdiction's operator for that one alone)."""

from datetime import date, timedelta

import httpx
import pytest
from fastapi import FastAPI

from backbone import problems
from backbone.staff_auth import JwtSettings, JwtVerifier
from devstack import tokens
from devstack.tokens import SigningKey
from sla import calendars_api
from sla.calendar_registry import FixedCalendars

pytestmark = pytest.mark.unit
KEY = SigningKey.generate()
BANDUNG = "/v1/calendars/kota-bandung"
MOVE_TO = date(2026, 5, 26)


@pytest.fixture
def registry() -> FixedCalendars:
    return FixedCalendars()


@pytest.fixture
async def client(registry):
    app = FastAPI()
    app.include_router(calendars_api.calendars_router())
    problems.install(app)
    app.state.calendars = registry
    app.state.staff_tokens = JwtVerifier(JwtSettings(
        public_key=KEY.public_pem, audience=tokens.AUDIENCE, issuer=tokens.ISSUER))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://sla") as c:
        yield c


def bearer(role="operator", **claims):
    return {"authorization": "Bearer " + KEY.mint(role, **claims)}


async def deadline(client, jurisdiction, start, n):
    answer = await client.get(f"/v1/calendars/{jurisdiction}/deadline",
                              params={"start": start, "working_days": n})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_the_deadline_answer_has_the_local_offset_and_says_what_it_used(client):
    body = await deadline(client, "kota-makassar", "2026-03-17T09:00:00+08:00", 3)
    assert body == {
        "deadline": "2026-03-27T23:59:59+08:00", "jurisdiction": "kota-makassar",
        "timezone": "Asia/Makassar", "start": "2026-03-17T09:00:00+08:00", "working_days": 3,
        "day_zero": "2026-03-17", "calendar_version": body["calendar_version"],
        "uses_national": False}
    national = await deadline(client, "kabupaten-tanpa-kalender", "2026-03-17", 3)
    assert national["uses_national"] and national["timezone"] == "Asia/Jakarta"
    assert national["deadline"] == "2026-03-27T23:59:59+07:00"


@pytest.mark.parametrize("start, understood", [
    ("2026-11-21T09:00:00+07:00", "2026-11-21T09:00:00+07:00"),
    ("2026-11-21T09:00:00 07:00", "2026-11-21T09:00:00+07:00"),       # '+' arrived as a space
    ("2026-11-21 09:00:00 07:00", "2026-11-21T09:00:00+07:00"),
    ("2026-11-21T09:00:00.250 0700", "2026-11-21T09:00:00.250000+07:00"),
    ("2026-11-21T02:00:00Z", "2026-11-21T02:00:00+00:00"),
    ("2026-11-21T02:00:00.5z", "2026-11-21T02:00:00.500000+00:00"),
    ("2026-11-21T09:00:00,5+07:00", "2026-11-21T09:00:00.500000+07:00"),
    ("2026-11-21", "2026-11-21T00:00:00+07:00"),                        # 00:00 local
    ("2026-11-20T20:00:00-05:00", "2026-11-20T20:00:00-05:00"),        # Sat 08:00 WIB
])
async def test_start_is_read_liberally(client, start, understood):
    body = await deadline(client, "kota-bandung", start, 0)
    assert body["start"] == understood
    assert body["deadline"] == "2026-11-23T23:59:59+07:00"     # a Saturday: Monday is day 0


async def test_an_unencoded_query_string_is_understood(client):
    answer = await client.get(
        "/v1/calendars/kota-jayapura/deadline?start=2026-11-20T16:30:00+09:00&working_days=1")
    assert answer.status_code == 200, answer.text
    assert answer.json()["deadline"] == "2026-11-23T23:59:59+09:00"


@pytest.mark.parametrize("params, field, status", [
    ({"start": "kemarin", "working_days": "3"}, "start", 400),
    ({"start": "2026-03-17T09:00:00", "working_days": "3"}, "start", 400),     # no offset
    ({"start": "2026-02-30", "working_days": "3"}, "start", 400),
    ({"start": "1999-12-31T23:00:00Z", "working_days": "3"}, "start", 400),
    ({"start": "2026-03-17T09:00:00Z", "working_days": "-1"}, "working_days", 400),
    ({"start": "2026-03-17T09:00:00Z", "working_days": "tiga"}, "working_days", 400),
    ({"start": "2026-03-17T09:00:00Z", "working_days": "1001"}, "working_days", 400),
    ({"start": "2026-03-17T09:00:00Z", "working_days": "2.5"}, "working_days", 400),
    ({"start": "2026-03-17T09:00:00Z", "working_days": "1_0"}, "working_days", 400),
    ({"working_days": "3"}, "start", 422),
    ({"start": "2026-03-17T09:00:00Z"}, "working_days", 422),
])
async def test_bad_parameters_get_a_problem_naming_the_field(client, params, field, status):
    answer = await client.get(f"{BANDUNG}/deadline", params=params)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in {e["field"].split(".")[-1] for e in answer.json()["errors"]}


async def test_a_start_without_offset_is_refused_saying_why(client):
    answer = await client.get(f"{BANDUNG}/deadline",
                              params={"start": "2026-03-17T09:00", "working_days": "3"})
    assert "offset" in answer.json()["detail"] and "WITA" in answer.json()["detail"]


async def test_a_bad_jurisdiction_id_is_a_problem(client):
    answer = await client.get("/v1/calendars/Kota Bandung!/deadline",
                              params={"start": "2026-03-17", "working_days": "3"})
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_calendars_are_listed_with_zone_and_version(client):
    listed = (await client.get("/v1/calendars")).json()
    assert {(c["jurisdiction"], c["timezone"]) for c in listed} == {
        ("*", "Asia/Jakarta"), ("kota-bandung", "Asia/Jakarta"),
        ("kota-makassar", "Asia/Makassar"), ("kota-jayapura", "Asia/Jayapura")}
    assert all(c["version"] >= 1 and "changed_by" not in c for c in listed)
    own = (await client.get("/v1/calendars/kota-jayapura")).json()
    assert own["calendar"]["office_hours"]["fri"] == "07:30-16:30" and not own["uses_national"]
    other = (await client.get("/v1/calendars/kabupaten-lain")).json()
    assert other["uses_national"] and other["jurisdiction"] == "kabupaten-lain"


async def test_non_working_days_with_their_reasons(client):
    answer = await client.get(f"{BANDUNG}/non-working-days",
                              params={"from": "2026-03-16", "to": "2026-03-25"})
    assert answer.status_code == 200
    days = {d["date"]: d["reason"] for d in answer.json()}
    assert list(days) == ["2026-03-18", "2026-03-19", "2026-03-20", "2026-03-21", "2026-03-22",
                          "2026-03-23", "2026-03-24"]
    assert days["2026-03-19"] == "Hari Suci Nyepi"
    assert days["2026-03-18"] == "Cuti Bersama Hari Suci Nyepi"
    assert days["2026-03-21"] == "Hari Raya Idul Fitri"           # a Saturday holiday
    with_weekends = (await client.get(f"{BANDUNG}/non-working-days", params={
        "from": "2026-11-20", "to": "2026-11-23", "weekends": "true"})).json()
    assert with_weekends == [{"date": "2026-11-21", "reason": "Sabtu"},
                             {"date": "2026-11-22", "reason": "Minggu"}]


@pytest.mark.parametrize("params, status", [
    ({"from": "2026-03-25", "to": "2026-03-16"}, 400),
    ({"from": "2026-01-01", "to": "2028-12-31"}, 400),
    ({"from": "16-03-2026", "to": "2026-03-25"}, 422),
    ({"from": "2026-03-16"}, 422),
])
async def test_non_working_days_ranges_are_checked(client, params, status):
    answer = await client.get(f"{BANDUNG}/non-working-days", params=params)
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("application/problem+json")


MOVE = {"change": {"op": "move", "date": "2026-05-27", "to": "2026-05-26",
                   "name": "Hari Raya Idul Adha 1447 H", "kind": "holiday",
                   "decree": "SKB 3 Menteri (perubahan)"},
        "note": "Hasil sidang isbat"}


@pytest.mark.parametrize("headers, status", [
    ({}, 401),
    ({"authorization": "Bearer not-a-token"}, 401),
    (bearer("opd", opd="dinas-pupr"), 403),
    (bearer(jurisdiction="kota-makassar"), 403),
    (bearer(ttl=-timedelta(hours=1)), 401),
])
async def test_only_the_jurisdictions_operators_change_its_calendar(client, headers, status):
    for method, path, body in [("POST", f"{BANDUNG}/days", MOVE),
                               ("PUT", BANDUNG, {"calendar": {"jurisdiction": "kota-bandung",
                                                              "timezone": "Asia/Jakarta"},
                                                 "note": "tanpa jam kantor"}),
                               ("GET", f"{BANDUNG}/history", None)]:
        answer = await client.request(method, path, json=body, headers=headers)
        assert answer.status_code == status, (method, path, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")


async def test_a_moved_holiday_moves_the_next_deadline_and_is_in_the_history(client, registry):
    seen = []

    async def listener(jurisdiction, old, new):
        seen.append((jurisdiction, old.is_working_day(MOVE_TO), new.is_working_day(MOVE_TO)))

    registry.add_listener(listener)
    ask = ("kota-bandung", "2026-05-26T09:00:00+07:00", 0)
    before = await deadline(client, *ask)
    assert before["deadline"] == "2026-05-26T23:59:59+07:00"
    saved = await client.post(f"{BANDUNG}/days", json=MOVE,
                              headers=bearer(jurisdiction="kota-bandung", subject="op-7"))
    assert saved.status_code == 201, saved.text
    assert saved.json()["changed_by"] == "op-7" and saved.json()["note"] == "Hasil sidang isbat"
    after = await deadline(client, *ask)
    assert after["deadline"] == "2026-05-27T23:59:59+07:00"       # 26 May is off, 27 May is not
    assert after["calendar_version"] > before["calendar_version"]
    assert seen == [("kota-bandung", True, False)]
    days = (await client.get(f"{BANDUNG}/non-working-days",
                             params={"from": "2026-05-25", "to": "2026-05-29"})).json()
    assert days == [{"date": "2026-05-26", "reason": "Hari Raya Idul Adha 1447 H"},
                    {"date": "2026-05-28", "reason": "Cuti Bersama Hari Raya Idul Adha"}]
    history = (await client.get(f"{BANDUNG}/history", headers=bearer())).json()
    assert [(h["source"], h["changed_by"]) for h in history] == [
        ("api", "op-7"), ("file", "configuration file")]
    assert history[0]["calendar"]["changes"][0]["decree"] == "SKB 3 Menteri (perubahan)"
    # other jurisdictions keep theirs
    assert (await deadline(client, "kota-makassar", "2026-05-26T09:00:00+08:00", 0))[
        "deadline"] == "2026-05-26T23:59:59+08:00"





async def test_a_jurisdiction_on_the_national_calendar_gets_its_own_with_the_first_change(client):
    national = (await client.get("/v1/calendars/kabupaten-bogor")).json()
    change = {"change": {"op": "add", "date": "2026-06-03", "name": "Hari Jadi Bogor",
                         "kind": "local", "decree": "Keputusan Bupati"},
              "note": "libur daerah", "based_on_version": national["version"]}
    saved = await client.post("/v1/calendars/kabupaten-bogor/days", json=change,
                              headers=bearer())
    assert saved.status_code == 201, saved.text
    own = (await client.get("/v1/calendars/kabupaten-bogor")).json()
    assert not own["uses_national"] and own["timezone"] == "Asia/Jakarta"
    body = await deadline(client, "kabupaten-bogor", "2026-06-02T10:00:00+07:00", 1)
    assert body["deadline"] == "2026-06-04T23:59:59+07:00"
    assert (await deadline(client, "kabupaten-lain", "2026-06-02T10:00:00+07:00", 1))[
        "deadline"] == "2026-06-03T23:59:59+07:00"


async def test_a_change_on_a_stale_version_is_a_conflict(client):
    current = (await client.get(BANDUNG)).json()
    body = dict(MOVE, based_on_version=current["version"])
    assert (await client.post(f"{BANDUNG}/days", json=body, headers=bearer())).status_code == 201
    again = await client.post(f"{BANDUNG}/days", json=body, headers=bearer())
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("change, field", [
    ({"op": "remove", "date": "2026-05-26"}, "change.date"),              # not a day off
    ({"op": "move", "date": "2026-11-20", "to": "2026-11-23"}, "change.date"),
    ({"op": "move", "date": "2026-05-27"}, "change"),                     # a move needs `to`
    ({"op": "add", "date": "2026-06-03"}, "change"),                      # an added day's name
    ({"op": "shift", "date": "2026-06-03"}, "change.op"),
])
async def test_a_change_that_cannot_apply_is_a_problem(client, change, field):
    answer = await client.post(f"{BANDUNG}/days", json={"change": change, "note": "coba"},
                               headers=bearer())
    assert answer.status_code == 422, answer.text
    assert any(e["field"].startswith(field) for e in answer.json()["errors"])


async def test_a_full_calendar_replaces_the_old_one(client):
    spec = {"jurisdiction": "kota-bandung", "timezone": "Asia/Jakarta",
            "office_hours": {"mon": "08:00-16:00", "fri": "08:00-16:30"},
            "changes": [{"op": "remove", "date": "2026-12-24", "kind": "cuti_bersama",
                         "note": "pelayanan tetap buka"}]}
    saved = await client.put(BANDUNG, json={"calendar": spec, "note": "Perwal jam kerja"},
                             headers=bearer())
    assert saved.status_code == 200, saved.text
    assert (await deadline(client, "kota-bandung", "2026-12-23T10:00:00+07:00", 1))[
        "deadline"] == "2026-12-24T23:59:59+07:00"
    wrong = await client.put(BANDUNG, json={"calendar": dict(spec, jurisdiction="kota-bogor"),
                                            "note": "salah kota"}, headers=bearer())
    assert wrong.status_code == 422
    bad_zone = await client.put(BANDUNG, json={"calendar": dict(spec, timezone="Asia/WIB"),
                                               "note": "zona salah"}, headers=bearer())
    assert bad_zone.status_code == 422 and "time zone" in bad_zone.text
