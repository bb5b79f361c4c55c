"""notify's bootstrap: the real adapters (PostgreSQL, SMTP), subscribers and dispatcher."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import FastAPI

from backbone.pii import PiiCipher
from backbone.runtime import Runtime, build_app
from contracts import events, topics
from notify import handlers
from notify.adapters.deliveries import NotifyPgUnitOfWork
from notify.adapters.mailer import SmtpMailer
from notify.config import NotifySettings
from notify.dispatcher import Dispatcher


def bootstrap(settings: NotifySettings) -> FastAPI:
    cipher = PiiCipher(settings.pii_key.get_secret_value())
    mailer = SmtpMailer(
        settings.smtp_host, settings.smtp_port, settings.mail_from,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        starttls=settings.smtp_starttls, timeout=settings.smtp_timeout,
    )
    clock = lambda: datetime.now(timezone.utc)  # noqa: E731
    runtime = Runtime(
        settings, migrations="notify",
        consumes=[topics.INTAKE_CONTACTS, topics.ROUTING_EVENTS], produces=[topics.NOTIFY_EVENTS],
        uow_factory=lambda pool, s: NotifyPgUnitOfWork(pool, "/notify", s.topic_prefix),
    )
    runtime.consumer.on(events.CitizenContactProvidedV1, handlers.make_on_contact_provided(cipher))
    runtime.consumer.on(events.ComplaintAssignedV1, handlers.on_complaint_assigned)

    dispatcher = Dispatcher(
        lambda uow: handlers.dispatch_due(uow, mailer, cipher, clock,
                                          settings.dispatch_max_attempts, settings.dispatch_batch_size),
        settings.dispatch_poll_interval,
    )
    runtime.on_started.append(dispatcher.start)
    runtime.on_stopping.append(dispatcher.stop)
    return build_app(runtime, title="LAPOR notify", version="1.0.0")
