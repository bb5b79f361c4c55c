"""In-memory twin of a Transport for unit tests: records what it took; `fail_with` makes the
next sends raise, as a down or refusing provider would."""

from __future__ import annotations

from notify.adapters.channels import Outbound, Receipt
from notify.domain.retry import ErrorClass, SendFailed


class InMemoryTransport:
    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self.sent: list[Outbound] = []
        self._failures: list[tuple[ErrorClass, str, float | None]] = []
        self.always: ErrorClass | None = None

    def fail_with(self, error_class: ErrorClass, times: int = 1, detail: str = "HTTP 503",
                  retry_after: float | None = None) -> None:
        self._failures.extend([(error_class, detail, retry_after)] * times)

    async def send(self, message: Outbound) -> Receipt:
        if self.always is not None:
            raise SendFailed(self.always, "down")
        if self._failures:
            error_class, detail, retry_after = self._failures.pop(0)
            raise SendFailed(error_class, detail, retry_after=retry_after)
        self.sent.append(message)
        return Receipt(self.name, f"{self.name}-{len(self.sent)}")

    async def close(self) -> None:
        return None
