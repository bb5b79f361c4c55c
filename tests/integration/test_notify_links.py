"""notify's stores: the in-memory twins and PostgreSQL behave alike (merge links, deliveries
and their log, contacts and preferences, the directory), and the upgrades keep what was owed."""

import json
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from importlib import resources

import pytest

from backbone.db import apply_migrations
from backbone.pii import PiiCipher
from contracts.events import CitizenContactProvidedV2, ComplaintFollowedUpV1, ComplaintMergedV1
from notify import handlers
from notify.adapters.uow import NotifyInMemoryUnitOfWork, NotifyPgUnitOfWork
from notify.domain import outcomes
from notify.domain.delivery import Contact, Profile, StaffAddress, WebhookEndpoint
from notify.domain.retry import RetryPolicy, SendFailed
from tests.integration.helpers import read_ahead, twin_or_postgres

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
CIPHER = PiiCipher(PiiCipher.new_key())
LEASE = timedelta(seconds=60)


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


def contact(cid, tracking, email, token_hash=None):
    return CitizenContactProvidedV2(
        complaint_id=cid, occurred_at=T0, tracking_number=tracking, has_email=True,
        sealed_contact=CIPHER.seal({"name": None, "email": email, "phone": None}).decode(),
        access_token_hash=token_hash)


def transition(model, cid, tracking, at, **extra):
    return model(complaint_id=cid, occurred_at=at, tracking_number=tracking, jurisdiction="k",
                 action="act", from_status="a", to_status="b", actor_role="opd", **extra)


async def test_one_fact_is_owed_once_to_each_citizen_whatever_the_order_and_replays(make_uow):
    target, duplicate = uuid.uuid4(), uuid.uuid4()
    before = transition(ComplaintFollowedUpV1, target, "1000003", T0 - timedelta(days=1), note="awal")
    after = transition(ComplaintFollowedUpV1, target, "1000003", T0 + timedelta(days=1), note="lanjut")
    merge = transition(ComplaintMergedV1, duplicate, "1000007", T0, into_complaint_id=target,
                       into_tracking_number="1000003")
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
        due = await uow.deliveries.claim_due(T0 + timedelta(days=2), 10, LEASE)
    owed = sorted((d.delivery.recipient_id == target, d.delivery.template) for d in due)
    assert owed == [(False, "complaint_followed_up"), (False, "complaint_merged"),
                    (True, "complaint_followed_up"), (True, "complaint_followed_up")]
    assert {d.contact.tracking_number for d in due} == {"1000003", "1000007"}


async def test_claim_settle_and_the_attempt_log(make_uow):
    cid = uuid.uuid4()
    async with make_uow() as uow:
        await handlers.on_contact_provided(contact(cid, "1000001", "a@example.id"), uow)
        await uow.contacts.save_profile(Profile(cid, "1000001", "kota-bandung", "web", False,
                                                "fe-1", "Judul"), T0)
        await handlers.on_complaint_followed_up(
            transition(ComplaintFollowedUpV1, cid, "1000001", T0, note="n"), uow)
    async with make_uow() as uow:
        [item] = await uow.deliveries.claim_due(T0, 10, LEASE)
        assert await uow.deliveries.claim_due(T0, 10, LEASE) == [], "leased"
    assert item.profile.frontend == "fe-1" and item.profile.title == "Judul"
    assert item.contact.has_email and not item.contact.has_phone
    d = outcomes.start(item.delivery, ("email", "sms"))
    after, attempt = outcomes.failed(d, SendFailed("transient", "HTTP 503"),
                                     RetryPolicy(attempts=1), T0)
    async with make_uow() as uow:
        assert await uow.deliveries.settle(after, attempt)
    async with make_uow() as uow:
        [again] = await uow.deliveries.claim_due(T0 + timedelta(seconds=1), 10, LEASE)
        assert again.delivery.channel == "sms" and again.delivery.channels == ("email", "sms")
        done, sent = outcomes.succeeded(again.delivery, T0 + timedelta(seconds=2), "gateway", "gw-9")
        assert await uow.deliveries.settle(done, sent)
        assert not await uow.deliveries.settle(done, sent), "settled once"
    async with make_uow() as uow:
        [(logged, attempts)] = await uow.deliveries.of_complaint(cid)
    assert logged.status == "sent" and logged.attempts == 2
    assert [(a.channel, a.outcome, a.provider_ref) for a in attempts] == [
        ("email", "fallback", None), ("sms", "sent", "gw-9")]


