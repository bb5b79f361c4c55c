"""sla against real Kafka and PostgreSQL with an injected clock: lifecycle facts on intake's
topic become clocks, and moving time makes them warn and breach on the alerts topic; a restart
in the middle of firing loses nothing and fires nothing twice; two workers sharing the clocks
never fire the same one."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiokafka import AIOKafkaProducer

from contracts import events as ev
from contracts.envelope import to_record, wrap
from contracts.topics import INTAKE_EVENTS, SLA_ALERTS
from devstack.tokens import SigningKey
from sla.app import bootstrap
from sla.config import SlaSettings
from tests.integration.helpers import eventually, read_topic

pytestmark = pytest.mark.integration

WIB = ZoneInfo("Asia/Jakarta")
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=WIB)
KEY = SigningKey.generate()


class MovableNow:
    """The service's time source: it moves only when the test says so."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


async def start_sla(infra, prefix: str, now: MovableNow, **overrides):
    settings = SlaSettings(
        database_url=infra.dsn, db_schema=prefix.replace(".", "") + "_sla",
        kafka_bootstrap_servers=f"127.0.0.1:{infra.c.kafka_port}", topic_prefix=prefix,
        jwt_public_key=KEY.public_pem, fire_poll_interval=0.05, relay_poll_interval=0.1,
        consumer_backoff_initial=0.01, consumer_backoff_max=0.1, **overrides)
    app = bootstrap(settings, now=now)
    await app.state.runtime.start()
    return app


async def publish(bootstrap_servers: str, topic: str, facts: list[ev.Event]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, enable_idempotence=True)
    await producer.start()
    try:
        for fact in facts:
            key, value, headers = to_record(wrap(fact, "/intake"))
            await producer.send(topic, value, key=key, headers=headers)
        await producer.flush()
    finally:
        await producer.stop()


def submitted_and_disposed(at: datetime, opd: str = "dinas-pupr") -> list[ev.Event]:
    cid = uuid.uuid4()
    tn = str(uuid.uuid4().int % 10**12)
    common = dict(complaint_id=cid, tracking_number=tn, jurisdiction="kota-bandung")
    return [
        ev.ComplaintSubmittedV1(**common, occurred_at=at, channel="web", title="Jalan rusak",
                                description="Jalan berlubang di depan SD", category="pupr.jalan-rusak"),
        ev.ComplaintDisposedV1(**common, occurred_at=at + timedelta(minutes=5), action="assign",
                               from_status="submitted", to_status="disposed", actor_role="system",
                               opd_id=opd, opd_name="Dinas PUPR", category="pupr.jalan-rusak"),
    ]


async def count(app, sql: str, *args) -> int:
    return await app.state.runtime.pool.fetchval(sql, *args)


def alerts_by_clock(records) -> Counter:
    """(clock id, alert type, threshold or step) -> how many records told it."""
    seen = Counter()
    for record in records:
        headers = dict(record.headers)
        kind = headers["ce_type"].decode()
        body = ev.EVENT_TYPES[kind].model_validate_json(record.value)
        seen[(body.clock_id, kind, getattr(body, "threshold", None) or getattr(body, "step", None))] += 1
    return seen


