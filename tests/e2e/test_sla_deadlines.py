"""Deadlines on the real platform: a submitted and disposed complaint gets its verification,
first-response and resolution clocks in sla, the citizen's timeline shows each deadline as it is
set (not the verification deadline of a complaint routed at once: it was met before anyone
needed to hear of it), operators list the open clocks, OPD staff see only their own, and front
ends ask sla for a deadline."""

from __future__ import annotations

import httpx

from devstack.stack import wait_until
from tests.e2e.journey import submit
from tests.e2e.test_lifecycle import PUPR, ROAD, citizen, wait_status

pytestmark = __import__("pytest").mark.e2e


def test_deadlines_are_set_shown_and_listed(platform, api):
    receipt = submit(api, *ROAD)
    tn, me = receipt["tracking_number"], citizen(api, receipt)
    wait_status(me, tn, "disposed")

    def deadlines():
        notes = {h["details"].get("clock"): h["note"] for h in me.get(tn)["history"]
                 if h["action"] == "deadline_set"}
        return notes if {"first_response", "resolution"} <= set(notes) else None

    notes = wait_until(deadlines, 60, "the deadlines on the citizen's timeline")
    assert "verification" not in notes, "routed within the quiet time: never told"
    assert notes["first_response"].startswith("Batas waktu tindak lanjut pertama: ")
    assert notes["first_response"].endswith("pukul 23.59 WIB.")
    assert me.get(tn)["first_response_due_at"]

    with httpx.Client(base_url=platform.service_url("sla"), timeout=10) as sla:
        operator = {"Authorization": f"Bearer {platform.staff_token('operator')}"}
        listed = sla.get("/v1/clocks", params={"tracking_number": tn}, headers=operator).json()
        kinds = {(i["kind"], i["opd_id"]) for i in listed["items"]}
        assert kinds == {("first_response", PUPR), ("resolution", PUPR)}
        other = {"Authorization": f"Bearer {platform.staff_token('opd', opd='dlh')}"}
        assert sla.get("/v1/clocks", params={"tracking_number": tn}, headers=other).json()["items"] == []
        answer = sla.get("/v1/calendars/kota-bandung/deadline",
                         params={"start": "2026-03-17T09:00:00+07:00", "working_days": 3})
        assert answer.json()["deadline"] == "2026-03-27T23:59:59+07:00"
        assert sla.get("/v1/clocks").status_code == 401
