"""What one attempt does to a delivery: pure transitions the dispatcher settles.

- success: `sent`;
- a transient failure with attempts left on this channel: tried again later (backoff, jitter);
- a permanent failure, a channel the recipient has no address on, or a channel whose attempts
  are spent: the next channel of the chain, at once (`fallback`);
- nothing left to fall back to: `failed`, with the class of the last error;
- quiet hours: `deferred` until they end, which costs no attempt.
Each returns the delivery's new state and the attempt to log.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime

from notify.domain.delivery import Delivery
from notify.domain.retry import RetryPolicy, SendFailed


@dataclass(frozen=True)
class Attempt:
    at: datetime
    channel: str
    outcome: str                 # sent, retry, fallback, failed, deferred, skipped
    transport: str | None = None
    error_class: str | None = None
    detail: str | None = None
    provider_ref: str | None = None


def start(delivery: Delivery, chain: tuple[str, ...]) -> Delivery:
    """Fix the chain at the first attempt; later preference changes do not move a message
    that is already on its way."""
    if delivery.channels:
        return delivery
    return replace(delivery, channels=chain, channel=chain[0] if chain else "none",
                   channel_index=0, channel_attempts=0)


def succeeded(delivery: Delivery, now: datetime, transport: str,
              provider_ref: str | None = None) -> tuple[Delivery, Attempt]:
    return (replace(delivery, status="sent", attempts=delivery.attempts + 1,
                    channel_attempts=delivery.channel_attempts + 1, last_error=None),
            Attempt(now, delivery.channel, "sent", transport, provider_ref=provider_ref))


def failed(delivery: Delivery, error: SendFailed, policy: RetryPolicy, now: datetime,
           transport: str | None = None, rng: random.Random | None = None
           ) -> tuple[Delivery, Attempt]:
    attempts, on_channel = delivery.attempts + 1, delivery.channel_attempts + 1
    detail = f"{delivery.channel}: {error.detail}"
    if error.error_class == "transient" and on_channel < policy.attempts:
        after = now + policy.delay(on_channel, error.retry_after, rng)
        return (replace(delivery, attempts=attempts, channel_attempts=on_channel,
                        next_attempt_at=after, last_error=detail),
                Attempt(now, delivery.channel, "retry", transport, error.error_class, error.detail))
    if delivery.channel_index + 1 < len(delivery.channels):
        index = delivery.channel_index + 1
        return (replace(delivery, attempts=attempts, channel_index=index,
                        channel=delivery.channels[index], channel_attempts=0,
                        next_attempt_at=now, last_error=detail),
                Attempt(now, delivery.channel, "fallback", transport, error.error_class,
                        error.detail))
    return (replace(delivery, status="failed", attempts=attempts, channel_attempts=on_channel,
                    last_error=detail),
            Attempt(now, delivery.channel, "failed", transport, error.error_class, error.detail))


def final_error_class(delivery: Delivery, error: SendFailed) -> str:
    """How a failed delivery is reported: kept failing (exhausted), refused (permanent), or
    no address on any channel (unreachable)."""
    if error.error_class == "transient":
        return "exhausted"
    return error.error_class


def deferred(delivery: Delivery, until: datetime, now: datetime) -> tuple[Delivery, Attempt]:
    return (replace(delivery, next_attempt_at=until),
            Attempt(now, delivery.channel, "deferred", detail=f"quiet hours until {until.isoformat()}"))


def skipped(delivery: Delivery, now: datetime, reason: str) -> tuple[Delivery, Attempt]:
    return (replace(delivery, status="skipped", last_error=reason),
            Attempt(now, delivery.channel, "skipped", detail=reason))


def gave_up(delivery: Delivery, now: datetime, reason: str) -> tuple[Delivery, Attempt]:
    """Cannot be composed (a broken template or contact): this one alone, never again."""
    return (replace(delivery, status="failed", attempts=delivery.attempts + 1, last_error=reason),
            Attempt(now, delivery.channel, "failed", error_class="uncomposable", detail=reason))
