"""Why a send failed, and when to try again.

A channel adapter raises `SendFailed` with one of three classes, decided by cause:
- `transient`: the far end may take it later (timeout, connection refused, HTTP 408/425/429 or
  5xx, SMTP 4xx). Retried on the same channel with exponential backoff and jitter, honouring a
  Retry-After; once the channel's attempts are spent the message falls back to the next channel.
- `permanent`: this channel will never take this message (HTTP 4xx such as an invalid number or
  a refused sender, SMTP 5xx). Not retried: the message falls back to the next channel at once.
- `unreachable`: the recipient has no address on this channel (nothing was sent). Falls back.
Webhooks follow the Standard Webhooks schedule instead of the exponential one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

ErrorClass = Literal["transient", "permanent", "unreachable"]

# Standard Webhooks' suggested schedule (after the first try): 5 s, 5 min, 30 min, 2 h, 5 h,
# 10 h, 10 h. Spaced for a receiver that is down for a while, not for a blip.
WEBHOOK_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)


class SendFailed(Exception):
    def __init__(self, error_class: ErrorClass, detail: str, *,
                 retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(detail)
        self.error_class = error_class
        self.detail = detail[:300]
        self.retry_after = retry_after
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    """Per channel: how many attempts before falling back, and how long between them."""

    attempts: int = 5
    base_seconds: float = 5.0
    cap_seconds: float = 3600.0
    schedule: tuple[float, ...] | None = None   # fixed steps (webhooks) instead of 2^n

    def delay(self, attempt: int, retry_after: float | None = None,
              rng: random.Random | None = None) -> timedelta:
        """Wait after the `attempt`-th failure (1-based): exponential with jitter between half
        and all of the step, so a burst that failed together does not retry together; never
        sooner than the far end's Retry-After."""
        r = rng or random
        if self.schedule:
            step = self.schedule[min(attempt, len(self.schedule)) - 1]
        else:
            step = min(self.base_seconds * 2 ** max(attempt - 1, 0), self.cap_seconds)
        seconds = step * (0.5 + r.random() / 2)
        if retry_after is not None:
            seconds = max(seconds, min(retry_after, self.cap_seconds))
        return timedelta(seconds=seconds)


def http_error_class(status: int) -> ErrorClass:
    """4xx is the request's fault (retrying the same request cannot help), except for the
    statuses that mean "not now": 408, 425 and 429. 5xx is the server's, so try again."""
    if status in (408, 425, 429) or status >= 500:
        return "transient"
    return "permanent"


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After given in seconds (the HTTP-date form is rare from gateways: ignored)."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None
