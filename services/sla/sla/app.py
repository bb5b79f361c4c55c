"""sla's bootstrap: the real adapters and its subscribers."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import FastAPI

from backbone.runtime import Runtime, build_app
from contracts import events, topics
from sla import handlers
from sla.adapters.clocks import SlaPgUnitOfWork
from sla.config import SlaSettings


def bootstrap(settings: SlaSettings) -> FastAPI:
    # Intake's lifecycle facts only: intake alone says when a complaint is with an OPD.
    runtime = Runtime(
        settings, migrations="sla",
        consumes=[topics.INTAKE_EVENTS], produces=[topics.SLA_EVENTS],
        uow_factory=lambda pool, s: SlaPgUnitOfWork(pool, "/sla", s.topic_prefix, s.schema_name),
    )
    now = lambda: datetime.now(timezone.utc)  # noqa: E731
    runtime.consumer.on(events.ComplaintDisposedV1, handlers.make_on_complaint_disposed(
        now, settings.timezone, settings.first_response_working_days))
    runtime.consumer.on(events.ComplaintClosedV1, handlers.make_on_complaint_closed(
        now, settings.timezone, settings.reopen_window_working_days))
    return build_app(runtime, title="LAPOR sla", version="1.0.0")
