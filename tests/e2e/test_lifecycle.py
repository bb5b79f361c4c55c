"""A complaint's whole life through the API on the real platform: citizens, OPD staff and
operators each acting with their own token, routing re-routing on "bukan wewenang", sla setting
the reopen window, and the authorisation matrix and rate limits over HTTP."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx

from devstack.stack import wait_until
from tests.e2e.journey import submit

PUPR, DLH = "dinas-pupr", "dlh"


class Api:
    """Calls as one caller: a citizen's access token or a staff token."""

    def __init__(self, http: httpx.Client, token: str) -> None:
        self.http, self.headers = http, {"Authorization": f"Bearer {token}"}

    def act(self, tracking_number: str, action: str, expect: int = 200, **fields) -> dict:
        response = self.http.post(f"/v1/complaints/{tracking_number}/actions",
                                  json={"action": action, **fields}, headers=self.headers)
        assert response.status_code == expect, response.text
        return response.json()

    def get(self, tracking_number: str, expect: int = 200) -> dict:
        response = self.http.get(f"/v1/complaints/{tracking_number}", headers=self.headers)
        assert response.status_code == expect, response.text
        return response.json()

    def list(self, **params) -> dict:
        response = self.http.get("/v1/complaints", params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()


def citizen(api: httpx.Client, receipt: dict) -> Api:
    return Api(api, receipt["access_token"])


def staff(platform, api: httpx.Client, role: str, opd: str | None = None) -> Api:
    return Api(api, platform.staff_token(role, opd=opd, subject=f"{role}-{uuid.uuid4().hex[:6]}"))


def wait_status(who: Api, tracking_number: str, status: str, timeout: float = 60) -> dict:
    def reached():
        current = who.get(tracking_number)
        return current if current["status"] == status else None
    return wait_until(reached, timeout, f"{tracking_number} {status}")


ROAD = ("Jalan berlubang di Jl. Merdeka", "Mhn diperbaiki, jalan berlubang besar di depan SDN 3 sdh dua minggu.")


def test_a_complaints_whole_life(platform, api, mail):
    receipt = submit(api, *ROAD)
    tn, me = receipt["tracking_number"], citizen(api, receipt)
    assert wait_status(me, tn, "disposed")["assigned_opd"]["id"] == PUPR
    pupr = staff(platform, api, "opd", PUPR)

    pupr.act(tn, "accept", note="Diterima, tim survei dijadwalkan.")
    pupr.act(tn, "respond", note="Tim kami akan meninjau lokasi hari Senin.")
    assert me.act(tn, "citizen_reply", note="Lubang makin besar, mohon dipercepat.")["status"] == "citizen_replied"
    pupr.act(tn, "respond", note="Penambalan dijadwalkan Rabu.")
    after_close = me.act(tn, "close", note="Sudah ditambal, terima kasih.")
    assert after_close["status"] == "closed" and set(after_close["allowed_actions"]) == {"reopen", "rate"}
    rated = me.act(tn, "rate", rating=5, comment="Cepat dan jelas")
    assert (rated["rating"], rated["status"]) == (5, "closed")

    # sla owns the calendar: it answers the closing with the reopen window.
    window = wait_until(lambda: me.get(tn)["reopen_until"], 30, "reopen window from sla")
    assert window
    reopened = me.act(tn, "reopen", reason="Tambalan sudah lepas lagi setelah hujan.")
    assert reopened["status"] == "reopened" and reopened["assigned_opd"]["id"] == PUPR
    pupr.act(tn, "resolve", evidence="Ditambal ulang dengan aspal hotmix, foto di lokasi.")
    final = me.act(tn, "close")
    assert final["status"] == "closed"

    actions = [h["action"] for h in final["history"] if h["actor_role"] != "system"]
    assert actions == ["submit", "accept", "respond", "citizen_reply", "respond", "close", "rate",
                       "reopen", "resolve", "close"]
    roles = {h["action"]: h["actor_role"] for h in final["history"]}
    assert roles["accept"] == "opd" and roles["reopen"] == "citizen" and roles["assign"] == "system"
    reply = next(h for h in final["history"] if h["action"] == "citizen_reply")
    assert (reply["from_status"], reply["status"], reply["actor"]) == ("followed_up", "citizen_replied", "citizen")
    # The OPD reads it with the reporter's identity (not anonim); the citizen's own view has none.
    assert pupr.get(tn)["reporter"]["name"] == "Siti Rahayu" and final["reporter"] is None


def test_bukan_wewenang_reroutes_and_never_back(platform, api):
    receipt = submit(api, "Jalan berlubang dan sampah",
                     "Jalan berlubang di depan pasar, dan sampah menumpuk di pinggirnya.")
    tn, me = receipt["tracking_number"], citizen(api, receipt)
    assert wait_status(me, tn, "disposed")["assigned_opd"]["id"] == PUPR
    pupr = staff(platform, api, "opd", PUPR)
    pupr.act(tn, "reject_not_authority", reason="Sampah di pasar urusan DLH dan pengelola pasar.")
    pupr.get(tn, expect=404)   # no longer its complaint: it must not even learn it exists

    def decided_again():
        current = me.get(tn)
        return current if current["status"] in ("disposed", "triage") else None
    # Routed again, never back to PUPR: to another OPD when routing is sure, else to triage
    # (where an operator picks DLH).
    rerouted = wait_until(decided_again, 60, "re-routed")
    assert rerouted["rejected_by"] == [PUPR]
    operator = staff(platform, api, "operator")
    if rerouted["status"] == "triage":
        operator.act(tn, "assign", opd_id=DLH, opd_name="DLH")
    second = me.get(tn)["assigned_opd"]["id"]
    assert second != PUPR

    staff(platform, api, "opd", second).act(tn, "reject_not_authority", reason="Jalan rusak, bukan kami.")
    again = wait_until(decided_again, 60, "re-routed twice")
    assert again["rejected_by"] == [PUPR, second]
    if again["status"] == "disposed":
        assert again["assigned_opd"]["id"] not in (PUPR, second)
        operator.act(tn, "reassign", opd_id="dinas-perdagangan", opd_name="Disdagin")
        operator.act(tn, "reassign", opd_id="diskominfo", opd_name="Diskominfo")
    else:
        refused = operator.act(tn, "assign", expect=409, opd_id=PUPR)
        assert "already rejected" in refused["detail"]
        assert operator.act(tn, "assign", opd_id="dinas-perdagangan",
                            opd_name="Disdagin")["status"] == "disposed"
    opds = [h["details"].get("opd_name") for h in me.get(tn)["history"]
            if h["action"] in ("assign", "reassign")]
    assert len(opds) >= 3


def test_postpone_then_information_added_is_routed(platform, api):
    receipt = submit(api, "Mohon ditindaklanjuti", "Sudah lama dibiarkan begitu saja di dekat rumah kami.")
    tn, me = receipt["tracking_number"], citizen(api, receipt)
    wait_status(me, tn, "triage")
    operator = staff(platform, api, "operator")
    asked = operator.act(tn, "postpone", note="Apa yang dibiarkan, dan di mana lokasinya?")
    assert asked["status"] == "postponed" and me.get(tn)["allowed_actions"] == ["provide_info"]
    me.act(tn, "provide_info", note="Sampah menumpuk di TPS Jl. Kenanga, tidak diangkut dua minggu.")
    assert wait_status(me, tn, "disposed")["assigned_opd"]["id"] == DLH


def test_merge_of_a_duplicate_keeps_both_reporters_told(platform, api, mail):
    first = submit(api, *ROAD)
    second = submit(api, "Lubang di Jl. Merdeka", "Ada jalan berlubang besar dekat SDN 3, bahaya bagi motor.")
    wait_status(citizen(api, first), first["tracking_number"], "disposed")
    wait_status(citizen(api, second), second["tracking_number"], "disposed")
    operator = staff(platform, api, "operator")
    merged = operator.act(second["tracking_number"], "merge", into=first["tracking_number"])
    assert merged["status"] == "merged"
    follower = citizen(api, second).get(second["tracking_number"])
    assert follower["merged_into"]["tracking_number"] == first["tracking_number"]

    staff(platform, api, "opd", PUPR).act(first["tracking_number"], "respond",
                                          note="Perbaikan dijadwalkan minggu ini.")
    follower = citizen(api, second).get(second["tracking_number"])
    assert follower["merged_into"]["status"] == "followed_up", "the duplicate follows the survivor"

    def told(receipt):
        return [m for m in mail.get("/api/messages").json() if m["rcpt_tos"] == [receipt["email"]]
                and "Perbaikan dijadwalkan minggu ini." in m["text"]]
    assert wait_until(lambda: told(first), 60, "first reporter told")
    assert wait_until(lambda: told(second), 60, "duplicate's reporter told too")


def test_authorisation_matrix_over_http(platform, api):
    receipt = submit(api, *ROAD)
    tn, me = receipt["tracking_number"], citizen(api, receipt)
    wait_status(me, tn, "disposed")
    someone_else = citizen(api, submit(api, *ROAD))
    pupr, dlh = staff(platform, api, "opd", PUPR), staff(platform, api, "opd", DLH)
    operator = staff(platform, api, "operator")

    assert me.act(tn, "accept", expect=403)["status"] == 403
    someone_else.act(tn, "close", expect=404)
    dlh.act(tn, "accept", expect=404)
    dlh.get(tn, expect=404)
    operator.act(tn, "respond", expect=403, note="Bukan peran operator")
    illegal = me.act(tn, "close", expect=409)
    assert illegal["current_status"] == "disposed" and illegal["allowed_actions"] == []
    opd_view = pupr.get(tn)
    assert set(opd_view["allowed_actions"]) == {"accept", "respond", "resolve", "reject_not_authority"}
    assert pupr.act(tn, "accept")["status"] == "accepted"

    nobody = api.post(f"/v1/complaints/{tn}/actions", json={"action": "accept"})
    assert nobody.status_code == 401 and nobody.headers["WWW-Authenticate"].startswith("Bearer")
    expired = Api(api, platform.staff_token("opd", opd=PUPR, ttl=-timedelta(minutes=10)))
    assert "expired" in expired.act(tn, "respond", expect=401, note="x")["title"]
    wrong_audience = Api(api, platform.staff_token("operator", aud="some-other-app"))
    wrong_audience.get(tn, expect=401)
    assert api.get("/v1/complaints", headers=me.headers).status_code == 403
    bad_body = pupr.act(tn, "rate", expect=422, rating=9)
    assert bad_body["status"] == 422

    queue = pupr.list(status="accepted", page_size=100)
    assert tn in [c["tracking_number"] for c in queue["items"]]
    assert all(c["assigned_opd"]["id"] == PUPR for c in queue["items"])
    assert tn not in [c["tracking_number"] for c in dlh.list(page_size=100, opd=PUPR)["items"]]
    assert [c["tracking_number"] for c in pupr.list(q=tn)["items"]] == [tn]
    title_word = pupr.get(tn)["title"].split()[0][:4]
    assert tn in [c["tracking_number"] for c in pupr.list(q=title_word, page_size=100)["items"]]
    assert pupr.list(q="zzqxyvw")["items"] == []


def test_anonymous_reporter_is_hidden_from_staff(platform, api):
    body = {"title": "Pungutan liar di kantor kelurahan", "anonymous": True,
            "description": "Ada pungutan untuk pembuatan KTP di kantor kelurahan, mohon ditertibkan.",
            "reporter": {"name": "Budi", "email": f"budi-{uuid.uuid4().hex[:6]}@example.id"}}
    receipt = api.post("/v1/complaints", json=body).json()
    operator = staff(platform, api, "operator")
    view_ = operator.get(receipt["tracking_number"])
    assert view_["anonymous"] and view_["reporter"] is None


def test_rate_limit_per_token_answers_429_with_retry_after(platform, api):
    operator = staff(platform, api, "operator")
    limit = int(platform.c.extra_env["RATE_LIMIT_PER_TOKEN"].split("/")[0])
    codes = [api.get("/v1/complaints", params={"page_size": 1}, headers=operator.headers).status_code
             for _ in range(limit + 1)]
    assert codes[:limit] == [200] * limit and codes[-1] == 429
    refused = api.get("/v1/complaints", headers=operator.headers)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["content-type"] == "application/problem+json"
    # Another token is not affected.
    assert api.get("/v1/complaints", headers=staff(platform, api, "operator").headers).status_code == 200
