"""Idempotent event consumption: decode, dedupe, apply a batch in one transaction, classify
failures by cause, dead-letter only poison.

A batch (what one poll returned, in partition order) is applied in one unit of work: the inbox
claims every event id in one statement, with the reads the service asks ahead (`read_ahead`),
each handler runs in record order, the outbox rows are written in one statement, one commit.
If the batch fails:
- for a transient cause (database or broker away, failover, timeout, deadlock: backbone.errors)
  `process_batch` raises, and the Kafka loop hands the records back (seeks to them) and tries
  again after a backoff: nothing is dead-lettered for the platform's own illness;
- otherwise the batch is split and each record applied alone, so one poison record cannot
  stop the others: decoding and validation failures go to the dead-letter topic at once, other
  failures after bounded retries with backoff, with the reason in the record's headers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Awaitable, Callable, Protocol
from uuid import UUID

from opentelemetry import propagate, trace
from opentelemetry.trace import Status, StatusCode
from pydantic import ValidationError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from backbone import metrics
from backbone.errors import PermanentError, is_transient
from backbone.kafka import Publisher, Record
from backbone.reads import Read
from backbone.time_slice import TimeSlice
from contracts.envelope import Envelope, EnvelopeError, from_record
from contracts.events import Event
from contracts.lifecycle import TransitionNotAllowed

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

__all__ = ["ConsumedRecord", "EventConsumer", "Outcome", "PermanentError"]

# Retrying cannot help: straight to the dead-letter topic.
NOT_RETRYABLE: tuple[type[BaseException], ...] = (
    EnvelopeError, ValidationError, TransitionNotAllowed, PermanentError,
)


def describe(exc: BaseException) -> str:
    """Why a record failed, without echoing its content (it may hold personal data)."""
    if isinstance(exc, ValidationError):
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(body)'}: {e['msg']}"
                             for e in exc.errors(include_input=False, include_url=False))
        return f"ValidationError: {problems}"
    return f"{type(exc).__name__}: {exc}"


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"          # a well-formed event this consumer has no interest in
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True)
class ConsumedRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]

    @classmethod
    def of(cls, raw: Any) -> "ConsumedRecord":
        """From an aiokafka ConsumerRecord."""
        return cls(raw.topic, raw.partition, raw.offset, raw.key, raw.value, list(raw.headers or ()))

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", "replace") if value is not None else None
        return None


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> Any: ...


Handler = Callable[[Any, Any], Awaitable[None]]
ReadAhead = Callable[[list[UUID], Any], Sequence[Read]]
LockAhead = Callable[[list[UUID], Any], Awaitable[None]]


class EventConsumer:
    def __init__(
        self, name: str, uow_factory: UnitOfWorkFactory, dead_letters: Publisher,
        dead_letter_topic: str, max_attempts: int = 5,
        backoff_initial: float = 0.2, backoff_max: float = 5.0,
    ) -> None:
        self.name = name
        self._uow_factory = uow_factory
        self._dead_letters = dead_letters
        self._dlq_topic = dead_letter_topic
        self._max_attempts = max_attempts
        self._wait = wait_exponential(multiplier=backoff_initial, max=backoff_max)
        self._handlers: dict[str, tuple[type[Event], Handler]] = {}
        self._also: dict[str, list[Handler]] = {}
        self._topic_types: dict[str, frozenset[str]] = {}
        self._read_ahead: ReadAhead | None = None
        self._lock_ahead: LockAhead | None = None

    def on(self, model: type[Event], handler: Handler) -> None:
        """Route events of `model` to `handler(event, uow)`; one handler per model."""
        self._handlers[model.event_type] = (model, handler)

    def also(self, model: type[Event], handler: Handler) -> None:
        """Run `handler(event, uow)` for `model` too, after the handler given to `on` (if any),
        in the same unit of work: a second concern of the same service (routing's per-OPD feed
        beside its routing) reads the same events without the two handlers knowing each other."""
        self._also.setdefault(model.event_type, []).append(handler)

    def read_ahead(self, hook: ReadAhead) -> None:
        """`hook(complaint_ids, uow)` gives, once per batch, the reads its handlers would
        otherwise each send alone, for the complaints the batch's events are about (distinct,
        in order): intake locks every complaint of the batch, sla their clocks. They go with
        the inbox claim, in one statement, before the first handler (`backbone.reads`)."""
        self._read_ahead = hook

    def lock_ahead(self, hook: LockAhead) -> None:
        """`await hook(complaint_ids, uow)` first in each batch's transaction, in a statement
        of its own: a lock taken there is held before the claim and the reads ahead take their
        snapshot, so a transaction that waits for it sees them committed, and one that holds
        it is seen by them (notify's merges and their followers)."""
        self._lock_ahead = hook

    def accept_only(self, topic: str, *models: type[Event]) -> None:
        """On `topic`, only records of `models` are applied; any other type is dead-lettered
        with the reason rather than ignored or applied. For topics written from outside the
        platform (channel adapters): a misspelt type is told, and no platform event (an
        assignment, say) can be slipped in through them."""
        self._topic_types[topic] = frozenset(m.event_type for m in models)

    @property
    def event_types(self) -> list[str]:
        return sorted({*self._handlers, *self._also})

    async def process(self, record: ConsumedRecord) -> Outcome:
        """One record alone (a batch of one)."""
        return (await self.process_batch([record]))[0]

    async def process_batch(self, records: list[ConsumedRecord],
                            progress: Callable[[], None] | None = None) -> list[Outcome]:
        """Apply `records` (partition order kept); raises only for a transient cause.
        `progress` is called after each record handled: a long batch that is moving on beats
        its loop's heartbeat, so the watchdog never takes it for wedged and restarts it (which
        would only roll it back and start it again)."""
        outcomes: list[Outcome | None] = [None] * len(records)
        decoded: list[tuple[int, ConsumedRecord, Envelope]] = []
        for i, record in enumerate(records):
            ce_type = record.header("ce_type")
            accepted = self._topic_types.get(record.topic)
            if accepted is not None and ce_type is not None and ce_type not in accepted:
                await self._dead_letter(record, EnvelopeError(
                    f"event type {ce_type!r} is not accepted on {record.topic}"), attempts=1)
                outcomes[i] = Outcome.DEAD_LETTERED
                continue
            if ce_type is not None and ce_type not in self._handlers and ce_type not in self._also:
                outcomes[i] = Outcome.IGNORED
                continue
            try:
                decoded.append((i, record, from_record(record.key, record.value, record.headers)))
            except EnvelopeError as exc:
                await self._dead_letter(record, exc, attempts=1)
                outcomes[i] = Outcome.DEAD_LETTERED
        if decoded:
            try:
                for i, outcome in zip([i for i, _, _ in decoded],
                                      await self._apply(decoded, progress)):
                    outcomes[i] = outcome
            except Exception as exc:
                if is_transient(exc):
                    raise
                if len(decoded) > 1:
                    log.warning("batch failed; applying its records one by one",
                                extra={"error": type(exc).__name__, "records": len(decoded)})
                for i, record, envelope in decoded:
                    outcomes[i] = await self._apply_alone(record, envelope, first_error=(
                        exc if len(decoded) == 1 else None))
                    if progress is not None:
                        progress()
        metrics.CONSUMER_BATCH.labels(self.name).observe(len(records))
        done = [o or Outcome.IGNORED for o in outcomes]
        for record, outcome in zip(records, done):
            metrics.CONSUMED.labels(self.name, record.topic, outcome.value).inc()
        return done

    async def _apply(self, items: list[tuple[int, ConsumedRecord, Envelope]],
                     progress: Callable[[], None] | None = None) -> list[Outcome]:
        """All of `items` in one transaction; duplicates (even within the batch) change nothing."""
        outcomes: list[Outcome] = []
        async with self._uow_factory() as uow:
            # Every complaint of the batch, a redelivered event's too: the reads go with the
            # claim, before it is known which events are new (redeliveries are rare).
            about = sorted({env.event.complaint_id for _, _, env in items
                            if env.event.complaint_id is not None})
            if self._lock_ahead is not None and about:
                await self._lock_ahead(about, uow)
            reads = self._read_ahead(about, uow) if self._read_ahead is not None and about else ()
            fresh = await uow.inbox.claim_many(self.name, [env.id for _, _, env in items], reads)
            turn = TimeSlice()
            for _, record, envelope in items:
                await turn.check()
                if envelope.id not in fresh:
                    outcomes.append(Outcome.DUPLICATE)
                    continue
                fresh.discard(envelope.id)
                with self._span(record, envelope):
                    if envelope.type in self._handlers:
                        await self._handlers[envelope.type][1](envelope.event, uow)
                    for handler in self._also.get(envelope.type, ()):
                        await handler(envelope.event, uow)
                outcomes.append(Outcome.APPLIED)
                if progress is not None:
                    progress()
        log.debug("batch applied", extra={"records": len(items), "consumer": self.name})
        return outcomes

    async def _apply_alone(self, record: ConsumedRecord, envelope: Envelope,
                           first_error: Exception | None) -> Outcome:
        """Bounded retries for one record (`first_error`: its batch of one already failed once,
        which counts as the first attempt); poison goes to the dead-letter topic."""
        done = 0 if first_error is None else 1
        if isinstance(first_error, NOT_RETRYABLE) or done >= self._max_attempts:
            await self._dead_letter(record, first_error, attempts=done)
            return Outcome.DEAD_LETTERED
        attempts = done
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self._max_attempts - done), wait=self._wait, reraise=True,
                retry=retry_if_exception(lambda e: not isinstance(e, NOT_RETRYABLE)
                                         and not is_transient(e)),
            ):
                with attempt:
                    attempts = done + attempt.retry_state.attempt_number
                    return (await self._apply([(0, record, envelope)]))[0]
        except Exception as exc:
            if is_transient(exc):
                raise
            await self._dead_letter(record, exc, attempts=attempts)
            return Outcome.DEAD_LETTERED
        raise AssertionError("unreachable: AsyncRetrying either returns or raises")

    def _span(self, record: ConsumedRecord, envelope: Envelope):
        parent = propagate.extract({k: v for k in ("traceparent", "tracestate")
                                    if (v := record.header(k)) is not None})
        return tracer.start_as_current_span(
            f"{record.topic} process", context=parent, kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka", "messaging.consumer.group.name": self.name,
                "messaging.destination.name": record.topic,
                "messaging.kafka.offset": record.offset,
                "messaging.destination.partition.id": str(record.partition),
                "cloudevents.event_type": envelope.type, "cloudevents.event_id": envelope.id,
            },
        )

    async def _dead_letter(self, record: ConsumedRecord, exc: BaseException, attempts: int) -> None:
        """Publish the original record with why it failed; raises if Kafka refuses (then the
        loop hands the record back and it is tried again: a DLQ outage loses nothing)."""
        reason = describe(exc)[:4000]
        headers = list(record.headers) + [
            ("dlq_reason", reason.encode()),
            ("dlq_exception", type(exc).__module__.encode() + b"." + type(exc).__qualname__.encode()),
            ("dlq_consumer", self.name.encode()),
            ("dlq_topic", record.topic.encode()),
            ("dlq_partition", str(record.partition).encode()),
            ("dlq_offset", str(record.offset).encode()),
            ("dlq_attempts", str(attempts).encode()),
            ("dlq_failed_at", datetime.now(timezone.utc).isoformat().encode()),
        ]
        with tracer.start_as_current_span("dead-letter") as span:
            span.set_status(Status(StatusCode.ERROR, reason[:200]))
            await asyncio.wait_for(self._dead_letters.send_all(
                [Record(self._dlq_topic, record.key, record.value or b"", headers)]), 30)
        metrics.DEAD_LETTERS.labels(self.name, record.topic).inc()
        log.error("record dead-lettered", extra={
            "reason": reason, "topic": record.topic, "partition": record.partition,
            "offset": record.offset, "attempts": attempts,
        })
