"""The local messaging sinks the devstack runs (deploy/local/devstack/sinks.py): the generic
gateway and the Twilio look-alike take what a provider would and refuse what it would refuse;
the webhook receiver checks Standard Webhooks signatures on its own; faults are answered the
number of times asked, then the sink recovers."""

import base64
import json
import signal
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from devstack.stack import free_port, http_ok, wait_until
from standardwebhooks import Webhook

pytestmark = pytest.mark.integration

SINKS = Path(__file__).resolve().parents[2] / "deploy" / "local" / "devstack" / "sinks.py"


@pytest.fixture
def sinks(infra):
    with httpx.Client(base_url=infra.sinks_url, timeout=10) as client:
        yield client
        client.delete("/api/faults")


def test_the_gateway_and_twilio_take_and_refuse_like_providers(sinks):
    seen = sinks.get("/api/stats").json()["count"]
    ok = sinks.post("/gateway/messages", json={"to": "+6281234567890", "text": "halo", "channel": "whatsapp",
                                               "message_id": "m-1"})
    assert ok.status_code == 201 and ok.json()["id"].startswith("gw-")
    assert sinks.post("/gateway/messages", json={"to": "0812345", "text": "x"}).status_code == 400
    assert sinks.post("/gateway/messages", content=b"not json").status_code == 400
    url = "/twilio/2010-04-01/Accounts/AC1/Messages.json"
    assert sinks.post(url, data={"To": "+6281", "Body": "x"}).json()["code"] == 20003
    bad = sinks.post(url, data={"To": "08123", "From": "LAPOR", "Body": "x"}, auth=("AC1", "t"))
    assert bad.status_code == 400 and bad.json()["code"] == 21211
    wa = sinks.post(url, data={"To": "whatsapp:+6281234567890", "From": "whatsapp:+1415", "Body": "hai"},
                    auth=("AC1", "t"))
    assert wa.status_code == 201 and wa.json()["sid"].startswith("SM") and wa.json()["status"] == "queued"
    records = sinks.get("/api/messages", params={"since": seen}).json()
    assert [(r["target"], r["accepted"], r["channel"]) for r in records] == [
        ("gateway", True, "whatsapp"), ("gateway", False, "sms"), ("twilio", False, "sms"),
        ("twilio", True, "whatsapp")]
    assert records[0]["message_id"] == "m-1" and records[3]["to"] == "+6281234567890"


def test_the_webhook_receiver_checks_signatures_independently(sinks):
    receiver = f"fe-{uuid.uuid4().hex[:6]}"
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    body = json.dumps({"type": "complaint.assigned", "data": {"tracking_number": "1"}})
    now = datetime.now(timezone.utc)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": Webhook(secret).sign("msg_1", now, body),
               "content-type": "application/json"}
    assert sinks.post(f"/webhooks/{receiver}", content=body, headers=headers).status_code == 401, "no secret yet"
    sinks.put(f"/api/webhook-secrets/{receiver}", json={"secret": secret})
    assert sinks.post(f"/webhooks/{receiver}", content=body, headers=headers).status_code == 204
    tampered = body.replace('"1"', '"2"')
    assert sinks.post(f"/webhooks/{receiver}", content=tampered, headers=headers).status_code == 401
    stale = {**headers, "webhook-timestamp": str(int(now.timestamp()) - 3600)}
    assert sinks.post(f"/webhooks/{receiver}", content=body, headers=stale).status_code == 401
    got = sinks.get("/api/messages", params={"target": f"webhooks.{receiver}"}).json()
    assert [r["verified"] for r in got] == [False, True, False, False]
    assert got[1]["payload"]["type"] == "complaint.assigned"


def test_a_fault_is_answered_as_often_as_asked(sinks):
    sinks.put("/api/faults/gateway", json={"status": 503, "times": 2, "retry_after": 3})
    answers = [sinks.post("/gateway/messages", json={"to": "+6281234567890", "text": "x"}) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 201]
    assert answers[0].headers["retry-after"] == "3"
    sinks.put("/api/faults/gateway", json={"status": 500, "times": None})
    assert all(sinks.post("/gateway/messages", json={"to": "+6281234567890", "text": "x"}).status_code == 500
               for _ in range(3))
    assert sinks.delete("/api/faults/gateway").status_code == 204
    assert sinks.post("/gateway/messages", json={"to": "+6281234567890", "text": "x"}).status_code == 201


def test_since_and_limit_page_through_what_arrived(sinks):
    seen = sinks.get("/api/stats").json()["count"]
    for n in range(5):
        assert sinks.post("/gateway/messages", json={"to": "+6281234567890", "text": f"p{n}"}).status_code == 201
    first = sinks.get("/api/messages", params={"since": seen, "limit": 2}).json()
    rest = sinks.get("/api/messages", params={"since": seen + len(first)}).json()
    assert [r["text"] for r in first + rest] == [f"p{n}" for n in range(5)]
    assert [r["seq"] for r in first] == [seen + 1, seen + 2]


def test_a_stopped_sink_exits_cleanly_and_reloads_its_store(tmp_path):
    """SIGTERM ends it with 0 after flushing; a restart reads the accepted records back."""
    store = tmp_path / "messages.jsonl"

    def run() -> tuple[subprocess.Popen, str]:
        port = free_port()
        process = subprocess.Popen([sys.executable, str(SINKS), "--port", str(port), "--store", str(store)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: http_ok(f"{url}/healthz"), 30, "sinks")
        return process, url

    process, url = run()
    try:
        assert httpx.post(f"{url}/gateway/messages", json={"to": "+6281234567890", "text": "kept"}).status_code == 201
        assert httpx.post(f"{url}/gateway/messages", json={"to": "0812", "text": "refused"}).status_code == 400
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    process, url = run()
    try:
        assert [r["text"] for r in httpx.get(f"{url}/api/messages").json()] == ["kept"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
