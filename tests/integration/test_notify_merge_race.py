"""A merge and news of the complaint it joins, applied at the same moment by two notify replicas
(their events travel on different partitions): the duplicate's reporter still hears the news.

Each race is run on real PostgreSQL with two consumers. The first one's batch is held just
before its commit; the second batch is given the time to finish or to wait for it, then the
first commits. Without the followers' locks (`notify.adapters.merges`), the second finishes
without seeing the first's writes, and the reporter is owed nothing.
"""

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from backbone.consumer import ConsumedRecord, EventConsumer, Outcome
from backbone.db import LockSpace, apply_migrations
from backbone.kafka import InMemoryPublisher
from backbone.pii import PiiCipher
from contracts.envelope import to_record, wrap
from contracts.events import CitizenContactProvidedV2, ComplaintFollowedUpV1, ComplaintMergedV1
from notify import handlers
from notify.adapters.uow import NotifyPgUnitOfWork
from tests.integration import helpers
from tests.integration.helpers import HeldAtCommit

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
CIPHER = PiiCipher(PiiCipher.new_key())


class HeldNotify(HeldAtCommit, NotifyPgUnitOfWork):
    """A notify batch another replica is still applying."""


@pytest.fixture
async def world(pool, prefix):
    schema = prefix.rstrip(".")
    await apply_migrations(pool, schema, "notify")
    return pool, prefix, schema


def replica(world, **held) -> EventConsumer:
    pool, prefix, schema = world
    make = (lambda: HeldNotify(pool, "/notify", prefix, schema, **held)) if held else \
        (lambda: NotifyPgUnitOfWork(pool, "/notify", prefix, schema))
    consumer = EventConsumer("notify", make, InMemoryPublisher(), "t.dlq", max_attempts=1)
    handlers.Owing().subscribe(consumer)
    return consumer


def record(event, offset=0) -> ConsumedRecord:
    key, value, headers = to_record(wrap(event, "/intake"))
    return ConsumedRecord("t.intake", 0, offset, key, value, headers)


def contact(cid):
    return CitizenContactProvidedV2(
        complaint_id=cid, occurred_at=T0, tracking_number=str(cid.int % 10**7), has_email=True,
        sealed_contact=CIPHER.seal({"name": None, "email": f"{cid.hex[:8]}@example.id",
                                    "phone": None}).decode())


def news(cid, at, note):
    return ComplaintFollowedUpV1(complaint_id=cid, occurred_at=at, tracking_number="1",
                                 jurisdiction="k", action="follow_up", from_status="disposed",
                                 to_status="in_progress", actor_role="opd", note=note)


def merge(duplicate, into, at):
    return ComplaintMergedV1(complaint_id=duplicate, occurred_at=at, tracking_number="2",
                             jurisdiction="k", action="merge", from_status="verified",
                             to_status="merged", actor_role="operator", into_complaint_id=into,
                             into_tracking_number="1")


async def race(world, first, second) -> None:
    """`first` applied by one replica, held before its commit while the other applies
    `second`; then both commit."""
    done = await helpers.race(
        world[0], LockSpace.FOLLOWERS,
        lambda at_commit, gate: replica(world, at_commit=at_commit, gate=gate)
        .process_batch([record(first)]),
        lambda: replica(world).process_batch([record(second, 1)]))
    assert done == ([Outcome.APPLIED], [Outcome.APPLIED])


async def owed(world) -> dict[uuid.UUID, list[str]]:
    """What each citizen is owed: the note of each piece of news, or the kind of message."""
    pool, prefix, schema = world
    async with NotifyPgUnitOfWork(pool, "/notify", prefix, schema) as uow:
        due = await uow.deliveries.claim_due(T0 + timedelta(days=30), 100, timedelta(minutes=1))
    found: dict[uuid.UUID, list[str]] = {}
    for d in due:
        found.setdefault(d.delivery.recipient_id, []).append(
            d.delivery.context.get("note") or d.delivery.template)
    return {who: sorted(what) for who, what in found.items()}


async def given(world, *events) -> None:
    consumer = replica(world)
    for n, event in enumerate(events):
        assert await consumer.process_batch([record(event, n)]) == [Outcome.APPLIED]


async def test_news_being_applied_when_the_merge_comes_reaches_the_duplicate(world):
    target, duplicate = uuid.uuid4(), uuid.uuid4()
    await given(world, contact(target), contact(duplicate))
    await race(world, news(target, T0 + timedelta(hours=1), "diperbaiki"),
               merge(duplicate, target, T0))
    assert await owed(world) == {duplicate: ["complaint_merged", "diperbaiki"],
                                 target: ["diperbaiki"]}


async def test_news_that_comes_while_the_merge_is_applied_reaches_the_duplicate(world):
    target, duplicate = uuid.uuid4(), uuid.uuid4()
    await given(world, contact(target), contact(duplicate))
    await race(world, merge(duplicate, target, T0),
               news(target, T0 + timedelta(hours=1), "diperbaiki"))
    assert await owed(world) == {duplicate: ["complaint_merged", "diperbaiki"],
                                 target: ["diperbaiki"]}


async def test_two_merges_of_a_chain_at_once_still_carry_the_final_complaints_news(world):
    """D into T and T into U, applied at once: D's reporter follows U from the later merge on,
    and hears U's news since then, which was applied before either merge (and, following T,
    that T was merged too)."""
    d, t, u = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await given(world, contact(d), contact(t), contact(u),
                news(u, T0 + timedelta(hours=2), "selesai"))
    await race(world, merge(t, u, T0 + timedelta(hours=1)), merge(d, t, T0))
    assert await owed(world) == {d: ["complaint_merged", "complaint_merged", "selesai"],
                                 t: ["complaint_merged", "selesai"], u: ["selesai"]}
