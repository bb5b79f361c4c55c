"""notify's merge links and per-recipient deliveries: the in-memory twins and PostgreSQL behave
alike, and the upgrade from one delivery per fact keeps what was owed."""

import json
import uuid
from datetime import datetime, timedelta, timezone
from importlib import resources

import pytest

from backbone.db import apply_migrations
from backbone.pii import PiiCipher
from contracts.events import CitizenContactProvidedV2, ComplaintFollowedUpV1, ComplaintMergedV1
from notify import handlers
from notify.adapters.deliveries import NotifyInMemoryUnitOfWork, NotifyPgUnitOfWork
from notify.adapters.mailer import InMemoryMailer
from tests.integration.helpers import twin_or_postgres

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
CIPHER = PiiCipher(PiiCipher.new_key())


@pytest.fixture(params=["memory", "postgres"])
async def make_uow(request, pool, prefix):
    return await twin_or_postgres(request.param, pool, prefix, "notify", NotifyInMemoryUnitOfWork,
                                  lambda schema: NotifyPgUnitOfWork(pool, "/test", prefix, schema))


async def test_merge_links_chain_and_count_from_their_instant(make_uow):
    first, middle, final = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with make_uow() as uow:
        assert await uow.merges.link(first, middle, T0)
        assert await uow.merges.link(middle, final, T0 + timedelta(hours=1))
    async with make_uow() as uow:
        assert not await uow.merges.link(first, final, T0), "a replay changes nothing"
        assert await uow.merges.target_of(first) == (middle, T0)
        assert await uow.merges.target_of(final) is None
        assert await uow.merges.followers(final, T0 - timedelta(hours=1)) == []
        assert await uow.merges.followers(final, T0 + timedelta(minutes=30)) == []
        assert sorted(await uow.merges.followers(final, T0 + timedelta(hours=1))) == sorted([first, middle])
        assert await uow.merges.followers(middle, T0) == [first]


def contact(cid, tracking, email):
    return CitizenContactProvidedV2(
        complaint_id=cid, occurred_at=T0, tracking_number=tracking, has_email=True,
        sealed_contact=CIPHER.seal({"name": None, "email": email, "phone": None}).decode())


def transition(model, cid, tracking, at, **extra):
    return model(complaint_id=cid, occurred_at=at, tracking_number=tracking, jurisdiction="k",
                 action="act", from_status="a", to_status="b", actor_role="opd", **extra)


async def test_one_fact_is_sent_once_to_each_citizen_whatever_the_order_and_replays(make_uow):
    target, duplicate = uuid.uuid4(), uuid.uuid4()
    before = transition(ComplaintFollowedUpV1, target, "1000003", T0 - timedelta(days=1), note="awal")
    after = transition(ComplaintFollowedUpV1, target, "1000003", T0 + timedelta(days=1), note="lanjut")
    merge = transition(ComplaintMergedV1, duplicate, "1000007", T0, into_complaint_id=target,
                       into_tracking_number="1000003")
    # The target's later answer is read before the merge (another partition), then all again.
    steps = [(handlers.on_contact_provided, contact(target, "1000003", "ani@example.id")),
             (handlers.on_contact_provided, contact(duplicate, "1000007", "budi@example.id")),
             (handlers.on_complaint_followed_up, before), (handlers.on_complaint_followed_up, after),
             (handlers.on_complaint_merged, merge), (handlers.on_complaint_merged, merge),
             (handlers.on_complaint_followed_up, after)]
    for handler, event in steps:
        async with make_uow() as uow:
            await handler(event, uow)
    async with make_uow() as uow:
        facts = await uow.deliveries.facts_about(target, T0)
    assert [f.context["note"] for f in facts] == ["lanjut"]

    mailer = InMemoryMailer()
    for _ in range(2):
        await handlers.dispatch_due(make_uow, mailer, CIPHER, lambda: T0 + timedelta(days=2),
                                    max_attempts=3, limit=10)
    sent = sorted((m.to, m.subject) for m in mailer.sent)
    assert sent == [
        ("ani@example.id", "[LAPOR] Tindak lanjut atas pengaduan 1000003"),
        ("ani@example.id", "[LAPOR] Tindak lanjut atas pengaduan 1000003"),
        ("budi@example.id", "[LAPOR] Pengaduan 1000007 digabungkan dengan pengaduan 1000003"),
        ("budi@example.id", "[LAPOR] Tindak lanjut atas pengaduan 1000003"),
    ]
    assert len({m.message_id for m in mailer.sent}) == 4


async def test_the_upgrade_keeps_what_was_owed_and_its_uniqueness(pool, prefix):
    schema = prefix.rstrip(".")
    folder = resources.files("notify") / "migrations"
    cid, fact = uuid.uuid4(), uuid.uuid4()
    async with pool.acquire() as conn:  # a database at 0001, with one delivery owed
        await conn.execute((folder / "0001_deliveries.sql").read_text(encoding="utf-8"))
        await conn.execute("INSERT INTO schema_migrations (version) VALUES ('notify:0001_deliveries.sql')")
        await conn.execute(
            "INSERT INTO deliveries (id, complaint_id, about_event_id, channel, template, context)"
            " VALUES ($1, $2, $3, 'email', 'complaint_assigned', $4::jsonb)",
            uuid.uuid4(), cid, fact, json.dumps({"tracking_number": "1", "opd_name": "DLH"}))
    assert await apply_migrations(pool, schema, "notify") == ["notify:0002_merge_followers.sql"]
    uow_factory = lambda: NotifyPgUnitOfWork(pool, "/test", prefix, schema)  # noqa: E731
    async with uow_factory() as uow:
        await uow.deliveries.save_contact(cid, "1", CIPHER.seal({"email": "a@example.id"}), True, "id")
        [own] = await uow.deliveries.facts_about(cid, datetime(2000, 1, 1, tzinfo=timezone.utc))
        assert own.id == fact
        assert not await uow.deliveries.add(own.delivery_to(cid)), "still owed once"
        [due] = await uow.deliveries.claim_due(datetime.now(timezone.utc), 10, timedelta(seconds=60))
    assert due.delivery.recipient_id == cid and due.recipient_tracking_number == "1"
