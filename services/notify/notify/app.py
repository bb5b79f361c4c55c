"""notify's bootstrap: the real adapters (PostgreSQL, SMTP), subscribers and dispatcher."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

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
        connections=settings.smtp_connections,
    )
    clock = lambda: datetime.now(timezone.utc)  # noqa: E731
    dispatcher: list[Dispatcher] = []   # built at start; new deliveries wake it

    def wake_dispatcher() -> None:
        for loop in dispatcher:
            loop.wake()

    # Intake's facts only: intake alone says when a complaint is with an OPD.
    runtime = Runtime(
        settings, migrations="notify",
        consumes=[topics.INTAKE_CONTACTS, topics.INTAKE_EVENTS],
        produces=[topics.NOTIFY_EVENTS, topics.CHANNELS_OUTBOUND],
        uow_factory=lambda pool, s: NotifyPgUnitOfWork(pool, "/notify", s.topic_prefix,
                                                       s.schema_name, wake_dispatcher),
    )
    runtime.consumer.on(events.CitizenContactProvidedV2, handlers.on_contact_provided)
    runtime.consumer.on(events.ComplaintDisposedV1, handlers.on_complaint_disposed)
    runtime.consumer.on(events.ComplaintFollowedUpV1, handlers.on_complaint_followed_up)
    runtime.consumer.on(events.ComplaintResolvedV1, handlers.on_complaint_resolved)
    runtime.consumer.on(events.ComplaintPostponedV1, handlers.on_complaint_postponed)
    runtime.consumer.on(events.ComplaintMergedV1, handlers.on_complaint_merged)
    runtime.consumer.on(events.ChannelMessageHandledV1, handlers.channel_answers(cipher))

    def dispatch_once() -> object:
        return handlers.dispatch_due(
            runtime.unit_of_work, mailer, cipher, clock,
            max_attempts=settings.dispatch_max_attempts, limit=settings.dispatch_batch_size,
            lease=timedelta(seconds=settings.dispatch_lease_seconds),
            concurrency=settings.smtp_connections)

    def build_dispatcher(_: Runtime) -> Dispatcher:
        dispatcher[:] = [Dispatcher("notify", dispatch_once,
                                    poll_interval=settings.dispatch_poll_interval,
                                    batch_size=settings.dispatch_batch_size)]
        return dispatcher[0]

    runtime.add_loop(build_dispatcher)

    async def close_mailer(_: Runtime) -> None:
        await mailer.close()

    runtime.on_stopping.append(close_mailer)
    return build_app(runtime, title="LAPOR notify", version="1.0.0")
