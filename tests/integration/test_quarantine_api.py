"""The outbox quarantine as operators reach it, on a real relay, broker and PostgreSQL: a row
Kafka refuses is listed with its type and reason (never its payload), and once the cause is
fixed (here: the topic created) its release sends it on; only operators may do either."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI

from backbone import problems
from backbone.kafka import KafkaPublisher, ensure_topics
from backbone.quarantine_api import quarantine_router
from backbone.relay import OutboxRelay
from backbone.staff_auth import JwtSettings, JwtVerifier
from backbone.uow import PgUnitOfWork
from contracts.topics import NOTIFY_EVENTS, Topic
from devstack import tokens
from devstack.tokens import SigningKey
from tests.integration.helpers import eventually, read_topic
from tests.integration.test_faults import sent

pytestmark = pytest.mark.integration
KEY = SigningKey.generate()
Q = "/v1/outbox/quarantine"


def bearer(role="operator", **claims):
    return {"authorization": "Bearer " + KEY.mint(role, **claims)}


async def test_an_operator_lists_and_releases_what_kafka_refused(pool, prefix, bootstrap, dsn):
    schema = prefix.rstrip(".")
    later = Topic(f"created.later.{uuid.uuid4().hex[:8]}", 1, "test", "made after the refusal")
    wire = later.name(prefix)
    await ensure_topics(bootstrap, [NOTIFY_EVENTS], prefix, 1)
    async with PgUnitOfWork(pool, "/test", prefix, schema) as uow:
        refused = await uow.outbox.record(sent(1), later)
        fine = await uow.outbox.record(sent(2))

    publisher = KafkaPublisher(bootstrap, "test-relay")
    await publisher.start()
    relay = OutboxRelay(dsn, schema, publisher, service=schema, poll_interval=0.2)
    relay.start()
    app = FastAPI()
    app.include_router(quarantine_router())
    problems.install(app)
    app.state.runtime = SimpleNamespace(pool=pool, relay=relay)
    app.state.staff_tokens = JwtVerifier(JwtSettings(
        public_key=KEY.public_pem, audience=tokens.AUDIENCE, issuer=tokens.ISSUER))
    try:
        await read_topic(bootstrap, NOTIFY_EVENTS.name(prefix), expect=1)
        await eventually(lambda: pool.fetchval(
            "SELECT count(*) = 1 FROM outbox WHERE quarantined_at IS NOT NULL"), "quarantined")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://svc") as api:
            assert (await api.get(Q)).status_code == 401
            assert (await api.get(Q, headers=bearer("opd", opd="dlh"))).status_code == 403
            assert (await api.post(f"{Q}/{uuid.uuid4().int % 10**6}/release",
                                   headers=bearer("opd", opd="dlh"))).status_code == 403

            listed = (await api.get(Q, headers=bearer())).json()
            assert listed["total"] == 1
            [row] = listed["rows"]
            assert (row["event_id"], row["topic"]) == (refused.id, wire)
            assert row["event_type"] == sent(1).event_type
            assert "does not exist" in row["quarantine_reason"] and row["size_bytes"] > 0
            assert "value" not in row, "the payload is never shown"
            assert (await api.get(Q, params={"topic": "other"}, headers=bearer())).json() == {
                "rows": [], "total": 0}

            missing = await api.post(f"{Q}/{row['id'] + 1000}/release", headers=bearer())
            assert missing.status_code == 404
            assert missing.headers["content-type"] == "application/problem+json"

            await ensure_topics(bootstrap, [later], prefix, 1)   # the cause, fixed
            released = (await api.post(f"{Q}/release", params={"topic": wire},
                                       headers=bearer())).json()["released"]
            assert [r["id"] for r in released] == [row["id"]] and released[0]["quarantined_at"] is None
            [record] = await read_topic(bootstrap, wire, expect=1)
            assert dict(record.headers)["ce_id"].decode() == refused.id
            await eventually(lambda: pool.fetchval(
                "SELECT NOT EXISTS (SELECT 1 FROM outbox WHERE id = $1)", row["id"]),
                "published and deleted")
            assert (await api.get(Q, headers=bearer())).json()["total"] == 0
            again = await api.post(f"{Q}/{row['id']}/release", headers=bearer())
            assert again.status_code == 404, "a released row is not released twice"
    finally:
        await relay.stop()
        await publisher.stop()
    assert fine.id != refused.id
