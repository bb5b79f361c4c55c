"""Idempotent event consumption: decode, dedupe, apply in one transaction, retry, dead-letter.

For each record: the CloudEvent is decoded and validated (a record that cannot be is poison and
goes straight to the dead-letter topic); the handler runs inside a unit of work that first claims
the event id in the inbox, so a redelivery changes nothing; a failure is retried with exponential
backoff a bounded number of times, then dead-lettered with the reason. Only then does `process`
return, and only then is the offset committed, so the partition never stalls and nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Awaitable, Callable, Protocol

import asyncpg
from opentelemetry import propagate, trace
from opentelemetry.trace import Status, StatusCode
from pydantic import ValidationError
from tenacity import (
    AsyncRetrying, retry_if_not_exception_type, stop_after_attempt, wait_exponential,
)

from backbone.kafka import Publisher, Record
from contracts.envelope import Envelope, EnvelopeError, from_record
from contracts.events import Event
from contracts.lifecycle import TransitionNotAllowed

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


class PermanentError(Exception):
    """A handler's way to say: retrying this event cannot succeed."""


NOT_RETRYABLE: tuple[type[BaseException], ...] = (
    EnvelopeError, ValidationError, TransitionNotAllowed, PermanentError,
)


# The platform itself is unwell (database or broker unreachable): dead-lettering would empty the
# topic into the DLQ, so the record is handed back to Kafka (nack) and read again later.
INFRASTRUCTURE: tuple[type[BaseException], ...] = (
    OSError, asyncio.TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
)


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
        """From an aiokafka ConsumerRecord (what FastStream hands over as raw_message)."""
        return cls(raw.topic, raw.partition, raw.offset, raw.key, raw.value, list(raw.headers or ()))

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", "replace") if value is not None else None
        return None


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> Any: ...


Handler = Callable[[Any, Any], Awaitable[None]]


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

    def on(self, model: type[Event], handler: Handler) -> None:
        """Route events of `model` to `handler(event, uow)`; one handler per model."""
        self._handlers[model.event_type] = (model, handler)

    @property
    def event_types(self) -> list[str]:
        return sorted(self._handlers)

    async def process(self, record: ConsumedRecord) -> Outcome:
        ce_type = record.header("ce_type")
        if ce_type is not None and ce_type not in self._handlers:
            return Outcome.IGNORED
        parent = propagate.extract({k: v for k in ("traceparent", "tracestate")
                                    if (v := record.header(k)) is not None})
        with tracer.start_as_current_span(
            f"{record.topic} process", context=parent, kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka", "messaging.consumer.group.name": self.name,
                "messaging.destination.name": record.topic,
                "messaging.kafka.offset": record.offset,
                "messaging.destination.partition.id": str(record.partition),
                "cloudevents.event_type": ce_type or "", "cloudevents.event_id": record.header("ce_id") or "",
            },
        ) as span:
            outcome = await self._process(record, span)
            span.set_attribute("outcome", outcome.value)
            return outcome

    async def _process(self, record: ConsumedRecord, span: trace.Span) -> Outcome:
        try:
            envelope = from_record(record.key, record.value, record.headers)
        except EnvelopeError as exc:
            await self._dead_letter(record, exc, attempts=1)
            span.set_status(Status(StatusCode.ERROR, str(exc)))
            return Outcome.DEAD_LETTERED
        _, handler = self._handlers[envelope.type]
        attempts = 0
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self._max_attempts), wait=self._wait,
                retry=retry_if_not_exception_type(NOT_RETRYABLE + INFRASTRUCTURE), reraise=True,
            ):
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    return await self._apply(envelope, handler)
        except INFRASTRUCTURE as exc:
            span.record_exception(exc)
            log.warning("infrastructure unavailable; record goes back to Kafka",
                        extra={"error": repr(exc), "topic": record.topic, "offset": record.offset})
            await asyncio.sleep(self._wait.max)
            raise
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, str(exc)))
            await self._dead_letter(record, exc, attempts=attempts)
            return Outcome.DEAD_LETTERED
        raise AssertionError("unreachable: AsyncRetrying either returns or raises")

    async def _apply(self, envelope: Envelope, handler: Handler) -> Outcome:
        async with self._uow_factory() as uow:
            if not await uow.inbox.claim(self.name, envelope.id):
                return Outcome.DUPLICATE
            await handler(envelope.event, uow)
        log.info("event applied", extra={
            "event_type": envelope.type, "event_id": envelope.id,
            "complaint_id": envelope.key,
        })
        return Outcome.APPLIED

    async def _dead_letter(self, record: ConsumedRecord, exc: BaseException, attempts: int) -> None:
        """Publish the original record with why it failed; raises if Kafka refuses (no ack then)."""
        reason = f"{type(exc).__name__}: {exc}"[:4000]
        headers = list(record.headers) + [
            ("dlq_reason", reason.encode()),
            ("dlq_exception", "".join(traceback.format_exception_only(exc)).strip()[:4000].encode()),
            ("dlq_consumer", self.name.encode()),
            ("dlq_topic", record.topic.encode()),
            ("dlq_partition", str(record.partition).encode()),
            ("dlq_offset", str(record.offset).encode()),
            ("dlq_attempts", str(attempts).encode()),
            ("dlq_failed_at", datetime.now(timezone.utc).isoformat().encode()),
        ]
        await self._dead_letters.send_all(
            [Record(self._dlq_topic, record.key, record.value or b"", headers)]
        )
        log.error("record dead-lettered", extra={
            "reason": reason, "topic": record.topic, "partition": record.partition,
            "offset": record.offset, "attempts": attempts,
        })
