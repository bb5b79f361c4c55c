"""Per-OPD feeds and OPD systems' actions on the real platform: a submitted complaint routed to
dinas-pupr appears on that OPD's own topic with its text and without anyone's identity (an
anonim reporter: no name, contacts, street address or coordinates); the citizen's reply follows
it there; an OPD system acts on the actions topic with its signed service-account token, as a
system outside the platform would (CloudEvents headers written by hand), and the complaint
changes (seen through the operator API); the same action with another OPD's token is refused
and told on that OPD's feed, and one signed with a key the platform does not trust changes
nothing."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timezone

import jwt
import pytest
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric import ec

from tests.e2e.test_channels import bootstrap, read_until
from tests.e2e.test_lifecycle import DLH, PUPR, citizen, staff, wait_status

pytestmark = pytest.mark.e2e

SECRETS = ("Siti Rahayu", "siti.rahayu", "example.id", "081234567890", "0812-3456-7890",
           "Jl. Merdeka No. 10", "-6.9175", "107.6191")


def feed_topic(platform, jurisdiction: str, opd: str) -> str:
    return f"{platform.c.topic_prefix}complaints.opd.{jurisdiction}.{opd}"


def send_action(platform, complaint_id: str, body: dict) -> None:
    """What an OPD system writes: CloudEvents 1.0 binary mode on complaints.opd.actions."""
    headers = [("ce_id", str(uuid.uuid4()).encode()), ("ce_source", b"/opd-systems/simpupr"),
               ("ce_type", b"id.lapor.TakeOpdAction.v1"), ("ce_specversion", b"1.0"),
               ("ce_time", datetime.now(timezone.utc).isoformat().encode()),
               ("content-type", b"application/json")]
    value = json.dumps({"complaint_id": complaint_id,
                        "occurred_at": datetime.now(timezone.utc).isoformat(), **body}).encode()

    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap(platform), acks="all",
                                    enable_idempotence=True)
        await producer.start()
        try:
            await producer.send_and_wait(f"{platform.c.topic_prefix}complaints.opd.actions", value,
                                         key=complaint_id.encode(), headers=headers)
        finally:
            await producer.stop()
    asyncio.run(send())


def of_type(records, ce_type: str, tracking_number: str) -> list[dict]:
    return [json.loads(r.value) for r in records
            if dict(r.headers).get("ce_type") == f"id.lapor.{ce_type}".encode()
            and json.loads(r.value)["tracking_number"] == tracking_number]


def test_feed_and_actions_of_an_opd_system(platform, api):
    response = api.post("/v1/complaints", json={
        "title": "Jalan berlubang di Jl. Merdeka",
        "description": "Mhn diperbaiki, jalan berlubang besar di depan SDN 3 sdh dua minggu. "
                       "Hub saya 0812-3456-7890 atau siti.rahayu@example.id.",
        "location": {"address": "Jl. Merdeka No. 10", "kecamatan": "Sumur Bandung",
                     "kelurahan": "Babakan Ciamis", "lat": -6.9175, "lon": 107.6191},
        "anonymous": True,
        "reporter": {"name": "Siti Rahayu", "email": "siti.rahayu@example.id",
                     "phone": "081234567890"}})
    assert response.status_code == 201, response.text
    receipt = response.json()
    tn = receipt["tracking_number"]
    operator = staff(platform, api, "operator")
    disposed = wait_status(operator, tn, "disposed")
    assert disposed["assigned_opd"]["id"] == PUPR
    jurisdiction = disposed["jurisdiction"]
    pupr_feed = feed_topic(platform, jurisdiction, PUPR)

    # 1. The disposition is on dinas-pupr's own topic, with the text and no identity.
    records = read_until(platform, pupr_feed,
                         lambda rs: of_type(rs, "OpdComplaintAssigned.v1", tn))
    (view,) = of_type(records, "OpdComplaintAssigned.v1", tn)
    assert view["opd_id"] == PUPR and view["jurisdiction"] == jurisdiction
    assert view["title"] == "Jalan berlubang di Jl. Merdeka" and "SDN 3" in view["description"]
    assert view["anonymous"] is True
    assert view["location"] == {"kecamatan": "Sumur Bandung", "kelurahan": "Babakan Ciamis",
                                "address": None, "lat": None, "lon": None}
    mine = [r for r in records if json.loads(r.value)["tracking_number"] == tn]
    for record in mine:
        assert record.key.decode() == view["complaint_id"]
        headers = dict(record.headers)
        assert headers["ce_specversion"] == b"1.0" and headers["ce_subject"] == record.key
        for secret in SECRETS:
            assert secret not in record.value.decode()

    # 2. The OPD system accepts and responds on the actions topic, with its own signed token.
    pupr_system = platform.staff_token("opd", opd=PUPR, subject="svc-simpupr")
    send_action(platform, view["complaint_id"], {
        "request_id": "simpupr-1", "tracking_number": tn, "action": "accept", "token": pupr_system})
    send_action(platform, view["complaint_id"], {
        "request_id": "simpupr-2", "tracking_number": tn, "action": "respond",
        "note": "Tim kami meninjau lokasi hari Senin.", "token": pupr_system})
    followed = wait_status(operator, tn, "followed_up")
    assert followed["assigned_opd"]["id"] == PUPR
    assert any(h["action"] == "respond" and h["note"] == "Tim kami meninjau lokasi hari Senin."
               for h in followed["history"])

    # 3. The citizen's reply reaches the OPD's feed (its own steps are echoed there too).
    citizen(api, receipt).act(tn, "citizen_reply", note="Lubangnya makin besar, WA 0812-3456-7890")
    records = read_until(platform, pupr_feed, lambda rs: any(
        u["action"] == "citizen_reply" for u in of_type(rs, "OpdComplaintUpdated.v1", tn)))
    updates = of_type(records, "OpdComplaintUpdated.v1", tn)
    assert [u["action"] for u in updates][:3] == ["accept", "respond", "citizen_reply"]
    reply = updates[2]
    assert reply["note"] == "Lubangnya makin besar, WA [disamarkan]"
    assert reply["actor_role"] == "citizen"

    # 4. Another OPD's valid token cannot act for dinas-pupr: refused, told on its own feed.
    send_action(platform, view["complaint_id"], {
        "request_id": "dlh-1", "tracking_number": tn, "jurisdiction": jurisdiction,
        "action": "resolve", "evidence": "Sudah ditambal.",
        "token": platform.staff_token("opd", opd=DLH, subject="svc-dlh")})
    told = read_until(platform, feed_topic(platform, jurisdiction, DLH),
                      lambda rs: of_type(rs, "OpdActionRefused.v1", tn))
    (refusal,) = of_type(told, "OpdActionRefused.v1", tn)
    assert (refusal["reason"], refusal["opd_id"], refusal["request_id"]) == ("not_found", DLH, "dlh-1")
    assert refusal["current_status"] is None and "token" not in refusal

    # 5. A token signed with a key the platform does not trust names no one and changes nothing.
    forged = jwt.encode({"sub": "x", "aud": "lapor", "role": "opd", "opd": PUPR,
                         "exp": int(datetime.now(timezone.utc).timestamp()) + 600},
                        ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")
    send_action(platform, view["complaint_id"], {
        "request_id": "forged-1", "tracking_number": tn, "action": "resolve",
        "evidence": "Palsu.", "token": forged})
    # Then a valid one behind it on the same partition: once it applied, the forgery was read.
    send_action(platform, view["complaint_id"], {
        "request_id": "simpupr-3", "tracking_number": tn, "action": "respond",
        "note": "Penambalan dijadwalkan Rabu.", "token": pupr_system})
    records = read_until(platform, pupr_feed, lambda rs: sum(
        u["action"] == "respond" for u in of_type(rs, "OpdComplaintUpdated.v1", tn)) == 2)
    after = operator.get(tn)
    assert after["status"] == "followed_up"
    assert not any(h["action"] == "resolve" for h in after["history"])
    assert of_type(records, "OpdActionRefused.v1", tn) == []
