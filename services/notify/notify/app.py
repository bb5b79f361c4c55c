"""notify's bootstrap: the real adapters (PostgreSQL, SMTP, HTTP gateways, webhooks, the
outbound channel topic), the subscribers, the dispatcher and the HTTP API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta, timezone

from fastapi import FastAPI

from backbone import problems
from backbone.pii import PiiCipher
from backbone.runtime import Runtime, build_app
from contracts import events, topics
from notify import deliveries_api, directory_api, handlers, preferences_api
from notify.adapters.channels import Transport
from notify.adapters.channels.registry import transports as configured_transports
from notify.adapters.directory import DirectorySnapshot
from notify.adapters.settlements import PgSettlements
from notify.adapters.uow import NotifyPgUnitOfWork
from notify.compose import Composer
from notify.config import NotifySettings
from notify.digest import compose_digests
from notify.dispatch import Dispatch
from notify.dispatcher import Dispatcher
from notify.domain.quiet_hours import QuietHours
from notify.domain.retry import WEBHOOK_SCHEDULE, RetryPolicy
from notify.domain.templates import Templates

DIGEST_EVERY = timedelta(seconds=60)
SOURCE = "/notify"      # the CloudEvents source of what notify tells


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def retry_policies(s: NotifySettings) -> dict[str, RetryPolicy]:
    def policy(attempts: int, schedule=None) -> RetryPolicy:
        return RetryPolicy(attempts=attempts, base_seconds=s.retry_base_seconds,
                           cap_seconds=s.retry_cap_seconds, schedule=schedule)
    return {"email": policy(s.email_attempts), "sms": policy(s.sms_attempts),
            "whatsapp": policy(s.whatsapp_attempts),
            "webhook": policy(s.webhook_attempts,
                              tuple(min(x, s.retry_cap_seconds) for x in WEBHOOK_SCHEDULE))}


def bootstrap(settings: NotifySettings, now: Callable[[], datetime] = _utc_now,
              transports: dict[str, Transport] | None = None) -> FastAPI:
    """`now` is the time every retry, quiet hour and digest is decided by; `transports`
    replaces the configured ones (tests)."""
    key = settings.pii_key.get_secret_value()
    cipher = PiiCipher(key)
    carriers = transports if transports is not None else configured_transports(settings, key.encode(), now)
    dispatcher: list[Dispatcher] = []   # built at start; new deliveries wake it
    directory = DirectorySnapshot(settings.directory_cache_seconds)

    def wake_dispatcher() -> None:
        for loop in dispatcher:
            loop.wake()

    def wake_relay() -> None:
        if runtime.relay is not None:
            runtime.relay.wake()

    # Intake's facts, and sla's alerts (auto-close coming, deadlines for OPDs and operators).
    runtime = Runtime(
        settings, migrations="notify",
        consumes=[topics.INTAKE_CONTACTS, topics.INTAKE_EVENTS, topics.SLA_ALERTS],
        produces=[topics.NOTIFY_EVENTS, topics.NOTIFY_DEAD_LETTERS, topics.CHANNELS_OUTBOUND],
        uow_factory=lambda pool, s: NotifyPgUnitOfWork(pool, SOURCE, s.topic_prefix,
                                                       s.schema_name, wake_dispatcher, directory),
    )
    handlers.Owing(timedelta(seconds=settings.rating_request_delay_seconds),
                   receipt_hold=timedelta(seconds=settings.receipt_hold_seconds)).subscribe(runtime.consumer)
    runtime.consumer.on(events.ChannelMessageHandledV1, handlers.channel_answers(cipher))

    composer = Composer(
        Templates(settings.templates_dir), cipher, status_url=settings.status_url,
        console_url=settings.console_url, rating_url=settings.rating_url,
        timezone_of=settings.timezone_of, available=frozenset(carriers))
    quiet = QuietHours.parse(settings.quiet_hours) if settings.quiet_hours.strip() else None
    dispatch = Dispatch(
        runtime.unit_of_work, carriers, composer, retry_policies(settings), now,
        quiet_hours=quiet, batch_size=settings.dispatch_batch_size,
        lease=timedelta(seconds=settings.dispatch_lease_seconds),
        concurrency=settings.dispatch_concurrency,
        settlements=PgSettlements(lambda: runtime.pool, SOURCE, settings.topic_prefix,
                                  wake_relay))
    digest_at = time.fromisoformat(settings.digest_time)
    next_digest = [now()]

    async def dispatch_once() -> int:
        if now() >= next_digest[0]:
            next_digest[0] = now() + DIGEST_EVERY
            await compose_digests(runtime.unit_of_work, now, settings.timezone_of, digest_at)
        return await dispatch.once()

    def build_dispatcher(_: Runtime) -> Dispatcher:
        dispatcher[:] = [Dispatcher("notify", dispatch_once,
                                    poll_interval=settings.dispatch_poll_interval,
                                    batch_size=settings.dispatch_batch_size)]
        return dispatcher[0]

    runtime.add_loop(build_dispatcher)

    async def close_transports(_: Runtime) -> None:
        for transport in carriers.values():
            await transport.close()

    runtime.on_stopping.append(close_transports)
    app = build_app(runtime, routers=[preferences_api.router, directory_api.router,
                                      deliveries_api.router],
                    title="LAPOR notify", version="2.0.0")
    app.state.cipher = cipher
    app.state.composer = composer
    app.state.staff_tokens = settings.staff_verifier()
    problems.install(app)
    return app
