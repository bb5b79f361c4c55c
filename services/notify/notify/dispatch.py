"""Sending what is owed: claim due deliveries with a lease in one short transaction, compose
and send each outside any transaction, settle each alone and atomically (one statement on
PostgreSQL, `notify.adapters.settlements`).

A delivery is tried on the first channel of its chain. A transient failure is retried there
later (backoff with jitter, per channel); a permanent one, a missing address or a channel whose
attempts are spent falls back to the next channel at once; when none is left the delivery has
failed, which is published (`NotificationFailed`) and dead-lettered with the reason. One bad
delivery (a template or contact that cannot be composed) is given up alone and never makes
another be sent again. A crash between send and settle re-sends only that delivery, with the
same message id, once its lease runs out.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta

from opentelemetry import propagate, trace
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from backbone import metrics
from backbone.errors import is_transient
from contracts.events import DeliveryDeadLetteredV1, NotificationFailedV1, NotificationSentV1
from notify.adapters.channels import Receipt, Transport
from notify.adapters.settlements import Settlements, UnitOfWorkSettlements
from notify.adapters.uow import NotifyUnitOfWork
from notify.compose import Composer, can_wait
from notify.domain import outcomes
from notify.domain.delivery import Delivery, DueDelivery
from notify.domain.outcomes import Attempt
from notify.domain.preferences import Preferences
from notify.domain.quiet_hours import HELD_CHANNELS, QuietHours
from notify.domain.retry import RetryPolicy, SendFailed

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
Clock = Callable[[], datetime]
UowFactory = Callable[[], NotifyUnitOfWork]


class Dispatch:
    def __init__(self, uow_factory: UowFactory, transports: dict[str, Transport],
                 composer: Composer, policies: dict[str, RetryPolicy], clock: Clock, *,
                 quiet_hours: QuietHours | None, batch_size: int = 100,
                 lease: timedelta = timedelta(seconds=60), concurrency: int = 16,
                 rng: random.Random | None = None, settlements: Settlements | None = None) -> None:
        """`settlements`: how an outcome is written (each in a unit of work of its own from
        `uow_factory` unless given; on PostgreSQL, one statement each)."""
        self._uow, self._transports, self._composer = uow_factory, transports, composer
        self._settlements = settlements or UnitOfWorkSettlements(uow_factory)
        self._policies, self._clock, self._quiet = policies, clock, quiet_hours
        self._batch, self._lease = batch_size, lease
        self._gate = asyncio.Semaphore(concurrency)
        self._rng = rng or random.Random()

    async def once(self) -> int:
        """Claim what is due, send it, settle each; returns how many were claimed."""
        async with self._uow() as uow:
            due = await uow.deliveries.claim_due(self._clock(), self._batch, self._lease)
        if due:
            await asyncio.gather(*(self._one(item) for item in due))
        return len(due)

    async def _one(self, item: DueDelivery) -> None:
        async with self._gate:
            d = item.delivery
            parent = propagate.extract({"traceparent": d.traceparent} if d.traceparent else {})
            with tracer.start_as_current_span("notify deliver", context=parent, attributes={
                    "notify.audience": d.audience, "notify.template": d.template}):
                try:
                    await self._deliver(item)
                except Exception:   # never let one delivery stop the others; the lease retries it
                    log.exception("delivery not settled", extra={"delivery_id": str(d.id)})

    async def _deliver(self, item: DueDelivery) -> None:
        now = self._clock()
        d = item.delivery
        if not d.channels:
            chain = self._composer.chain(item)
            if not chain:   # nobody to write to (no address given): not a failure, nothing to publish
                await self._settle(*outcomes.skipped(d, now, "no channel to reach the recipient"))
                _count("none", "skipped")
                return
            d = outcomes.start(d, chain)
            item = replace(item, delivery=d)
        release = self._held_until(item, now)
        if release is not None:
            await self._settle(*outcomes.deferred(d, release, now))
            _count(d.channel, "deferred")
            return
        try:
            message = self._composer.compose(item, d.channel)
        except SendFailed as exc:   # no address on this channel: the next one, if any
            await self._failed(item, exc, now, transport=None)
            return
        except Exception as exc:    # a broken template or contact: this one only, never again
            reason = f"cannot compose: {type(exc).__name__}"
            log.error("delivery cannot be composed", extra={"delivery_id": str(d.id), "error": reason})
            await self._finish(item, *outcomes.gave_up(d, now, reason), error_class="uncomposable")
            return
        transport = self._transports[d.channel]
        try:
            receipt = await transport.send(message)
        except SendFailed as exc:
            await self._failed(item, exc, self._clock(), transport=transport.name)
            return
        except Exception as exc:    # an adapter bug or an unexpected error: treat as transient
            await self._failed(item, SendFailed("transient", type(exc).__name__), self._clock(),
                               transport=transport.name)
            return
        await self._sent(item, receipt)

    def _held_until(self, item: DueDelivery, now: datetime) -> datetime | None:
        d = item.delivery
        if d.channel not in HELD_CHANNELS or not can_wait(d):
            return None
        prefs = Preferences.from_json(item.contact.preferences if item.contact else None)
        if prefs.quiet_hours == "off":
            return None
        try:
            quiet = QuietHours.parse(prefs.quiet_hours) if prefs.quiet_hours else self._quiet
        except ValueError:
            quiet = self._quiet
        return quiet.release(now, self._composer.timezone(item)) if quiet else None

    async def _sent(self, item: DueDelivery, receipt: Receipt) -> None:
        now = self._clock()
        d, attempt = outcomes.succeeded(item.delivery, now, receipt.transport, receipt.provider_ref)
        language = self._composer.language(item)
        told = NotificationSentV1(
            complaint_id=d.recipient_id if d.audience == "citizen" else d.complaint_id,
            occurred_at=now, tracking_number=_tracking(item), channel=d.channel,
            template=d.template, language="en" if language == "en" else "id",
            about_event_id=d.about_event_id, audience=d.audience, delivery_id=d.id,
            attempts=d.attempts, fell_back_from=d.tried[:-1], transport=receipt.transport)
        tell = [told] if receipt.handoff is None else [receipt.handoff, told]
        await _with_retries(lambda: self._settlements.settle(d, attempt, tell))
        _count(d.channel, "sent")
        metrics.DELIVERY_LAG.labels("notify", d.channel).observe(
            max((now - d.fact_at).total_seconds(), 0.0))
        log.info("notified", extra={"delivery_id": str(d.id), "audience": d.audience,
                                    "channel": d.channel, "template": d.template})

    async def _failed(self, item: DueDelivery, error: SendFailed, now: datetime,
                      transport: str | None) -> None:
        d = item.delivery
        policy = self._policies.get(d.channel, RetryPolicy())
        after, attempt = outcomes.failed(d, error, policy, now, transport, self._rng)
        if after.status == "failed":
            await self._finish(item, after, attempt,
                               error_class=outcomes.final_error_class(after, error))
            return
        await self._settle(after, attempt)
        _count(d.channel, attempt.outcome)
        log.warning("delivery attempt failed", extra={
            "delivery_id": str(d.id), "channel": d.channel, "error_class": error.error_class,
            "outcome": attempt.outcome, "detail": error.detail})

    async def _finish(self, item: DueDelivery, after: Delivery, attempt: Attempt, *,
                      error_class: str) -> None:
        """Failed or skipped for good: settled, published and dead-lettered together."""
        now = attempt.at
        tried = [c for c in after.tried if c != "none"]
        fields = dict(
            complaint_id=after.recipient_id if after.audience == "citizen" else after.complaint_id,
            occurred_at=now, tracking_number=_tracking(item), template=after.template,
            audience=after.audience, delivery_id=after.id,
            about_event_id=after.about_event_id, channels_tried=tried,
            attempts=after.attempts, error_class=error_class,
            reason=(after.last_error or "")[:500])
        tell = [NotificationFailedV1(**fields), DeliveryDeadLetteredV1(**fields)]
        await _with_retries(lambda: self._settlements.settle(after, attempt, tell))
        _count(attempt.channel, attempt.outcome)
        log.warning("delivery given up", extra={"delivery_id": str(after.id), "audience": after.audience,
                                                "error_class": error_class, "channels": tried})

    async def _settle(self, after: Delivery, attempt: Attempt) -> None:
        await _with_retries(lambda: self._settlements.settle(after, attempt))


def _tracking(item: DueDelivery) -> str:
    d = item.delivery
    if d.audience == "citizen" and item.contact is not None:
        return item.contact.tracking_number     # the complaint whose citizen was written to
    return d.tracking_number or ""


async def _with_retries(settle: Callable[[], Awaitable[bool]], patience: float = 20.0) -> None:
    """Record the outcome (atomically, alone), retrying a database that is away for a while;
    if it stays away the lease runs out and this one delivery is tried again."""
    async for attempt in AsyncRetrying(stop=stop_after_delay(patience), reraise=True,
                                       wait=wait_exponential(multiplier=0.1, max=2),
                                       retry=retry_if_exception(is_transient)):
        with attempt:
            await settle()


def _count(channel: str, outcome: str) -> None:
    metrics.DELIVERIES.labels("notify", channel, outcome).inc()
