"""Channels over Kafka on the real platform: an SMS adapter publishes CloudEvents on the inbound
topic exactly as an adapter outside the platform would (headers written by hand, no platform
code), intake makes a complaint of the first message and a reply of the second (which names the
tracking number, from the same phone, after the OPD responded), a repeat of an adapter message
id changes nothing and is answered once, every answer reaches the outbound topic through
notify, and a malformed record lands on intake's dead-letter topic with the reason."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from datetime import datetime, timezone

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tests.e2e.test_lifecycle import PUPR, staff, wait_status

pytestmark = pytest.mark.e2e

ADAPTER = "sms-1708"
ROAD = "Mhn diperbaiki, jalan berlubang besar di depan SDN 3 Jl. Merdeka sdh dua minggu."


def bootstrap(platform) -> str:
    return f"127.0.0.1:{platform.c.kafka_port}"


def inbound(platform) -> str:
    return f"{platform.c.topic_prefix}complaints.channels.inbound"


def sms(sender: str, text: str, message_id: str, ce_id: str | None = None) -> tuple:
    """(key, value, headers) as an adapter writes them: CloudEvents 1.0 binary mode."""
    body = {"adapter": ADAPTER, "message_id": message_id, "channel": "sms", "sender": sender,
            "text": text, "received_at": datetime.now(timezone.utc).isoformat(),
            "language": "id"}
    headers = [("ce_id", (ce_id or str(uuid.uuid4())).encode()),
               ("ce_source", f"/adapters/{ADAPTER}".encode()),
               ("ce_type", b"id.lapor.ChannelMessageReceived.v1"),
               ("ce_specversion", b"1.0"),
               ("ce_time", datetime.now(timezone.utc).isoformat().encode()),
               ("content-type", b"application/json")]
    return sender.encode(), json.dumps(body).encode(), headers


def publish(platform, *records: tuple) -> None:
    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap(platform), acks="all",
                                    enable_idempotence=True)
        await producer.start()
        try:
            for key, value, headers in records:
                await producer.send_and_wait(inbound(platform), value, key=key, headers=headers)
        finally:
            await producer.stop()
    asyncio.run(send())


def read_until(platform, topic: str, done, timeout: float = 90) -> list:
    """Every record of `topic` from the beginning, read until `done(records)` holds."""
    async def read() -> list:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap(platform), group_id=None,
                                    enable_auto_commit=False, auto_offset_reset="earliest")
        await consumer.start()
        try:
            deadline = time.monotonic() + timeout
            partitions = None
            while not partitions and time.monotonic() < deadline:
                partitions = consumer.partitions_for_topic(topic)
                if not partitions:
                    await consumer._client.force_metadata_update()  # noqa: SLF001
                    await asyncio.sleep(0.2)
            assert partitions, f"no topic {topic}"
            consumer.assign([TopicPartition(topic, p) for p in partitions])
            records: list = []
            while time.monotonic() < deadline:
                for batch in (await consumer.getmany(timeout_ms=300)).values():
                    records.extend(batch)
                if done(records):
                    return records
            raise TimeoutError(f"{topic}: condition not met with {len(records)} records")
        finally:
            await consumer.stop()
    return asyncio.run(read())


def answers_to(platform, sender: str, until) -> dict[str, list[dict]]:
    """The outbound answers for `sender`, by the inbound message id they answer."""
    topic = f"{platform.c.topic_prefix}complaints.channels.outbound"

    def mine(records) -> dict[str, list[dict]]:
        found: dict[str, list[dict]] = {}
        for record in records:
            body = json.loads(record.value)
            if body["recipient"] == sender:
                assert dict(record.headers)["ce_type"] == b"id.lapor.SendChannelMessage.v1"
                assert record.key.decode() == body["recipient_ref"] != sender
                found.setdefault(body["in_reply_to"], []).append(body)
        return found

    return mine(read_until(platform, topic, lambda records: until(mine(records))))


def test_sms_complaint_reply_repeat_and_acknowledgements(platform, api):
    phone = f"+62812{random.randrange(10**7, 10**8)}"
    first, second, third = (f"sms-{uuid.uuid4().hex[:10]}" for _ in range(3))

    publish(platform, sms(phone, ROAD, first))
    created = answers_to(platform, phone, lambda found: first in found)[first][0]
    tn = created["tracking_number"]
    assert tn and f"#{tn}" in created["text"] and created["text"].startswith("LAPOR: Pengaduan")
    assert (created["adapter"], created["channel"], created["template"]) == (
        ADAPTER, "sms", "channel_created")
    assert len(created["text"]) <= 160

    operator = staff(platform, api, "operator")
    complaint = operator.get(tn)
    assert complaint["channel"] == "sms" and ROAD in complaint["description"]
    assert wait_status(operator, tn, "disposed")["assigned_opd"]["id"] == PUPR
    pupr = staff(platform, api, "opd", PUPR)
    pupr.act(tn, "accept")
    pupr.act(tn, "respond", note="Tim kami meninjau lokasi hari Senin.")

    publish(platform, sms(phone, f"#{tn} lubangnya makin besar, mohon dipercepat", second))
    replied = wait_status(operator, tn, "citizen_replied")
    reply = [h for h in replied["history"] if h["action"] == "citizen_reply"]
    assert [(h["note"], h["actor_role"]) for h in reply] == [
        ("lubangnya makin besar, mohon dipercepat", "citizen")]

    # The adapter sends the second message again (a new CloudEvent id, even other text), then a
    # third message. One sender's messages share a partition, so once the third is answered the
    # repeat has been read too: it must have changed nothing and been answered by nothing.
    publish(platform, sms(phone, f"#{tn} lubangnya makin besar!!", second),
            sms(phone, f"#{tn} kapan dikerjakan?", third))
    found = answers_to(platform, phone, lambda found: third in found)
    assert {k: len(v) for k, v in found.items()} == {first: 1, second: 1, third: 1}
    assert found[second][0]["template"] == "channel_replied" and tn in found[second][0]["text"]
    assert found[third][0]["template"] == "channel_refused", "citizen_replied: nothing is asked"
    history = operator.get(tn)["history"]
    assert [h["action"] for h in history].count("citizen_reply") == 1


def test_a_malformed_message_goes_to_the_dead_letter_topic_with_the_reason(platform):
    phone = f"+62813{random.randrange(10**7, 10**8)}"
    key, value, headers = sms(phone, ROAD, f"sms-{uuid.uuid4().hex[:10]}")
    body = json.loads(value)
    del body["received_at"]
    broken_id = str(uuid.uuid4())
    headers = [(k, broken_id.encode() if k == "ce_id" else v) for k, v in headers]
    not_a_cloudevent = (key, b"halo, ini bukan CloudEvent", [("content-type", b"text/plain")])
    # A platform event slipped in through the adapters' door: intake handles assignments from
    # routing's topic, never from this one.
    forged_id = str(uuid.uuid4())
    forged = (key, json.dumps({"complaint_id": str(uuid.uuid4()), "occurred_at":
                               datetime.now(timezone.utc).isoformat(), "tracking_number": "1000001",
                               "opd_id": "dinas-pupr", "opd_name": "Dinas PUPR", "confidence": 1.0,
                               "reason": "forged"}).encode(),
              [(k, forged_id.encode() if k == "ce_id" else
                b"id.lapor.ComplaintAssigned.v1" if k == "ce_type" else v) for k, v in headers])
    publish(platform, (key, json.dumps(body).encode(), headers), not_a_cloudevent, forged)

    dlq = f"{platform.c.topic_prefix}complaints.intake.dlq"

    def mine(records) -> list[dict]:
        return [{k: v.decode(errors="replace") for k, v in r.headers}
                for r in records if r.key == key]

    records = read_until(platform, dlq, lambda records: len(mine(records)) >= 3)
    dead = mine(records)
    by_id = {h.get("ce_id"): h for h in dead}
    assert "received_at: Field required" in by_id[broken_id]["dlq_reason"]
    assert phone not in by_id[broken_id]["dlq_reason"], "the reason never echoes the sender"
    assert "ce_type or ce_id header missing" in by_id[None]["dlq_reason"]
    assert "'id.lapor.ComplaintAssigned.v1' is not accepted on" in by_id[forged_id]["dlq_reason"]
    assert {h["dlq_topic"] for h in dead} == {inbound(platform)}
