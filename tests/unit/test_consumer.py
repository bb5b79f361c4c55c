"""The consumer's guarantees, against the in-memory twins: once-only effects, bounded retries,
poison records dead-lettered with their reason."""

import uuid
from datetime import datetime, timezone

import pytest

from backbone.consumer import ConsumedRecord, EventConsumer, Outcome, PermanentError
from backbone.kafka import InMemoryPublisher
from backbone.reads import Read
from backbone.uow import InMemoryUnitOfWork
from contracts.envelope import from_record, to_record, wrap
from contracts.events import ComplaintAssignedV1, NotificationSentV1


def assigned() -> ComplaintAssignedV1:
    return ComplaintAssignedV1(complaint_id=uuid.uuid4(), occurred_at=datetime.now(timezone.utc),
                               tracking_number="1000001", jurisdiction="kota-contoh",
                               opd_id="dlh", opd_name="Dinas Lingkungan Hidup", confidence=1, reason="r")


def record_of(event, offset=0) -> ConsumedRecord:
    key, value, headers = to_record(wrap(event, "/routing"))
    return ConsumedRecord("t.routing", 0, offset, key, value, headers)


class Fixture:
    def __init__(self, handler, attempts=3):
        self.uow = InMemoryUnitOfWork()
        self.dlq = InMemoryPublisher()
        self.consumer = EventConsumer("sla", lambda: self.uow, self.dlq, "t.sla.dlq",
                                      max_attempts=attempts, backoff_initial=0.001, backoff_max=0.01)
        self.consumer.on(ComplaintAssignedV1, handler)


async def test_applies_once_and_recognises_redelivery():
    seen = []

    async def handler(event, uow):
        seen.append(event.complaint_id)
        await uow.outbox.record(NotificationSentV1(
            complaint_id=event.complaint_id, occurred_at=event.occurred_at,
            tracking_number=event.tracking_number, channel="email", template="t",
            language="id", about_event_id=uuid.uuid4()))

    f = Fixture(handler)
    rec = record_of(assigned())
    assert await f.consumer.process(rec) is Outcome.APPLIED
    assert await f.consumer.process(rec) is Outcome.DUPLICATE
    assert len(seen) == 1 and len(f.uow.outbox.committed) == 1


async def test_transient_failure_is_retried_and_rolled_back_each_time():
    calls = []

    async def flaky(event, uow):
        calls.append(1)
        await uow.outbox.record(NotificationSentV1(
            complaint_id=event.complaint_id, occurred_at=event.occurred_at,
            tracking_number="1", channel="email", template="t", language="id",
            about_event_id=uuid.uuid4()))
        if len(calls) < 3:
            raise RuntimeError("deadlock detected")

    f = Fixture(flaky, attempts=3)
    assert await f.consumer.process(record_of(assigned())) is Outcome.APPLIED
    assert len(calls) == 3
    assert len(f.uow.outbox.committed) == 1, "failed attempts must leave nothing behind"


async def test_exhausted_retries_dead_letter_with_reason_and_attempts():
    async def broken(event, uow):
        raise RuntimeError("boom")

    f = Fixture(broken, attempts=3)
    rec = record_of(assigned(), offset=41)
    assert await f.consumer.process(rec) is Outcome.DEAD_LETTERED
    [dead] = f.dlq.sent
    headers = dict(dead.headers)
    assert dead.topic == "t.sla.dlq" and dead.value == rec.value and dead.key == rec.key
    assert headers["dlq_reason"] == b"RuntimeError: boom"
    assert headers["dlq_attempts"] == b"3" and headers["dlq_offset"] == b"41"
    assert headers["ce_type"] == b"id.lapor.ComplaintAssigned.v1", "the original headers travel along"
    assert await f.consumer.process(rec) is Outcome.DEAD_LETTERED, "nothing was claimed in the inbox"


async def test_permanent_error_is_not_retried():
    calls = []

    async def refuses(event, uow):
        calls.append(1)
        raise PermanentError("no such complaint")

    f = Fixture(refuses, attempts=5)
    assert await f.consumer.process(record_of(assigned())) is Outcome.DEAD_LETTERED
    assert len(calls) == 1
    assert dict(f.dlq.sent[0].headers)["dlq_reason"] == b"PermanentError: no such complaint"


async def test_poison_record_is_dead_lettered_without_calling_the_handler():
    async def never(event, uow):
        raise AssertionError("must not be called")

    f = Fixture(never)
    poison = ConsumedRecord("t.routing", 2, 7, b"k", b"\xff not json",
                            [("ce_id", b"x"), ("ce_type", b"id.lapor.ComplaintAssigned.v1"),
                             ("ce_source", b"/x"), ("ce_specversion", b"1.0"),
                             ("content-type", b"application/json")])
    assert await f.consumer.process(poison) is Outcome.DEAD_LETTERED
    assert b"malformed" in dict(f.dlq.sent[0].headers)["dlq_reason"]


async def test_events_of_other_types_are_ignored():
    f = Fixture(lambda e, u: None)
    other = NotificationSentV1(complaint_id=uuid.uuid4(), occurred_at=datetime.now(timezone.utc),
                               tracking_number="1", channel="email", template="t", language="id",
                               about_event_id=uuid.uuid4())
    assert await f.consumer.process(record_of(other)) is Outcome.IGNORED


async def test_dead_letter_failure_propagates_so_the_offset_is_not_committed():
    async def broken(event, uow):
        raise PermanentError("x")

    f = Fixture(broken)
    f.dlq.fail_next = True
    with pytest.raises(ConnectionError):
        await f.consumer.process(record_of(assigned()))


