"""The one place that decides which transport carries each channel, from settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from notify.adapters.channels import Transport
from notify.adapters.channels.email import EmailTransport
from notify.adapters.channels.gateway import GatewayTransport
from notify.adapters.channels.http import client
from notify.adapters.channels.topic import TopicTransport
from notify.adapters.channels.twilio import TwilioTransport
from notify.adapters.channels.webhook import WebhookTransport
from notify.adapters.mailer import SmtpMailer
from notify.config import NotifySettings


def transports(s: NotifySettings, key: bytes, clock: Callable[[], datetime]) -> dict[str, Transport]:
    """Settings were checked complete at start-up (NotifySettings refuses a half transport)."""
    mailer = SmtpMailer(
        s.smtp_host, s.smtp_port, s.mail_from, username=s.smtp_username,
        password=s.smtp_password.get_secret_value() if s.smtp_password else None,
        starttls=s.smtp_starttls, timeout=s.smtp_timeout, connections=s.smtp_connections)
    found: dict[str, Transport] = {"email": EmailTransport(mailer),
                                   "webhook": WebhookTransport(client(s.http_timeout, s.http_connections), clock)}
    for channel, kind in (("sms", s.sms_transport), ("whatsapp", s.whatsapp_transport)):
        if kind == "gateway":
            found[channel] = GatewayTransport(
                client(s.http_timeout, s.http_connections), s.gateway_url,
                token=s.gateway_token.get_secret_value() if s.gateway_token else None,
                sender=s.gateway_sender)
        elif kind == "twilio":
            found[channel] = TwilioTransport(
                client(s.http_timeout, s.http_connections), account_sid=s.twilio_account_sid,
                auth_token=s.twilio_auth_token.get_secret_value(), sms_from=s.twilio_sms_from,
                whatsapp_from=s.twilio_whatsapp_from, base_url=s.twilio_base_url)
        elif kind == "topic":
            found[channel] = TopicTransport(s.channel_topic_adapter, key, clock)
    return found
