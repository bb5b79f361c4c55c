"""SMS and WhatsApp through a generic HTTP gateway: the shape most Indonesian SMS and WhatsApp
gateways accept, configurable. POST `url` with JSON `{"to", "text", "channel", "message_id",
"sender"}`, a bearer token if configured, and the delivery's stable id as `Idempotency-Key`
(a gateway that honours it drops a repeat after a crash between send and settle). Any 2xx is
accepted; the provider's id is read from the `id` field of the answer, if there is one."""

from __future__ import annotations

from notify.adapters.channels import Outbound, Receipt
from notify.adapters.channels.http import HttpPoster, post


class GatewayTransport:
    name = "gateway"

    def __init__(self, http: HttpPoster, url: str, *, token: str | None = None,
                 sender: str | None = None) -> None:
        self._http, self._url, self._token, self._sender = http, url, token, sender

    async def send(self, message: Outbound) -> Receipt:
        headers = {"Idempotency-Key": message.message_id}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        response = await post(self._http, self._url, headers=headers, json={
            "to": message.to, "text": message.text, "channel": message.channel,
            "message_id": message.message_id, "sender": self._sender})
        try:
            ref = response.json().get("id")
        except (ValueError, AttributeError):
            ref = None
        return Receipt("gateway", str(ref) if ref is not None else None)

    async def close(self) -> None:
        await self._http.aclose()
