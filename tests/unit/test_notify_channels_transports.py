"""notify's channel transports against fake HTTP servers (httpx.MockTransport): what goes on
the wire, and how each answer is classified (retry, fall back, or done)."""

import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest
from standardwebhooks import Webhook

from notify.adapters.channels import Outbound
from notify.adapters.channels.gateway import GatewayTransport
from notify.adapters.channels.http import FakeHttp, client
from notify.adapters.channels.topic import TopicTransport
from notify.adapters.channels.twilio import TwilioTransport
from notify.adapters.channels.webhook import WebhookTransport
from notify.domain.quiet_hours import QuietHours
from notify.domain.retry import RetryPolicy, SendFailed, http_error_class

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def message(channel="sms", to="+6281234567890", **extra) -> Outbound:
    return Outbound(delivery_id=uuid.UUID(int=7), message_id="<m-7@lapor.notify>", channel=channel,
                    to=to, text="LAPOR: pengaduan 1000007 diteruskan.", complaint_id=uuid.uuid4(),
                    tracking_number="1000007", template="complaint_assigned", **extra)


async def test_the_gateway_gets_json_a_bearer_token_and_the_idempotency_key():
    http = FakeHttp(lambda r: (201, {}, {"id": "gw-1", "status": "queued"}))
    receipt = await GatewayTransport(http, "https://gw.test/send", token="t0k",
                                     sender="LAPOR").send(message())
    [request] = http.sent
    body = json.loads(request.body)
    assert body == {"to": "+6281234567890", "text": "LAPOR: pengaduan 1000007 diteruskan.",
                    "channel": "sms", "message_id": "<m-7@lapor.notify>", "sender": "LAPOR"}
    assert request.headers["authorization"] == "Bearer t0k"
    assert request.headers["idempotency-key"] == "<m-7@lapor.notify>"
    assert (receipt.transport, receipt.provider_ref) == ("gateway", "gw-1")


@pytest.mark.parametrize("status,error_class", [
    (400, "permanent"), (401, "permanent"), (404, "permanent"), (422, "permanent"),
    (408, "transient"), (429, "transient"), (500, "transient"), (502, "transient"), (503, "transient")])
async def test_http_answers_are_classified_by_cause(status, error_class):
    transport = GatewayTransport(FakeHttp(lambda r: (status, {"Retry-After": "7"}, {"error": "x"})),
                                 "https://gw.test")
    with pytest.raises(SendFailed) as failed:
        await transport.send(message())
    assert failed.value.error_class == error_class and failed.value.status == status
    assert failed.value.retry_after == 7.0
    assert "6281234567890" not in failed.value.detail


async def test_timeouts_and_refused_connections_are_transient():
    """Against real sockets: nothing listens on the port, and a server that never answers."""
    import asyncio
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with pytest.raises(SendFailed) as refused:
        await GatewayTransport(client(2, 2), f"http://127.0.0.1:{closed}/send").send(message())
    assert refused.value.error_class == "transient"

    done = asyncio.Event()

    async def silent(reader, writer):   # holds the request until the test is over
        await done.wait()
        writer.close()
    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    slow = client(0.3, 2)
    try:
        with pytest.raises(SendFailed) as timed_out:
            await GatewayTransport(slow, f"http://127.0.0.1:{port}/send").send(message())
        assert timed_out.value.error_class == "transient" and "timeout" in timed_out.value.detail
    finally:
        done.set()
        await slow.aclose()
        server.close()


async def test_twilio_gets_its_form_and_basic_auth_and_whatsapp_addresses():
    http = FakeHttp(lambda r: (201, {}, {"sid": "SM" + "a" * 32, "status": "queued"}))
    twilio = TwilioTransport(http, account_sid="AC123", auth_token="secret",
                             sms_from="LAPOR", whatsapp_from="+14155238886",
                             base_url="https://api.twilio.test")
    sms = await twilio.send(message())
    await twilio.send(message(channel="whatsapp"))
    first, second = http.sent
    assert first.url == "https://api.twilio.test/2010-04-01/Accounts/AC123/Messages.json"
    assert first.auth == ("AC123", "secret")
    assert first.form == {"To": "+6281234567890", "From": "LAPOR",
                          "Body": "LAPOR: pengaduan 1000007 diteruskan."}
    assert second.form["To"] == "whatsapp:+6281234567890" and second.form["From"] == "whatsapp:+14155238886"
    assert sms.provider_ref == "SM" + "a" * 32


