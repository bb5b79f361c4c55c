"""routing's bootstrap: the real adapters and its subscribers."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from fastapi import FastAPI

from backbone import problems
from backbone.consumer import EventConsumer
from backbone.kafka import TopicCreator
from backbone.retention import Retention
from backbone.runtime import Runtime, build_app
from contracts import events, topics
from contracts.topics import Topic, opd_topic
from routing.adapters.decisions import RoutingPgUnitOfWork
from routing.config import RoutingSettings
from routing.domain.classifier import default_model_path, load_classifier
from routing.handlers import Router
from routing import classify_api, jurisdictions_api
from routing import decisions_api, duplicates_api, duplicate_handlers
from routing.jurisdiction_registry import JurisdictionRegistry, load_files
from routing.opd_feed import OpdFeed, subscribe as subscribe_opd_feed


def subscribe(consumer: EventConsumer, router: Router) -> None:
    """Which event goes to which handler; one place, so unit tests wire exactly what runs."""
    consumer.on(events.ComplaintSubmittedV1, router.on_complaint_submitted)
    consumer.on(events.ComplaintRejectedNotAuthorityV1, router.on_rejected)
    consumer.on(events.ComplaintInformationAddedV1, router.on_information_added)
    consumer.on(events.ComplaintResumedV1, router.on_resumed)
    consumer.on(events.ComplaintDisposedV1, router.on_disposed)
    # A batch's complaints are locked and read at once; what its handlers keep, written at once.
    consumer.read_ahead(lambda ids, uow: uow.complaints.reads_ahead(ids))


def bootstrap(settings: RoutingSettings) -> FastAPI:
    runtime = Runtime(
        settings, migrations="routing",
        consumes=[topics.INTAKE_EVENTS, topics.SLA_EVENTS, topics.SLA_ALERTS],
        produces=[topics.ROUTING_EVENTS],
        uow_factory=lambda pool, s: RoutingPgUnitOfWork(pool, "/routing", s.topic_prefix, s.schema_name),
        # Duplicate detection needs signatures for its time window only (a day's margin).
        retention=[Retention(table, "submitted_at",
                             timedelta(days=settings.duplicate_window_days + 1))
                   for table in ("duplicate_bands", "duplicate_signatures")],
    )
    # Jurisdictions: the files (checked now, so a broken one stops the start), versioned in
    # PostgreSQL at start, cached; `await jurisdictions.current(id)` (jurisdiction_registry.py).
    jurisdictions = JurisdictionRegistry(
        runtime.unit_of_work, lambda: datetime.now(timezone.utc),
        files=load_files(settings.jurisdictions_dir),
        refresh_seconds=settings.jurisdiction_refresh_seconds)
    runtime.jurisdictions = jurisdictions
    runtime.on_started.append(lambda _: jurisdictions.start())
    classifier = load_classifier(settings.model_path or default_model_path())
    clock = lambda: datetime.now(timezone.utc)  # noqa: E731

    async def find_duplicates(event, uow, category: str | None) -> None:
        await duplicate_handlers.detect_duplicates(event, uow, settings, clock, category=category)

    subscribe(runtime.consumer, Router(clock, settings.min_confidence, classifier=classifier,
                                       jurisdictions=jurisdictions, duplicates=find_duplicates))
    # Per-OPD feeds: after routing's own handlers, on the same events (routing/opd_feed.py).
    def topic_of(jurisdiction_id: str, opd_id: str) -> Topic:
        """The OPD's topic as its jurisdiction names it, else the derived name."""
        j = jurisdictions.cached(jurisdiction_id)
        opd = j.opd(opd_id) if j is not None else None
        derived = opd_topic(jurisdiction_id, opd_id)
        return replace(derived, base=opd.topic) if opd is not None and opd.topic else derived

    feed = OpdFeed(TopicCreator(settings.kafka_bootstrap_servers, settings.topic_prefix,
                                settings.topic_replication_factor), topic_of=topic_of)
    subscribe_opd_feed(runtime.consumer, feed)
    # A merge settles a duplicate pair (new complaints are compared by the Router, above).
    duplicate_handlers.subscribe(runtime.consumer)

    async def create_opd_topics(jurisdiction) -> None:
        """Each configured OPD's topic exists before its first record: at start, and when a
        configuration change adds an OPD."""
        await feed.create_topics((jurisdiction.id, o.id) for o in jurisdiction.opds)

    jurisdictions.on_change(create_opd_topics)
    app = build_app(runtime, routers=[jurisdictions_api.router, classify_api.router,
                                         duplicates_api.router, decisions_api.router],
                    title="LAPOR routing",
                    version="1.0.0")
    app.state.jurisdictions = jurisdictions
    app.state.classifier = classifier
    app.state.min_confidence = settings.min_confidence
    app.state.staff_tokens = settings.staff_verifier()
    problems.install(app)
    return app
