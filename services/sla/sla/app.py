"""sla's bootstrap: the real adapters and its subscriber."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import FastAPI

from backbone.runtime import Runtime, build_app
from contracts import events, topics
from sla import handlers
from sla.adapters.clocks import SlaPgUnitOfWork
from sla.config import SlaSettings


def bootstrap(settings: SlaSettings) -> FastAPI:
    runtime = Runtime(
        settings, migrations="sla",
        consumes=[topics.ROUTING_EVENTS], produces=[topics.SLA_EVENTS],
        uow_factory=lambda pool, s: SlaPgUnitOfWork(pool, "/sla", s.topic_prefix, s.schema_name),
    )
    runtime.consumer.on(events.ComplaintAssignedV1, handlers.make_on_complaint_assigned(
        lambda: datetime.now(timezone.utc), settings.timezone,
        settings.first_response_working_days))
    return build_app(runtime, title="LAPOR sla", version="1.0.0")
