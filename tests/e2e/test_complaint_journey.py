"""One complaint through all four services: HTTP submit -> routing -> sla -> notify -> e-mail,
visible in the status API, and one trace across every service."""

from __future__ import annotations

import uuid

from devstack.stack import read_spans, wait_until
from tests.e2e.journey import COMPLAINTS, mails_for, submit, view, wait_for_mail


def test_submit_to_email_with_status_deadline_history_and_one_trace(platform, api, mail):
    receipt = submit(api, *COMPLAINTS[0])
    assert receipt["status"] == "submitted" and receipt["tracking_number"].isdigit()

    message = wait_for_mail(mail, receipt)
    assert message["rcpt_tos"] == [receipt["email"]]
    assert receipt["tracking_number"] in message["subject"]
    assert message["subject"] == message["subject"].strip(), "a long subject folds cleanly"
    assert "Dinas Pekerjaan Umum dan Penataan Ruang" in message["text"]

    def notified():
        current = view(api, receipt)
        told = any(h["action"] == "citizen_notified" and h["details"].get("template") == "complaint_assigned"
                   for h in current["history"])
        return current if told and current["first_response_due_at"] else None   # sla's clock too

    state = wait_until(notified, 30, "history complete")
    assert state["status"] == "disposed"
    assert state["assigned_opd"]["id"] == "dinas-pupr"
    assert state["first_response_due_at"].endswith("+00:00") or state["first_response_due_at"].endswith("Z")
    actions = [h["action"] for h in state["history"]]
    assert actions[0] == "submit" and {"assign", "deadline_set", "citizen_notified"} <= set(actions)
    # routed at once, so no verification deadline is told; the OPD's comes after its disposal
    first_response = next(i for i, h in enumerate(state["history"])
                          if h["details"].get("clock") == "first_response")
    assert actions.index("assign") < first_response

    def services_in_trace():
        spans = [s for s in read_spans(platform.c.home)
                 if s["context"]["trace_id"] == "0x" + receipt["trace_id"]]
        names = {s["resource"]["attributes"]["service.name"] for s in spans}
        return names if names >= {"intake", "routing", "sla", "notify"} else None

    assert wait_until(services_in_trace, 30, "spans of all four services in one trace")
    assert len(mails_for(mail, receipt)) == 1

    written = [p.read_text(errors="replace") for folder in ("log", "traces")
               for p in (platform.c.home / folder).glob("*")]
    assert written and not any(receipt["email"] in text or "Siti Rahayu" in text for text in written), \
        "personal data never reaches logs or traces"


def test_bad_input_gets_problem_details(api):
    response = api.post("/v1/complaints", json={"title": "x", "reporter": {"email": "nope"}})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and problem["type"].endswith("/validation-error")
    assert {e["field"] for e in problem["errors"]} >= {"title", "description", "reporter.email"}
    assert "nope" not in response.text, "submitted values are never echoed back"

    malformed = api.post("/v1/complaints", content=b"{not json", headers={"content-type": "application/json"})
    assert malformed.status_code == 422 and malformed.json()["title"]

    huge = api.post("/v1/complaints", content=b"x" * 200_000, headers={"content-type": "application/json"})
    assert huge.status_code == 413 and huge.headers["content-type"] == "application/problem+json"


def test_status_needs_the_right_token(api):
    receipt = submit(api, *COMPLAINTS[1])
    url = f"/v1/complaints/{receipt['tracking_number']}"
    assert api.get(url).status_code == 401
    wrong = api.get(url, headers={"Authorization": "Bearer not-the-token"})
    unknown = api.get("/v1/complaints/999999999", headers={"Authorization": "Bearer x"})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json()["title"] == unknown.json()["title"], "existence is not revealed"


def test_idempotency_key_makes_a_retried_submission_safe(api):
    body = {"title": "Lampu jalan mati", "description": "Lampu jalan di gang RT 02 mati sejak seminggu, gelap.",
            "reporter": {"email": "idem@example.id"}}
    headers = {"Idempotency-Key": f"frontend-{uuid.uuid4()}"}
    first = api.post("/v1/complaints", json=body, headers=headers)
    again = api.post("/v1/complaints", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["tracking_number"] == first.json()["tracking_number"]
    assert again.json()["access_token"] == first.json()["access_token"]
    other = api.post("/v1/complaints", json=body | {"title": "Lampu jalan rusak"}, headers=headers)
    assert other.status_code == 422 and other.headers["content-type"] == "application/problem+json"