async def test_cancel_requeue_and_the_digest_once_a_day(make_uow):
    cid, operator = uuid.uuid4(), uuid.uuid4()
    from notify.domain.facts import Fact
    rating = Fact(uuid.uuid4(), cid, T0, "rating_requested", {}, not_before=T0 + timedelta(hours=1))
    held = [Fact(uuid.uuid4(), cid, T0 + timedelta(minutes=m), "operator_sla_breached",
                 {"clock": "first_response", "due_at": T0.isoformat()}, jurisdiction="k",
                 tracking_number="1000001").delivery_to(operator, "operator", held=True)
            for m in range(3)]
    async with make_uow() as uow:
        assert await uow.deliveries.add(rating.delivery_to(cid))
        for h in held:
            assert await uow.deliveries.add(h)
    async with make_uow() as uow:
        assert await uow.deliveries.claim_due(T0 + timedelta(minutes=30), 10, LEASE) == [], \
            "not before its time; held ones never"
        assert await uow.deliveries.cancel(cid, "rating_requested", "rated") == 1
        [d] = [x for x, _ in await uow.deliveries.of_complaint(cid) if x.template == "rating_requested"]
        assert d.status == "cancelled"
        assert not await uow.deliveries.requeue(d.id, T0), "only failed or skipped come back"
        found = await uow.deliveries.held(T0 + timedelta(days=1))
        assert sorted(h.id for h in found) == sorted(h.id for h in held)
        digest = replace(held[0], id=uuid.uuid4(), about_event_id=uuid.uuid4(), status="pending",
                         template="operator_digest")
        assert await uow.deliveries.digested(operator, date(2026, 11, 24), digest, [h.id for h in held])
    async with make_uow() as uow:
        assert not await uow.deliveries.digested(operator, date(2026, 11, 24), digest, [])
        assert await uow.deliveries.held(T0 + timedelta(days=1)) == []


async def test_cancel_leaves_a_claimed_delivery_and_other_audiences_alone(make_uow):
    """A receipt a dispatcher has claimed may be on its way: cancelling it would mark a sent
    message cancelled. Once settled (here: a transient failure, waiting to retry) it is no
    longer in flight and can be cancelled; a front end's copy of the same fact is not the
    citizen's."""
    from notify.domain.facts import Fact
    cid, other = uuid.uuid4(), uuid.uuid4()
    received = Fact(uuid.uuid4(), cid, T0, "complaint_received", {})
    received_too = Fact(uuid.uuid4(), other, T0, "complaint_received", {})
    async with make_uow() as uow:
        for c, tn in ((cid, "1000001"), (other, "1000002")):
            await handlers.on_contact_provided(contact(c, tn, f"{tn}@example.id"), uow)
        assert await uow.deliveries.add(received.delivery_to(cid))
        assert await uow.deliveries.add(received_too.delivery_to(other))
        assert await uow.deliveries.add(received.delivery_to(uuid.uuid4(), "frontend"))
    async with make_uow() as uow:
        claimed = [i for i in await uow.deliveries.claim_due(T0, 10, LEASE)
                   if i.delivery.recipient_id == cid]
    async with make_uow() as uow:
        assert await uow.deliveries.cancel(cid, "complaint_received", "told", audience="citizen") == 0, \
            "in flight, and the front end's is not the citizen's"
        assert await uow.deliveries.cancel(other, "complaint_received", "told", audience="citizen") == 0
    [item] = claimed
    after, attempt = outcomes.failed(outcomes.start(item.delivery, ("email",)),
                                     SendFailed("transient", "421"), RetryPolicy(attempts=3), T0)
    async with make_uow() as uow:
        assert await uow.deliveries.settle(after, attempt)
    async with make_uow() as uow:
        assert await uow.deliveries.cancel(cid, "complaint_received", "told", audience="citizen") == 1
        statuses = sorted((d.audience, d.status) for d, _ in await uow.deliveries.of_complaint(cid))
    assert statuses == [("citizen", "cancelled"), ("frontend", "pending")]


