"""intake's bootstrap: picks the real adapters and wires the subscribers and the HTTP API."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import FastAPI

from backbone.pii import PiiCipher
from backbone.runtime import Runtime, build_app
from contracts import events, topics
from intake import api, handlers, problems
from intake.adapters.uow import IntakePgUnitOfWork
from intake.config import IntakeSettings


def bootstrap(settings: IntakeSettings) -> FastAPI:
    cipher = PiiCipher(settings.pii_key.get_secret_value())
    runtime = Runtime(
        settings, migrations="intake",
        consumes=[topics.ROUTING_EVENTS, topics.SLA_EVENTS, topics.NOTIFY_EVENTS],
        produces=[topics.INTAKE_EVENTS, topics.INTAKE_CONTACTS],
        uow_factory=lambda pool, s: IntakePgUnitOfWork(pool, cipher, s.topic_prefix),
    )
    runtime.consumer.on(events.ComplaintAssignedV1, handlers.on_complaint_assigned)
    runtime.consumer.on(events.ComplaintSentToTriageV1, handlers.on_complaint_sent_to_triage)
    runtime.consumer.on(events.SlaClockStartedV1, handlers.on_sla_clock_started)
    runtime.consumer.on(events.NotificationSentV1, handlers.on_notification_sent)

    app = build_app(runtime, routers=[api.router], title="LAPOR intake API",
                    version="1.0.0", description="Submit citizen complaints and follow them.")
    app.state.settings = settings
    app.state.clock = lambda: datetime.now(timezone.utc)
    app.state.max_body_bytes = settings.max_body_bytes
    problems.install(app)
    return app