async def test_twilio_invalid_number_is_permanent_and_names_the_code():
    twilio = TwilioTransport(FakeHttp(lambda r: (400, {}, {
        "code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400})),
        account_sid="AC1", auth_token="x", sms_from="LAPOR", whatsapp_from=None)
    with pytest.raises(SendFailed) as failed:
        await twilio.send(message())
    assert failed.value.error_class == "permanent" and "21211" in failed.value.detail
    with pytest.raises(SendFailed) as no_sender:
        await twilio.send(message(channel="whatsapp"))
    assert no_sender.value.error_class == "unreachable"


async def test_webhooks_are_signed_per_standard_webhooks_and_verify():
    http = FakeHttp(lambda r: (204, {}, None))
    body = {"type": "complaint.assigned", "timestamp": NOW.isoformat(),
            "data": {"tracking_number": "1000007", "opd_name": "Dinas Lingkungan Hidup"}}
    hook = WebhookTransport(http, clock=lambda: datetime.now(timezone.utc))
    receipt = await hook.send(message(channel="webhook", to="https://fe.test/hook", payload=body,
                                      secret=SECRET))
    await hook.send(message(channel="webhook", to="https://fe.test/hook", payload=body, secret=SECRET))
    first, again = http.sent
    assert Webhook(SECRET).verify(first.body, first.headers) == body
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == receipt.provider_ref, \
        "the same id on a retry, so the receiver drops the repeat"
    tampered = first.body.replace(b"1000007", b"1000008")
    with pytest.raises(Exception):
        Webhook(SECRET).verify(tampered, first.headers)
    with pytest.raises(Exception):
        Webhook("whsec_" + "b" * 32).verify(first.body, first.headers)


async def test_the_real_client_against_a_local_server():
    """AiohttpPoster on the wire: JSON, form and raw bodies, basic auth, headers back."""
    import asyncio
    seen = []

    async def serve(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next(l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")))
        seen.append((head, await reader.readexactly(length)))
        answer = b'{"code": 20429}'
        writer.write(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Type: application/json\r\n"
                     + f"Content-Length: {len(answer)}\r\nConnection: close\r\n\r\n".encode() + answer)
        await writer.drain()
        writer.close()
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    poster = client(5, 2)
    try:
        with pytest.raises(SendFailed) as limited:
            await TwilioTransport(poster, account_sid="AC9", auth_token="t", sms_from="LAPOR",
                                  whatsapp_from=None, base_url=f"http://127.0.0.1:{port}").send(message())
    finally:
        await poster.aclose()
        server.close()
    assert limited.value.error_class == "transient" and limited.value.retry_after == 3.0
    [(head, body)] = seen
    assert b"/2010-04-01/Accounts/AC9/Messages.json" in head and b"Authorization: Basic" in head
    assert parse_qs(body.decode())["To"] == ["+6281234567890"]


async def test_the_topic_transport_hands_over_a_command_keyed_without_the_address():
    receipt = await TopicTransport("sms-1708", b"k" * 32, clock=lambda: NOW).send(message())
    command = receipt.handoff
    assert command.recipient == "+6281234567890" and command.message_id == "<m-7@lapor.notify>"
    assert command.adapter == "sms-1708" and "6281234567890" not in command.recipient_ref
    assert command.partition_key == command.recipient_ref


def test_backoff_grows_with_jitter_and_honours_retry_after():
    policy = RetryPolicy(attempts=5, base_seconds=5, cap_seconds=60)
    rng = random.Random(1)
    delays = [policy.delay(n, rng=rng).total_seconds() for n in range(1, 6)]
    for n, d in enumerate(delays, start=1):
        step = min(5 * 2 ** (n - 1), 60)
        assert step / 2 <= d <= step
    assert policy.delay(1, retry_after=30, rng=rng) >= timedelta(seconds=30)
    spread = {round(policy.delay(3, rng=random.Random(s)).total_seconds(), 3) for s in range(20)}
    assert len(spread) > 10, "a burst that failed together does not retry together"
    webhook = RetryPolicy(attempts=8, schedule=(5, 300, 1800))
    assert 150 <= webhook.delay(2, rng=rng).total_seconds() <= 300
    assert 900 <= webhook.delay(9, rng=rng).total_seconds() <= 1800


def test_http_error_classes():
    assert [http_error_class(s) for s in (400, 403, 409, 410, 408, 425, 429, 500, 503)] == [
        "permanent"] * 4 + ["transient"] * 5


@pytest.mark.parametrize("local,held_until", [
    ("2026-11-23T22:30", "2026-11-24T07:00"), ("2026-11-24T06:59", "2026-11-24T07:00"),
    ("2026-11-24T07:00", None), ("2026-11-24T20:59", None), ("2026-11-24T21:00", "2026-11-25T07:00")])
def test_quiet_hours_across_midnight_in_local_time(local, held_until):
    from zoneinfo import ZoneInfo
    wib = ZoneInfo("Asia/Jakarta")
    now = datetime.fromisoformat(local).replace(tzinfo=wib)
    release = QuietHours.parse("21:00-07:00").release(now, "Asia/Jakarta")
    expected = datetime.fromisoformat(held_until).replace(tzinfo=wib) if held_until else None
    assert release == expected


def test_quiet_hours_in_wit_and_within_a_day():
    wit = datetime(2026, 11, 23, 13, 30, tzinfo=timezone.utc)   # 22:30 WIT, 20:30 WIB
    assert QuietHours.parse("21:00-07:00").release(wit, "Asia/Jayapura") is not None
    assert QuietHours.parse("21:00-07:00").release(wit, "Asia/Jakarta") is None
    lunch = QuietHours.parse("12:00-13:00")
    assert lunch.release(datetime(2026, 11, 23, 5, 30, tzinfo=timezone.utc), "Asia/Jakarta") == \
        datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        QuietHours.parse("07:00-07:00")
