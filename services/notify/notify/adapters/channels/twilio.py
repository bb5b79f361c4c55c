"""SMS and WhatsApp through Twilio's Programmable Messaging REST API, as its public docs
describe the Message resource: POST
`{base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded `To`, `From`, `Body`,
HTTP Basic auth with the Account SID and auth token. WhatsApp addresses are the number with a
`whatsapp:` prefix on both `To` and `From`. A 201 answer carries the message `sid`.

Errors come as JSON with Twilio's own `code`: 21211 (invalid To), 21408 (region not enabled),
21610 (recipient unsubscribed), 21614 (not a mobile number) and the other 4xx are permanent;
429 and 5xx are transient (see notify.domain.retry)."""

from __future__ import annotations

from notify.adapters.channels import Outbound, Receipt
from notify.adapters.channels.http import HttpPoster, post
from notify.domain.retry import SendFailed


class TwilioTransport:
    name = "twilio"

    def __init__(self, http: HttpPoster, *, account_sid: str, auth_token: str,
                 sms_from: str | None, whatsapp_from: str | None,
                 base_url: str = "https://api.twilio.com") -> None:
        self._http = http
        self._url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._auth = (account_sid, auth_token)
        self._from = {"sms": sms_from, "whatsapp": whatsapp_from}

    async def send(self, message: Outbound) -> Receipt:
        sender = self._from.get(message.channel)
        if not sender:
            raise SendFailed("unreachable", f"no Twilio sender configured for {message.channel}")
        to = message.to
        if message.channel == "whatsapp":
            to, sender = f"whatsapp:{to}", f"whatsapp:{sender.removeprefix('whatsapp:')}"
        response = await post(self._http, self._url, auth=self._auth,
                              data={"To": to, "From": sender, "Body": message.text})
        try:
            sid = response.json().get("sid")
        except (ValueError, AttributeError):
            sid = None
        return Receipt("twilio", sid)

    async def close(self) -> None:
        await self._http.aclose()