async def test_on_a_topic_written_outside_the_platform_only_its_types_are_applied():
    applied = []

    async def handler(event, uow):
        applied.append(event)

    f = Fixture(handler)
    f.consumer.accept_only("t.channels.inbound")    # nothing of this consumer's types
    key, value, headers = to_record(wrap(assigned(), "/someone"))
    forged = ConsumedRecord("t.channels.inbound", 0, 3, key, value, headers)
    assert await f.consumer.process(forged) is Outcome.DEAD_LETTERED, "a handled type, slipped in"
    typo = ConsumedRecord("t.channels.inbound", 0, 4, key, value,
                          [(k, b"id.lapor.ChanelMessage.v1" if k == "ce_type" else v)
                           for k, v in headers])
    assert await f.consumer.process(typo) is Outcome.DEAD_LETTERED
    reasons = [dict(d.headers)["dlq_reason"].decode() for d in f.dlq.sent]
    assert "is not accepted on t.channels.inbound" in reasons[0] and "ChanelMessage" in reasons[1]
    elsewhere = ConsumedRecord("t.routing", 0, 5, key, value, headers)
    assert await f.consumer.process(elsewhere) is Outcome.APPLIED and len(applied) == 1


async def test_a_long_batch_reports_progress_after_each_record():
    """The loop's heartbeat beats per record, so a batch that takes long but moves on is never
    taken for wedged; a record that fails alone (its batch retried one by one) counts too."""
    done = []

    async def handler(event, uow):
        if event.tracking_number == "bad":
            raise PermanentError("not for us")
        done.append(event.complaint_id)

    f = Fixture(handler, attempts=1)
    beats = []
    events = [assigned() for _ in range(4)]
    records = [record_of(e, offset=i) for i, e in enumerate(events)]
    await f.consumer.process_batch(records, progress=lambda: beats.append(len(done)))
    assert beats == [1, 2, 3, 4]

    beats.clear()
    bad = assigned().model_copy(update={"tracking_number": "bad"})
    outcomes = await f.consumer.process_batch(
        [record_of(assigned(), 10), record_of(bad, 11)], progress=lambda: beats.append(len(done)))
    assert outcomes == [Outcome.APPLIED, Outcome.DEAD_LETTERED]
    assert beats[-2:] == [6, 6], "after the failed batch, each record alone reports too"


async def test_the_read_ahead_goes_with_the_claim_once_before_any_handler():
    """`read_ahead` is asked once per batch, in its unit of work, before the first handler,
    for every complaint of the batch (distinct, in order); its reads go to the inbox with the
    claim, so they cost no round trip of their own."""
    calls: list[tuple] = []
    claims: list[tuple] = []

    async def handler(event, uow):
        calls.append(("handler", event.complaint_id))

    def hook(complaint_ids, uow):
        calls.append(("hook", complaint_ids, uow))
        return [Read("SELECT 1", (), ("one",), lambda rows: None)]

    f = Fixture(handler)
    claim_many = f.uow.inbox.claim_many

    async def watched(consumer, event_ids, reads=()):
        claims.append((consumer, list(event_ids), list(reads)))
        return await claim_many(consumer, event_ids, reads)

    f.uow.inbox.claim_many = watched
    f.consumer.read_ahead(hook)
    first, second = record_of(assigned()), record_of(assigned(), 1)
    await f.consumer.process(first)
    calls.clear()
    claims.clear()
    outcomes = await f.consumer.process_batch([first, second, first])
    assert outcomes == [Outcome.DUPLICATE, Outcome.APPLIED, Outcome.DUPLICATE]
    ids = [from_record(r.key, r.value, r.headers).event.complaint_id for r in (first, second)]
    assert calls == [("hook", sorted(ids), f.uow), ("handler", ids[1])]
    assert len(claims) == 1 and [r.sql for r in claims[0][2]] == ["SELECT 1"], \
        "the reads ride on the batch's one claim"


async def test_the_lock_ahead_comes_first_in_each_batch_before_the_claim():
    """`lock_ahead` is awaited once per batch, in its unit of work, before the claim takes its
    snapshot (and so before the reads ahead and every handler), for every complaint of the
    batch; a batch of only duplicates still takes it, since which are new is known only after."""
    calls: list[tuple] = []

    async def handler(event, uow):
        calls.append(("handler", event.complaint_id))

    async def lock(complaint_ids, uow):
        calls.append(("lock", complaint_ids, uow))

    f = Fixture(handler)
    claim_many = f.uow.inbox.claim_many

    async def watched(consumer, event_ids, reads=()):
        calls.append(("claim", len(event_ids)))
        return await claim_many(consumer, event_ids, reads)

    f.uow.inbox.claim_many = watched
    f.consumer.lock_ahead(lock)
    f.consumer.read_ahead(lambda complaint_ids, uow: calls.append(("reads",)) or [])
    first, second = record_of(assigned()), record_of(assigned(), 1)
    ids = sorted(from_record(r.key, r.value, r.headers).event.complaint_id for r in (first, second))
    assert await f.consumer.process_batch([first, second]) == [Outcome.APPLIED] * 2
    assert [c[0] for c in calls] == ["lock", "reads", "claim", "handler", "handler"]
    assert calls[0] == ("lock", ids, f.uow)
    calls.clear()
    assert await f.consumer.process(first) == Outcome.DUPLICATE
    assert [c[0] for c in calls] == ["lock", "reads", "claim"]
