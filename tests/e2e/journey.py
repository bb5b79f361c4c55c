"""Helpers for following complaints through the running platform: submit, wait for mail."""

from __future__ import annotations

import uuid

import httpx

from devstack.stack import wait_until

COMPLAINTS = [
    ("Jalan berlubang di Jl. Merdeka", "Mhn diperbaiki, jalan berlubang besar di depan SDN 3 sdh dua minggu."),
    ("Sampah menumpuk di TPS", "Sampah di TPS dekat pasar tidak diangkut seminggu, bau busuk sekali."),
    ("Parkir liar depan pasar", "Banyak parkir liar di depan pasar sehingga jalan macet setiap sore."),
]


def submit(api: httpx.Client, title: str, description: str, email: str | None = None) -> dict:
    body = {"title": title, "description": description,
            "reporter": {"name": "Siti Rahayu", "email": email or f"warga-{uuid.uuid4().hex[:8]}@example.id"}}
    response = api.post("/v1/complaints", json=body)
    assert response.status_code == 201, response.text
    return response.json() | {"trace_id": response.headers["X-Trace-Id"], "email": body["reporter"]["email"]}


def mails_for(mail: httpx.Client, receipt: dict, template: str | None = "complaint_assigned") -> list[dict]:
    """Mail about this complaint to this citizen (test stacks share one mail catcher, and each
    stack's tracking numbers start at the same number); by default the message that says it
    was routed to an OPD (`template=None`: every message)."""
    messages = mail.get("/api/messages").json()
    return [m for m in messages if m["rcpt_tos"] == [receipt["email"]]
            and m["headers"].get("X-Lapor-Tracking-Number") == receipt["tracking_number"]
            and (template is None or m["headers"].get("X-Lapor-Template") == template)]


def wait_for_mail(mail: httpx.Client, receipt: dict, timeout: float = 60) -> dict:
    return wait_until(lambda: mails_for(mail, receipt), timeout,
                      f"mail for {receipt['tracking_number']}")[0]


def view(api: httpx.Client, receipt: dict) -> dict:
    response = api.get(f"/v1/complaints/{receipt['tracking_number']}",
                       headers={"Authorization": f"Bearer {receipt['access_token']}"})
    assert response.status_code == 200, response.text
    return response.json()
