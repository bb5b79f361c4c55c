"""SMS or WhatsApp through an adapter outside the platform: the message becomes a
`SendChannelMessageV1` on the outbound channel topic, recorded in notify's outbox in the same
transaction that settles the delivery, so it is handed over exactly once. The adapter sends it
and dedupes on `message_id`."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timezone

from contracts.events import SendChannelMessageV1
from notify.adapters.channels import Outbound, Receipt


class TopicTransport:
    name = "topic"

    def __init__(self, adapter: str, key: bytes,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self._adapter, self._key, self._clock = adapter, key, clock

    def _ref(self, address: str) -> str:
        """A keyed hash of the address: the record key, which must not reveal it."""
        return hmac.new(self._key, address.encode(), hashlib.sha256).hexdigest()[:32]

    async def send(self, message: Outbound) -> Receipt:
        return Receipt("topic", None, SendChannelMessageV1(
            complaint_id=message.complaint_id, occurred_at=self._clock(),
            message_id=message.message_id, adapter=self._adapter,
            channel=message.channel, recipient=message.to,  # type: ignore[arg-type]
            recipient_ref=self._ref(message.to), text=message.text,
            tracking_number=message.tracking_number, template=message.template,
            language="en" if message.language == "en" else "id"))

    async def close(self) -> None:
        return None
