"""intake's bootstrap: picks the real adapters and wires the subscribers and the HTTP API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from fastapi import FastAPI

from backbone import problems
from backbone.pii import PiiCipher
from backbone.retention import Retention
from backbone.http_limits import UploadRoute
from backbone.runtime import Runtime, build_app
from contracts import events, topics
from intake import api, api_keys_api, attachments_api, channels, handlers, public
from intake import opd_actions
from intake.adapters.blobs import build_blob_store
from intake.adapters.repository import TrackingNumbers
from intake.adapters.uow import IntakePgUnitOfWork
from intake.config import IntakeSettings
from intake.domain.attachments import Limits
from intake.domain.tokens import AccessTokens
from intake.open311 import errors as open311_errors, routes as open311_routes


def bootstrap(settings: IntakeSettings) -> FastAPI:
    cipher = PiiCipher(settings.pii_key.get_secret_value())
    numbers = TrackingNumbers(settings.tracking_number_block)
    runtime = Runtime(
        settings, migrations="intake",
        consumes=[topics.ROUTING_EVENTS, topics.SLA_EVENTS, topics.NOTIFY_EVENTS,
                  topics.CHANNELS_INBOUND, topics.OPD_ACTIONS],
        produces=[topics.INTAKE_EVENTS, topics.INTAKE_CONTACTS],
        uow_factory=lambda pool, s: IntakePgUnitOfWork(pool, cipher, s.topic_prefix, s.schema_name,
                                                        numbers),
        retention=[Retention("idempotency_keys", "created_at",
                             timedelta(hours=settings.idempotency_retention_hours)),
                   Retention("channel_messages", "handled_at",
                             timedelta(days=settings.channel_dedupe_retention_days))],
        # Complaints are accepted while Kafka is away: the outbox holds them until it is back.
        ready_without_kafka=True,
    )
    # A batch's complaints are locked and read at once: each handler's `get` then reads nothing.
    runtime.consumer.read_ahead(lambda ids, uow: uow.complaints.reads_ahead(ids))
    runtime.consumer.on(events.ComplaintAssignedV1, handlers.on_complaint_assigned)
    runtime.consumer.on(events.ComplaintSentToTriageV1, handlers.on_complaint_sent_to_triage)
    runtime.consumer.on(events.ComplaintFoundNotOursV1, handlers.on_complaint_found_not_ours)
    runtime.consumer.on(events.SlaClockStartedV1, handlers.on_sla_clock_started)
    runtime.consumer.on(events.SlaClockPausedV1, handlers.on_sla_clock_paused)
    runtime.consumer.on(events.SlaClockResumedV1, handlers.on_sla_clock_resumed)
    runtime.consumer.on(events.SlaAutoCloseDueV1, handlers.on_sla_auto_close_due)
    runtime.consumer.on(events.NotificationSentV1, handlers.on_notification_sent)
    runtime.consumer.on(events.NotificationFailedV1, handlers.on_notification_failed)

    app = build_app(runtime, routers=[api.router, public.router, attachments_api.router,
                                     open311_routes.router, api_keys_api.router],
                    uploads=_uploads(settings), title="LAPOR intake API",
                    version="1.1.0",
                    description="Submit citizen complaints and follow them; OPD staff and "
                                "operators act on them through one lifecycle.")
    clock = lambda: datetime.now(timezone.utc)  # noqa: E731
    app.state.settings = settings
    app.state.clock = clock
    app.state.staff_tokens = settings.staff_verifier()
    app.state.submit_deps = handlers.SubmitDeps(
        clock=clock, cipher=cipher,
        tokens=AccessTokens(settings.token_secret()),
        default_jurisdiction=settings.default_jurisdiction)
    runtime.consumer.on(events.ChannelMessageReceivedV1, channels.subscriber(
        app.state.submit_deps, settings.channel_sender_secret()))
    # Written by adapters outside the platform: nothing but their messages is accepted there.
    runtime.consumer.accept_only(topics.CHANNELS_INBOUND.name(settings.topic_prefix),
                                 events.ChannelMessageReceivedV1)
    # OPD systems' actions, each with its own signed token (intake/opd_actions.py).
    runtime.consumer.on(events.TakeOpdActionV1, opd_actions.subscriber(
        opd_actions.OpdActionDeps(app.state.staff_tokens, clock)))
    runtime.consumer.accept_only(topics.OPD_ACTIONS.name(settings.topic_prefix),
                                 events.TakeOpdActionV1)
    app.state.attach_deps = handlers.AttachDeps(
        blobs=build_blob_store(settings), clock=clock, limits=Limits(
            image_bytes=settings.attachment_max_image_bytes,
            pdf_bytes=settings.attachment_max_pdf_bytes,
            video_bytes=settings.attachment_max_video_bytes,
            max_pixels=settings.attachment_max_pixels,
            per_complaint=settings.attachments_per_complaint))
    problems.install(app, retry_after_seconds=settings.retry_after_seconds)
    app.add_middleware(open311_errors.SpecErrors)   # /open311/ answers errors the spec's way
    return app


def _uploads(settings: IntakeSettings) -> list[UploadRoute]:
    """Multipart uploads (a complaint with files, files added later) may be larger and slower
    than the ordinary body limit; JSON on the same routes is not."""
    size, timeout = settings.upload_body_bytes(), settings.upload_body_timeout
    return [UploadRoute("POST", r"/v1/complaints", size, timeout),
            UploadRoute("POST", r"/v1/complaints/[0-9]{1,20}/attachments", size, timeout)]
