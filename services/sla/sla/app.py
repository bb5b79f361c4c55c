"""sla's bootstrap: the real adapters, its subscribers, the firing loop and its HTTP API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from fastapi import FastAPI

from backbone import problems
from backbone.runtime import Runtime, build_app
from contracts import topics
from sla import calendars_api, policies_api, watch_api
from sla.adapters.clocks import SlaPgUnitOfWork
from sla.adapters.queries import PgSlaQueries
from sla.calendar_registry import CalendarRegistry
from sla.config import SlaSettings
from sla.firing import FiringLoop
from sla.handlers import ClockKeeper, subscribe
from sla.policy_registry import PolicyRegistry, load_policy_files
from sla.watch_api import AlertBroadcaster


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def bootstrap(settings: SlaSettings, now: Callable[[], datetime] = _utc_now) -> FastAPI:
    """`now` is the time source of every clock decision: tests pass one they move."""
    # Intake's lifecycle facts only: intake alone says where a complaint stands.
    runtime = Runtime(
        settings, migrations="sla",
        consumes=[topics.INTAKE_EVENTS], produces=[topics.SLA_EVENTS, topics.SLA_ALERTS],
        uow_factory=lambda pool, s: SlaPgUnitOfWork(pool, "/sla", s.topic_prefix, s.schema_name),
    )
    policy_files = load_policy_files(settings.policies_dir)
    app_state: dict = {}

    class _Late:
        """Calendars and policies need the pool, which exists only once the runtime started;
        handlers built now reach them through this."""

        async def calendar(self, jurisdiction: str):
            return await app_state["calendars"].calendar(jurisdiction)

        async def terms(self, jurisdiction: str, kind: str, **facts):
            return await app_state["policies"].terms(jurisdiction, kind, **facts)

    late = _Late()
    subscribe(runtime.consumer, ClockKeeper(
        now, late, late, verification_quiet=timedelta(seconds=settings.verification_quiet_seconds)))

    async def with_database(rt: Runtime) -> None:
        calendars = CalendarRegistry.for_settings(rt.pool, settings)
        await calendars.start()
        policies = PolicyRegistry(rt.pool, policy_files,
                                  refresh_seconds=settings.config_refresh_seconds)
        await policies.start()
        app_state.update(calendars=calendars, policies=policies)
        app.state.calendars, app.state.policies = calendars, policies
        app.state.sla_queries = PgSlaQueries(rt.pool)
        app.state.alert_broadcaster.start(app.state.sla_queries)

    async def stopping(rt: Runtime) -> None:
        await app.state.alert_broadcaster.stop()

    runtime.on_database.append(with_database)
    runtime.on_stopping.append(stopping)
    runtime.add_loop(lambda rt: FiringLoop(
        rt.name, rt.unit_of_work, late, now, batch_size=settings.fire_batch_size,
        poll_interval=settings.fire_poll_interval,
        on_alerts=app.state.alert_broadcaster.wake))

    app = build_app(runtime, routers=[calendars_api.router, policies_api.router, watch_api.router],
                    title="LAPOR sla", version="1.0.0")
    app.state.staff_tokens = settings.staff_verifier()
    app.state.alert_broadcaster = AlertBroadcaster(poll_interval=settings.alerts_poll_interval)
    problems.install(app)
    return app