async def test_a_batch_cancels_from_what_its_read_ahead_locked(make_uow):
    """A consumer batch locks what it may cancel up front and decides in memory: the counts
    are those one UPDATE each would give (in flight left alone, other audiences and kinds
    left alone, a second cancel finds nothing, also after the first is written), and the
    cancellations are written by the commit."""
    from notify.domain.facts import Fact
    a, b, c, untouched = (uuid.uuid4() for _ in range(4))
    received = {x: Fact(uuid.uuid4(), x, T0, "complaint_received", {}) for x in (a, b, c, untouched)}
    rating = Fact(uuid.uuid4(), b, T0, "rating_requested", {}, not_before=T0 + timedelta(hours=1))
    async with make_uow() as uow:
        await handlers.on_contact_provided(contact(c, "1000003", "c@example.id"), uow)
        for x, fact in received.items():
            assert await uow.deliveries.add(fact.delivery_to(x))
        assert await uow.deliveries.add(received[a].delivery_to(uuid.uuid4(), "frontend"))
        assert await uow.deliveries.add(rating.delivery_to(b))
    async with make_uow() as uow:        # c's receipt is on its way; a and b wait for a contact
        claimed = await uow.deliveries.claim_due(T0, 10, LEASE)
    assert c in {i.delivery.recipient_id for i in claimed}
    async with make_uow() as uow:
        await read_ahead(uow, uow.deliveries.cancellable_ahead([a, b, c], handlers.CANCELLABLE))
        assert await uow.deliveries.cancel(a, "complaint_received", "told", audience="citizen") == 1
        assert await uow.deliveries.cancel(a, "complaint_received", "told", audience="citizen") == 0
        assert await uow.deliveries.cancel(c, "complaint_received", "told", audience="citizen") == 0, \
            "in flight"
        assert await uow.deliveries.cancel(b, "rating_requested", "rated") == 1
        await uow.deliveries.facts_about(b, T0)     # a read writes what is held first
        assert await uow.deliveries.cancel(b, "rating_requested", "rated") == 0, "written, still gone"
    async with make_uow() as uow:
        status = {(d.complaint_id, d.template, d.audience): (d.status, d.last_error)
                  for x in (a, b, c, untouched) for d, _ in await uow.deliveries.of_complaint(x)}
    assert status[(a, "complaint_received", "citizen")] == ("cancelled", "told")
    assert status[(a, "complaint_received", "frontend")][0] == "pending"
    assert status[(b, "complaint_received", "citizen")][0] == "pending"
    assert status[(b, "rating_requested", "citizen")] == ("cancelled", "rated")
    assert status[(c, "complaint_received", "citizen")][0] == "pending"
    assert status[(untouched, "complaint_received", "citizen")][0] == "pending"


async def test_a_batchs_cancellations_go_with_its_rollback(make_uow):
    from notify.domain.facts import Fact
    cid = uuid.uuid4()
    async with make_uow() as uow:
        assert await uow.deliveries.add(Fact(uuid.uuid4(), cid, T0, "complaint_received",
                                             {}).delivery_to(cid))
    with pytest.raises(RuntimeError):
        async with make_uow() as uow:
            await read_ahead(uow, uow.deliveries.cancellable_ahead([cid], handlers.CANCELLABLE))
            assert await uow.deliveries.cancel(cid, "complaint_received", "told") == 1
            raise RuntimeError("the batch failed")
    async with make_uow() as uow:
        [(d, _)] = await uow.deliveries.of_complaint(cid)
    assert d.status == "pending"


async def test_contacts_preferences_and_the_directory(make_uow):
    cid = uuid.uuid4()
    async with make_uow() as uow:
        await handlers.on_contact_provided(contact(cid, "1000005", "c@example.id", "ab" * 32), uow)
        await handlers.on_contact_provided(contact(cid, "1000005", "c@example.id", None), uow)
    async with make_uow() as uow:
        complaint_id, found, token_hash, profile = await uow.contacts.by_tracking_number("1000005")
        assert (complaint_id, token_hash, profile) == (cid, "ab" * 32, None)
        await uow.contacts.update(cid, replace(found, preferences={"channels": ["sms"]},
                                               has_phone=True), T0)
    async with make_uow() as uow:
        _, found, _, _ = await uow.contacts.by_tracking_number("1000005")
        assert found.preferences == {"channels": ["sms"]} and found.has_phone
        assert await uow.contacts.by_tracking_number("999") is None
        staff = StaffAddress(uuid.uuid4(), "kota-a", "opd_staff", "dlh", "email",
                             CIPHER.seal({"address": "dlh@a.test"}))
        await uow.directory.add_staff(staff)
        await uow.directory.add_webhook(WebhookEndpoint(uuid.uuid4(), "fe", "https://fe.test/h",
                                                        CIPHER.seal({"secret": "whsec_x"})))
    async with make_uow() as uow:
        assert [a.id for a in await uow.directory.staff_for("kota-a", "opd_staff", "dlh")] == [staff.id]
        assert await uow.directory.staff_for("kota-a", "opd_staff", "pupr") == []
        assert await uow.directory.staff_for("kota-a", "operator", None) == []
        [hook] = await uow.directory.webhooks_for("fe")
        assert await uow.directory.remove_webhook(hook.id)
        assert await uow.directory.remove_staff(staff.id)
    async with make_uow() as uow:
        assert await uow.directory.webhooks_for("fe") == [] and await uow.directory.staff() == []