async def test_lifecycle_facts_become_clocks_that_warn_and_breach_on_the_alerts_topic(
        infra, prefix, bootstrap):
    now = MovableNow(MONDAY)
    app = await start_sla(infra, prefix, now)
    try:
        await publish(bootstrap, INTAKE_EVENTS.name(prefix), submitted_and_disposed(MONDAY))
        await eventually(lambda: count(app, "SELECT count(*) = 1 FROM clocks WHERE kind = "
                                            "'first_response' AND state = 'running'"),
                         "a first-response clock runs")
        due = await app.state.runtime.pool.fetchval(
            "SELECT due_at FROM clocks WHERE kind = 'first_response'")
        assert due.astimezone(WIB) == datetime(2026, 11, 30, 23, 59, 59, tzinfo=WIB)  # 5 working days
        assert await count(app, "SELECT count(*) FROM alerts") == 0

        now.at = due - timedelta(hours=8)          # the due day, during office hours: at risk
        await eventually(lambda: count(app, "SELECT count(*) = 2 FROM alerts WHERE type = 'warning'"),
                         "both warnings before the breach")
        now.at = due + timedelta(seconds=1)
        await eventually(lambda: count(app, "SELECT count(*) = 1 FROM alerts WHERE type = 'breach'"),
                         "the breach, within a second of the deadline")
        records = await read_topic(bootstrap, SLA_ALERTS.name(prefix), expect=4)
    finally:
        await app.state.runtime.stop()
    told = alerts_by_clock(records)
    assert sorted(k[1].rsplit(".", 2)[-2] for k in told) == [
        "SlaBreached", "SlaEscalated", "SlaWarningIssued", "SlaWarningIssued"]
    assert set(told.values()) == {1}
    bodies = [ev.EVENT_TYPES[dict(r.headers)["ce_type"].decode()].model_validate_json(r.value)
              for r in records]
    assert {(b.clock, b.opd_id, b.jurisdiction) for b in bodies} == {
        ("first_response", "dinas-pupr", "kota-bandung")}


async def test_a_restart_in_the_middle_of_firing_loses_nothing_and_fires_nothing_twice(
        infra, prefix, bootstrap):
    now = MovableNow(MONDAY)
    app = await start_sla(infra, prefix, now, fire_batch_size=3)
    facts = [f for i in range(30) for f in submitted_and_disposed(MONDAY + timedelta(minutes=i))]
    try:
        await publish(bootstrap, INTAKE_EVENTS.name(prefix), facts)
        await eventually(lambda: count(app, "SELECT count(*) = 30 FROM clocks WHERE kind = "
                                            "'first_response'"), "30 clocks", timeout=60)
        now.at = MONDAY + timedelta(days=8)          # Tuesday after: every first response breached
        await eventually(lambda: count(app, "SELECT count(*) > 0 FROM alerts WHERE type = 'breach'"),
                         "firing has begun")
    finally:
        await app.state.runtime.stop()               # in the middle of it
    app = await start_sla(infra, prefix, now, fire_batch_size=3)
    try:
        await eventually(lambda: count(app, "SELECT count(*) = 30 FROM alerts WHERE type = 'breach'"),
                         "every clock breached once", timeout=60)
        await eventually(lambda: count(app, "SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL"),
                         "everything published")
        expected = await count(app, "SELECT count(*) FROM alerts")
        records = await read_topic(bootstrap, SLA_ALERTS.name(prefix), expect=expected)
    finally:
        await app.state.runtime.stop()
    told = alerts_by_clock(records)
    assert len(told) == expected and sum(k[1].endswith("SlaBreached.v1") for k in told) == 30
    assert set(told.values()) == {1}, "no alert told twice"


async def test_two_workers_never_fire_the_same_clock(infra, prefix, bootstrap):
    now = MovableNow(MONDAY)
    first = await start_sla(infra, prefix, now, fire_batch_size=2)
    second = await start_sla(infra, prefix, now, fire_batch_size=2)
    facts = [f for i in range(40) for f in submitted_and_disposed(MONDAY + timedelta(minutes=i))]
    try:
        await publish(bootstrap, INTAKE_EVENTS.name(prefix), facts)
        await eventually(lambda: count(first, "SELECT count(*) = 40 FROM clocks WHERE kind = "
                                              "'first_response'"), "40 clocks", timeout=60)
        now.at = MONDAY + timedelta(days=8)
        await eventually(lambda: count(first, "SELECT count(*) = 40 FROM alerts WHERE type = 'breach'"),
                         "every clock breached", timeout=60)
        await eventually(lambda: count(first, "SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL"),
                         "everything published")
        expected = await count(first, "SELECT count(*) FROM alerts")
        records = await read_topic(bootstrap, SLA_ALERTS.name(prefix), expect=expected)
    finally:
        await first.state.runtime.stop()
        await second.state.runtime.stop()
    told = alerts_by_clock(records)
    assert sum(k[1].endswith("SlaBreached.v1") for k in told) == 40
    assert set(told.values()) == {1}, "one worker per clock"
