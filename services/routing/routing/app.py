"""routing's bootstrap: the real adapters and its subscribers."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import FastAPI

from backbone.consumer import EventConsumer
from backbone.runtime import Runtime, build_app
from contracts import events, topics
from routing.adapters.decisions import RoutingPgUnitOfWork
from routing.config import RoutingSettings
from routing.handlers import Router


def subscribe(consumer: EventConsumer, router: Router) -> None:
    """Which event goes to which handler; one place, so unit tests wire exactly what runs."""
    consumer.on(events.ComplaintSubmittedV1, router.on_complaint_submitted)
    consumer.on(events.ComplaintRejectedNotAuthorityV1, router.on_rejected)
    consumer.on(events.ComplaintInformationAddedV1, router.on_information_added)
    consumer.on(events.ComplaintResumedV1, router.on_resumed)
    consumer.on(events.ComplaintDisposedV1, router.on_disposed)


def bootstrap(settings: RoutingSettings) -> FastAPI:
    runtime = Runtime(
        settings, migrations="routing",
        consumes=[topics.INTAKE_EVENTS], produces=[topics.ROUTING_EVENTS],
        uow_factory=lambda pool, s: RoutingPgUnitOfWork(pool, "/routing", s.topic_prefix, s.schema_name),
    )
    subscribe(runtime.consumer, Router(lambda: datetime.now(timezone.utc), settings.min_confidence))
    return build_app(runtime, title="LAPOR routing", version="1.0.0")
