"""Signed webhooks for front ends that registered a URL, per Standard Webhooks
(standardwebhooks.com): headers `webhook-id` (the delivery's stable id, the same on every
retry, so the receiver can drop a repeat), `webhook-timestamp` (this attempt, Unix seconds) and
`webhook-signature` (`v1,` + base64 HMAC-SHA256 over `{id}.{timestamp}.{body}` with the
endpoint's own secret), signed with the `standardwebhooks` reference library. The body is the
exact bytes signed."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone

from standardwebhooks import Webhook

from notify.adapters.channels import Outbound, Receipt
from notify.adapters.channels.http import HttpPoster, post
from notify.domain.retry import SendFailed


def webhook_id(message: Outbound) -> str:
    return f"msg_{message.delivery_id.hex}"


class WebhookTransport:
    name = "http"

    def __init__(self, http: HttpPoster,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self._http, self._clock = http, clock

    async def send(self, message: Outbound) -> Receipt:
        if message.payload is None or not message.secret:
            raise SendFailed("unreachable", "webhook endpoint has no payload or secret")
        body = json.dumps(message.payload, separators=(",", ":"), ensure_ascii=False)
        msg_id = webhook_id(message)
        now = self._clock()
        signature = Webhook(message.secret).sign(msg_id, now, body)
        await post(self._http, message.to, content=body.encode(), headers={
            "content-type": "application/json", "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature})
        return Receipt("http", msg_id)

    async def close(self) -> None:
        await self._http.aclose()