async def test_the_upgrades_keep_what_was_owed_and_its_uniqueness(pool, prefix):
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
    assert await apply_migrations(pool, schema, "notify") == [
        "notify:0002_merge_followers.sql", "notify:0003_channels_and_audiences.sql",
        "notify:0004_deliveries_in_flight.sql"]
    uow_factory = lambda: NotifyPgUnitOfWork(pool, "/test", prefix, schema)  # noqa: E731
    async with uow_factory() as uow:
        await uow.contacts.save_contact(cid, Contact(CIPHER.seal({"email": "a@example.id"}), "id",
                                                     "1", has_email=True), None)
        [own] = await uow.deliveries.facts_about(cid, datetime(2000, 1, 1, tzinfo=timezone.utc))
        assert own.id == fact
        await uow.deliveries.add(own.delivery_to(cid))     # owed again: still owed once
        [due] = await uow.deliveries.claim_due(datetime.now(timezone.utc), 10, LEASE)
    assert due.delivery.recipient_id == cid and due.contact.tracking_number == "1"
    assert due.delivery.channel == "pending" and due.delivery.channels == ()


async def test_a_batch_reads_ahead_and_sees_what_it_holds_back(make_uow):
    """What a consumer batch reads before its handlers, and what they write (held back until
    the commit on PostgreSQL), is what later reads in the batch and later batches see: a
    receipt cancelled in the batch that owed it is written cancelled, and a merge made in the
    batch gives its target followers."""
    from notify.domain.facts import Fact
    cid, duplicate = uuid.uuid4(), uuid.uuid4()
    profile = Profile(cid, "1000011", "kota-bandung", "web", False, None, "Jalan rusak")
    received = Fact(uuid.uuid4(), cid, T0, "complaint_received", {})
    async with make_uow() as uow:
        await read_ahead(uow, handlers.read_ahead([cid, duplicate], uow))
        assert await uow.contacts.profile(cid) is None
        assert await uow.merges.followers(cid, T0) == []
        await uow.contacts.assigned(cid, "pupr", "Dinas PUPR")
        assert await uow.contacts.opd_name(cid, "pupr") is None, "no complaint to assign yet"
        await uow.contacts.save_profile(profile, T0)
        await uow.contacts.assigned(cid, "dlh", "Dinas Lingkungan Hidup")
        assert await uow.contacts.profile(cid) == profile
        assert await uow.contacts.opd_name(cid, "dlh") == "Dinas Lingkungan Hidup"
        assert await uow.contacts.opd_name(cid, "pupr") is None
        assert await uow.deliveries.add(received.delivery_to(cid))
        assert not await uow.deliveries.add(received.delivery_to(cid)), "owed once"
        assert await uow.deliveries.cancel(cid, "complaint_received", "said with the assignment",
                                           audience="citizen") == 1
        assert await uow.merges.link(duplicate, cid, T0)
        assert await uow.merges.followers(cid, T0) == [duplicate]
    async with make_uow() as uow:
        await read_ahead(uow, handlers.read_ahead([cid], uow))
        assert await uow.contacts.profile(cid) == profile
        assert await uow.contacts.opd_name(cid, "dlh") == "Dinas Lingkungan Hidup"
        assert await uow.merges.followers(cid, T0) == [duplicate]
        [(d, _)] = await uow.deliveries.of_complaint(cid)
    assert (d.status, d.last_error) == ("cancelled", "said with the assignment")
