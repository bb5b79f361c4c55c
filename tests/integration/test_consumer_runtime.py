"""A service's consumer against real Kafka and PostgreSQL: a redelivered event changes nothing,
and a poison message lands in the dead-letter topic with its reason while the next one is
processed. Runs the real backbone Runtime (Kafka consumer loop, inbox, outbox, relay)."""

import uuid
from datetime import datetime, timezone

from aiokafka import AIOKafkaProducer

from backbone.consumer import PermanentError
from backbone.runtime import Runtime
from backbone.settings import ServiceSettings
from backbone.uow import PgUnitOfWork
from contracts.envelope import to_record, wrap
from contracts.events import ComplaintAssignedV1, NotificationSentV1
from contracts.topics import NOTIFY_EVENTS, ROUTING_EVENTS, dead_letter_topic
from tests.integration.helpers import eventually, read_topic


def assigned(opd_id="dlh") -> ComplaintAssignedV1:
    return ComplaintAssignedV1(complaint_id=uuid.uuid4(), occurred_at=datetime.now(timezone.utc),
                               tracking_number="1000001", jurisdiction="kota-contoh", opd_id=opd_id,
                               opd_name="Dinas", confidence=1, reason="r")


async def started_runtime(infra, prefix, handler) -> Runtime:
    settings = ServiceSettings(
        service_name="probe", database_url=infra.dsn, db_schema=prefix.rstrip(".") + "_probe",
        kafka_bootstrap_servers=f"127.0.0.1:{infra.c.kafka_port}", topic_prefix=prefix,
        consumer_max_attempts=2, consumer_backoff_initial=0.01, consumer_backoff_max=0.05,
        relay_poll_interval=0.2,
    )
    runtime = Runtime(settings, migrations="backbone", consumes=[ROUTING_EVENTS],
                      produces=[NOTIFY_EVENTS],
                      uow_factory=lambda pool, s: PgUnitOfWork(pool, "/probe", s.topic_prefix, s.schema_name))
    runtime.consumer.on(ComplaintAssignedV1, handler)
    await runtime.start()
    return runtime


async def produce(bootstrap, topic, records):
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for key, value, headers in records:
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


async def notify_handler(event, uow):
    if event.opd_id == "refuse":
        raise PermanentError("this OPD does not exist")
    await uow.outbox.record(NotificationSentV1(
        complaint_id=event.complaint_id, occurred_at=event.occurred_at,
        tracking_number=event.tracking_number, channel="email", template="t", language="id",
        about_event_id=uuid.uuid4()))


async def test_redelivered_event_changes_nothing(infra, prefix, bootstrap):
    runtime = await started_runtime(infra, prefix, notify_handler)
    try:
        event = assigned()
        record = to_record(wrap(event, "/routing"))
        await produce(bootstrap, ROUTING_EVENTS.name(prefix), [record, record])  # same ce_id twice
        marker = to_record(wrap(assigned(), "/routing"))
        await produce(bootstrap, ROUTING_EVENTS.name(prefix), [marker])
        await eventually(lambda: runtime.pool.fetchval("SELECT count(*) = 2 FROM inbox"), "both applied")
        out = await read_topic(bootstrap, NOTIFY_EVENTS.name(prefix), expect=2)
    finally:
        await runtime.stop()
    keys = sorted(r.key for r in out)
    assert keys == sorted([record[0], marker[0]]), "one effect per distinct event"


async def test_poison_goes_to_dead_letters_and_the_next_record_is_processed(infra, prefix, bootstrap):
    runtime = await started_runtime(infra, prefix, notify_handler)
    try:
        good = assigned()
        key = str(good.complaint_id).encode()  # same key: same partition, right behind the poison
        poison = (key, b"{this is not json", [
            ("ce_id", b"poison-1"), ("ce_type", ComplaintAssignedV1.event_type.encode()),
            ("ce_source", b"/fuzz"), ("ce_specversion", b"1.0"), ("content-type", b"application/json")])
        refused = to_record(wrap(assigned(opd_id="refuse"), "/routing"))
        refused = (key, refused[1], refused[2])
        await produce(bootstrap, ROUTING_EVENTS.name(prefix),
                      [poison, refused, to_record(wrap(good, "/routing"))])
        dead = await read_topic(bootstrap, dead_letter_topic("probe").name(prefix), expect=2)
        notified = await read_topic(bootstrap, NOTIFY_EVENTS.name(prefix), expect=1)
    finally:
        await runtime.stop()
    reasons = {dict(r.headers)["ce_id"]: dict(r.headers)["dlq_reason"].decode() for r in dead}
    assert "malformed" in reasons[b"poison-1"]
    assert any("PermanentError: this OPD does not exist" in v for v in reasons.values())
    assert [r.value for r in dead][0] == b"{this is not json", "the original message travels along"
    assert [r.key for r in notified] == [key]
