"""Notify on the real platform: every lifecycle step reaches the citizen in their language, on
e-mail (the mail catcher), SMS and WhatsApp (the local gateway sinks) and the front end's
signed webhook (a receiver that checks the Standard Webhooks signature); a redelivered event
gives one message; a gateway that fails then recovers gets retries; one that stays down
triggers the fallback; a kill -9 of notify in a burst neither loses nor repeats a message."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from contracts import topics
from contracts.envelope import to_record, wrap
from contracts.events import ComplaintFollowedUpV1
from devstack.stack import wait_until
from tests.e2e.test_lifecycle import PUPR, ROAD, citizen, staff, wait_status

pytestmark = pytest.mark.e2e
TRASH = ("Sampah menumpuk di TPS", "Sampah di TPS dekat pasar tidak diangkut seminggu, bau busuk sekali.")


@pytest.fixture
def sinks(platform):
    with httpx.Client(base_url=platform.sinks_url, timeout=10) as client:
        yield client
        client.delete("/api/faults")


@pytest.fixture
def notify(platform):
    with httpx.Client(base_url=platform.service_url("notify"), timeout=10) as client:
        yield client


def operator_headers(platform) -> dict:
    return {"Authorization": f"Bearer {platform.staff_token('operator', subject='op-notify')}"}


def front_end(platform, api, notify, sinks) -> tuple[str, str]:
    """A registered front end: its API key in intake and its webhook in notify."""
    name = f"fe-{uuid.uuid4().hex[:8]}"
    op = operator_headers(platform)
    key = api.post("/v1/api-keys", json={"name": name}, headers=op)
    assert key.status_code == 201, key.text
    hook = notify.post("/v1/webhooks", json={"frontend": name, "url": f"{platform.sinks_url}/webhooks/{name}"},
                       headers=op)
    assert hook.status_code == 201, hook.text
    assert sinks.put(f"/api/webhook-secrets/{name}", json={"secret": hook.json()["secret"]}).status_code < 300
    return name, key.json()["api_key"]


def submit(api, title, description, *, language="id", email=None, phone=None, api_key=None,
           anonymous=False) -> dict:
    email = email if email is not None else f"warga-{uuid.uuid4().hex[:8]}@example.id"
    reporter = {"name": "Siti Rahayu", "email": email or None, "phone": phone}
    response = api.post("/v1/complaints", json={
        "title": title, "description": description, "language": language, "anonymous": anonymous,
        "reporter": {k: v for k, v in reporter.items() if v}},
        headers={"X-Api-Key": api_key} if api_key else {})
    assert response.status_code == 201, response.text
    return response.json() | {"email": email, "phone": phone}


def mails(mail, receipt) -> list[dict]:
    return [m for m in mail.get("/api/messages").json() if m["rcpt_tos"] == [receipt["email"]]]


def mail_of(mail, receipt, template, timeout=60) -> dict:
    def found():
        hits = [m for m in mails(mail, receipt) if m["headers"].get("X-Lapor-Template") == template]
        return hits[0] if hits else None
    return wait_until(found, timeout, f"{template} mail for {receipt['tracking_number']}")


def sunk(sinks, target=None, to=None) -> list[dict]:
    records = sinks.get("/api/messages", params={"target": target} if target else {}).json()
    return [r for r in records if to is None or (r.get("to") or "").endswith(to)]


def test_every_step_in_the_citizens_language_and_signed_to_the_front_end(platform, api, mail,
                                                                         notify, sinks):
    name, key = front_end(platform, api, notify, sinks)
    indonesian = submit(api, *ROAD, api_key=key)
    english = submit(api, *ROAD, language="en", api_key=key)
    # Routed within seconds: the receipt is said with the assignment, in one message.
    expected = {  # template: (words in Bahasa Indonesia, words in English)
        "complaint_assigned": ("diterima dan diteruskan ke Dinas Pekerjaan Umum",
                               "received and forwarded to Dinas Pekerjaan Umum"),
        "complaint_followed_up": ("Tim kami akan meninjau lokasi hari Senin.",
                                  "Tim kami akan meninjau lokasi hari Senin."),
        "complaint_resolved": ("Ditambal dengan aspal", "Ditambal dengan aspal"),
        "complaint_closed": ("ditutup", "closed"),
        "rating_requested": ("nilai", "rate"),
    }
    pupr = staff(platform, api, "opd", PUPR)
    for receipt in (indonesian, english):
        tn, me = receipt["tracking_number"], citizen(api, receipt)
        wait_status(me, tn, "disposed")
        mail_of(mail, receipt, "complaint_assigned")
        pupr.act(tn, "respond", note="Tim kami akan meninjau lokasi hari Senin.")
        mail_of(mail, receipt, "complaint_followed_up")
        pupr.act(tn, "resolve", evidence="Ditambal dengan aspal, foto terlampir.")
        mail_of(mail, receipt, "complaint_resolved")
        me.act(tn, "close")
    for receipt, lang in ((indonesian, 0), (english, 1)):
        for template, words in expected.items():
            message = mail_of(mail, receipt, template)
            assert words[lang].lower() in (message["subject"] + message["text"]).lower(), (template, lang)
            assert receipt["tracking_number"] in message["text"]
        assert ROAD[0] in mail_of(mail, receipt, "complaint_assigned")["text"], "with its title"
        got = Counter(m["headers"]["X-Lapor-Template"] for m in mails(mail, receipt))
        assert all(n == 1 for n in got.values()), f"each message once: {got}"
        assert "complaint_received" not in got, "no receipt of its own a second before"
    assert mail_of(mail, english, "complaint_assigned")["subject"] != \
        mail_of(mail, indonesian, "complaint_assigned")["subject"]

    def hooks():
        records = [r for r in sunk(sinks, f"webhooks.{name}")]
        types = Counter((r["payload"]["data"]["tracking_number"], r["payload"]["type"]) for r in records)
        return records if len(types) >= 10 else None   # 5 steps each (no rating request)
    records = wait_until(hooks, 60, "the front end's webhooks")
    assert all(r["verified"] for r in records), "every webhook carries a valid signature"
    assert {r["payload"]["type"] for r in records} >= {
        "complaint.received", "complaint.assigned", "complaint.followed_up", "complaint.resolved",
        "complaint.closed"}
    assert not any("Siti" in str(r["payload"]) or "@example.id" in str(r["payload"]) for r in records)

    # The citizen's timeline says what was sent; the delivery log has each attempt.
    history = citizen(api, indonesian).get(indonesian["tracking_number"])["history"]
    told = {h["details"].get("template") for h in history if h["action"] == "citizen_notified"}
    assert {"complaint_assigned", "complaint_closed"} <= told
    log = notify.get(f"/v1/complaints/{indonesian['tracking_number']}/deliveries",
                     headers={"Authorization": f"Bearer {indonesian['access_token']}"}).json()
    assert {d["audience"] for d in log} == {"citizen", "frontend"}
    folded = [d for d in log if d["status"] == "cancelled"]
    assert [(d["audience"], d["template"]) for d in folded] == [("citizen", "complaint_received")], \
        "the receipt was said with the assignment"
    assert all(d["status"] == "sent" and d["log"][-1]["outcome"] == "sent"
               for d in log if d not in folded)


def test_the_same_event_delivered_twice_yields_one_message(platform, api, mail):
    receipt = submit(api, *ROAD)
    tn, me = receipt["tracking_number"], citizen(api, receipt)
    wait_status(me, tn, "disposed")
    staff(platform, api, "opd", PUPR).act(tn, "respond", note="Kami cek besok pagi.")
    mail_of(mail, receipt, "complaint_followed_up")
    entry = next(h for h in me.get(tn)["history"] if h["action"] == "respond")
    again = ComplaintFollowedUpV1(
        complaint_id=receipt["complaint_id"], occurred_at=entry["at"], tracking_number=tn,
        jurisdiction="kota-bandung", action="respond", from_status=entry["from_status"],
        to_status=entry["status"], actor_role="opd", opd_id=PUPR, note="Kami cek besok pagi.")

    async def publish_twice():
        producer = AIOKafkaProducer(bootstrap_servers=f"127.0.0.1:{platform.c.kafka_port}")
        await producer.start()
        try:
            for _ in range(2):   # a new envelope each time, as a replaying producer would make
                key, value, headers = to_record(wrap(again, "/test/replay"))
                await producer.send_and_wait(topics.INTAKE_EVENTS.name(platform.c.topic_prefix),
                                             value=value, key=key, headers=headers)
        finally:
            await producer.stop()
    asyncio.run(publish_twice())
    # A later step proves notify read past the replays before we count.
    me.act(tn, "citizen_reply", note="Terima kasih, ditunggu.")
    staff(platform, api, "opd", PUPR).act(tn, "respond", note="Sudah kami jadwalkan.")
    wait_until(lambda: len([m for m in mails(mail, receipt)
                            if m["headers"].get("X-Lapor-Template") == "complaint_followed_up"]) >= 2,
               60, "the second follow-up")
    followed = [m for m in mails(mail, receipt) if m["headers"]["X-Lapor-Template"] == "complaint_followed_up"]
    assert len(followed) == 2 and sum("Kami cek besok pagi." in m["text"] for m in followed) == 1


UNCLEAR = ("Mohon ditindaklanjuti", "Sudah lama dibiarkan begitu saja di dekat rumah kami.")


def choose(api, notify, platform, receipt, **prefs) -> dict:
    """The citizen's choice, once notify knows their contact; then an operator disposes the
    complaint (it waited in triage), so the routed message follows the choice."""
    tn, url = receipt["tracking_number"], f"/v1/complaints/{receipt['tracking_number']}/notification-preferences"
    me = {"Authorization": f"Bearer {receipt['access_token']}"}
    wait_until(lambda: notify.get(url, headers=me).status_code == 200, 60, "notify knows the contact")
    chosen = notify.put(url, headers=me, json={**prefs, "quiet_hours": "off"})
    assert chosen.status_code == 200, chosen.text
    wait_status(citizen(api, receipt), tn, "triage")
    staff(platform, api, "operator").act(tn, "assign", opd_id="dlh", opd_name="Dinas Lingkungan Hidup")
    return chosen.json()


def test_a_gateway_that_fails_then_recovers_gets_retries(platform, api, notify, sinks):
    phone = f"+62812{uuid.uuid4().int % 10**7:07d}"
    receipt = submit(api, *UNCLEAR, email="", phone=phone)
    tn = receipt["tracking_number"]
    sinks.put("/api/faults/twilio", json={"status": 503, "times": 2})
    prefs = choose(api, notify, platform, receipt, channels=["sms"])
    assert prefs["channels"] == ["sms"] and "****" in prefs["phone"]

    def delivered():
        got = [r for r in sunk(sinks, "twilio", phone) if r["accepted"] and tn in r["text"]]
        return got or None
    wait_until(delivered, 90, "the SMS after the gateway recovered")
    refused = [r for r in sunk(sinks, "twilio", phone) if not r["accepted"]]
    assert len(refused) == 2 and all(r["status"] == 503 for r in refused)

    def logged():
        log = notify.get(f"/v1/complaints/{tn}/deliveries",
                         headers={"Authorization": f"Bearer {receipt['access_token']}"}).json()
        assigned = [d for d in log if d["template"] == "complaint_assigned"]
        return assigned[0] if assigned and assigned[0]["status"] == "sent" else None
    d = wait_until(logged, 30, "the log")
    assert [a["outcome"] for a in d["log"]] == ["retry", "retry", "sent"] and d["channels"] == ["sms"]


def test_a_gateway_that_stays_down_falls_back_to_the_next_channel(platform, api, mail, notify, sinks):
    phone = f"+62813{uuid.uuid4().int % 10**7:07d}"
    receipt = submit(api, *UNCLEAR, phone=phone)
    tn = receipt["tracking_number"]
    sinks.put("/api/faults/gateway", json={"status": 503, "times": None})
    choose(api, notify, platform, receipt, channels=["whatsapp", "email"])
    message = mail_of(mail, receipt, "complaint_assigned", timeout=90)
    assert tn in message["text"]
    tried = [r for r in sunk(sinks, "gateway", phone)]
    assert len(tried) == 2 and not any(r["accepted"] for r in tried), \
        "WhatsApp was tried its two attempts, refused every time"

    def on_timeline():
        history = citizen(api, receipt).get(tn)["history"]
        hits = [h for h in history if h["action"] == "citizen_notified"
                and h["details"].get("template") == "complaint_assigned"]
        return hits[0] if hits else None
    entry = wait_until(on_timeline, 30, "the timeline entry")
    assert entry["details"]["channel"] == "email" and entry["details"]["fell_back_from"] == ["whatsapp"]


def test_kill_9_of_notify_in_a_burst_neither_loses_nor_repeats(platform, api, mail):
    receipts = [submit(api, *TRASH) for _ in range(30)]
    first = mail_of(mail, receipts[0], "complaint_assigned", timeout=60)
    assert first
    platform.kill("notify")
    started = time.monotonic()
    platform.start_service("notify")
    platform.wait_service("notify")
    everyone = {r["email"]: r for r in receipts}

    def all_routed():
        got = {}
        for m in mail.get("/api/messages").json():
            rcpt = m["rcpt_tos"][0]
            if rcpt in everyone and m["headers"].get("X-Lapor-Template") in ("complaint_received",
                                                                               "complaint_assigned"):
                got.setdefault((rcpt, m["headers"]["X-Lapor-Template"]), []).append(
                    m["headers"]["Message-ID"])
        routed = {rcpt for rcpt, template in got if template == "complaint_assigned"}
        return got if len(routed) == len(receipts) else None
    # A receipt is said with the assignment, unless notify was away longer than its hold.
    got = wait_until(all_routed, 180, "every routed message after the kill")
    print(f"\nnotify back and caught up {time.monotonic() - started:.1f}s after kill -9")
    assert all(len(set(ids)) == 1 for ids in got.values()), "one Message-ID per message"
    repeats = sum(len(ids) - 1 for ids in got.values())
    assert repeats <= 16, f"{repeats} repeats: only messages in flight at the kill, same Message-ID"
