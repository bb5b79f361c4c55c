"""One bootstrap for every service: the process-wide pieces, started and stopped in order.

Start: database pool and migrations, topics, the producer, the outbox relay, then the
subscribers; only then is the service ready. Stop (SIGTERM, via uvicorn's lifespan): not ready,
subscribers drain their in-flight record and commit, the relay flushes, connections close.
Each service supplies its unit of work, handlers, topics and HTTP routes; nothing else differs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from backbone.consumer import ConsumedRecord, EventConsumer
from backbone.db import apply_migrations, create_pool
from backbone.kafka import KafkaPublisher, ensure_topics
from backbone.relay import OutboxRelay
from backbone.settings import ServiceSettings
from contracts.topics import Topic, dead_letter_topic

log = logging.getLogger(__name__)

Hook = Callable[["Runtime"], Awaitable[None]]


class Runtime:
    """The running service: what handlers and routes reach through `app.state.runtime`."""

    def __init__(
        self, settings: ServiceSettings, *, migrations: str,
        consumes: Sequence[Topic], produces: Sequence[Topic],
        uow_factory: Callable[[asyncpg.Pool, ServiceSettings], Callable[[], Any]],
    ) -> None:
        self.settings = settings
        self.name = settings.service_name
        self._migrations = migrations
        self._consumes = list(consumes)
        self._dlq = dead_letter_topic(self.name)
        self._produces = list(produces) + ([self._dlq] if consumes else [])
        self._uow_builder = uow_factory
        self.ready = False
        self.pool: asyncpg.Pool | None = None
        self.publisher = KafkaPublisher(settings.kafka_bootstrap_servers, client_id=self.name)
        self.relay: OutboxRelay | None = None
        self.on_started: list[Hook] = []
        self.on_stopping: list[Hook] = []
        self.consumer = EventConsumer(
            name=self.name, uow_factory=self.unit_of_work,
            dead_letters=self.publisher, dead_letter_topic=self._dlq.name(settings.topic_prefix),
            max_attempts=settings.consumer_max_attempts,
            backoff_initial=settings.consumer_backoff_initial,
            backoff_max=settings.consumer_backoff_max,
        )
        self.broker = KafkaBroker(
            settings.kafka_bootstrap_servers, client_id=self.name, consumer_only=True,
            logger=logging.getLogger(f"{self.name}.broker"), log_level=logging.DEBUG,
            graceful_timeout=15.0,
        )
        if consumes:
            self._subscribe()

    def unit_of_work(self) -> Any:
        assert self.pool is not None, "unit of work requested before start"
        return self._uow_builder(self.pool, self.settings)

    def _subscribe(self) -> None:
        prefix = self.settings.topic_prefix
        consumer = self.consumer

        async def on_record(message: KafkaMessage) -> None:
            await consumer.process(ConsumedRecord.of(message.raw_message))

        async def keep_bytes(message: Any) -> bytes:
            """The body stays bytes: decoding is the consumer's job, so poison reaches the DLQ."""
            return message.body

        self.broker.subscriber(
            *[t.name(prefix) for t in self._consumes],
            group_id=f"{prefix}{self.name}",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            decoder=keep_bytes,
            title=f"{self.name} consumer",
        )(on_record)

    async def start(self) -> None:
        s = self.settings
        self.pool = await create_pool(s.database_url, s.schema_name)
        applied = await apply_migrations(self.pool, s.schema_name, "backbone", self._migrations)
        log.info("database ready", extra={"schema": s.schema_name, "migrations_applied": applied})
        await ensure_topics(s.kafka_bootstrap_servers, self._consumes + self._produces,
                            s.topic_prefix, s.topic_replication_factor)
        await self.publisher.start()
        self.relay = OutboxRelay(self.pool, self.publisher, s.schema_name,
                                 s.relay_batch_size, s.relay_poll_interval)
        await self.relay.start()
        for hook in self.on_started:
            await hook(self)
        if self._consumes:
            await self.broker.start()
        self.ready = True
        log.info("service ready", extra={"consumes": [t.base for t in self._consumes]})

    async def stop(self) -> None:
        self.ready = False
        if self._consumes:
            await self.broker.stop()
        for hook in self.on_stopping:
            with contextlib.suppress(Exception):
                await hook(self)
        if self.relay:
            await self.relay.stop()
        await self.publisher.stop()
        if self.pool:
            await self.pool.close()
        log.info("service stopped")

    async def check_ready(self) -> dict[str, str]:
        """What /readyz reports: each dependency 'ok' or why not."""
        checks = {"started": "ok" if self.ready else "starting or stopping"}
        try:
            assert self.pool is not None
            await asyncio.wait_for(self.pool.fetchval("SELECT 1"), 2)
            checks["database"] = "ok"
        except Exception as exc:  # any failure means not ready
            checks["database"] = f"unavailable: {type(exc).__name__}"
        checks["kafka"] = "ok" if await self.publisher.ping(timeout=2) else "unavailable"
        return checks


def health_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.name}

    @router.get("/readyz", summary="Readiness: started and its dependencies answer")
    async def readyz() -> JSONResponse:
        checks = await runtime.check_ready()
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "service": runtime.name,
                             "checks": checks}, status_code=200 if ok else 503)

    return router


def build_app(runtime: Runtime, *, routers: Sequence[APIRouter] = (), **fastapi_args: Any) -> FastAPI:
    """The service's ASGI app: health endpoints, its own routes, and the runtime's lifespan."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(lifespan=lifespan, **fastapi_args)
    app.state.runtime = runtime
    app.include_router(health_router(runtime))
    for router in routers:
        app.include_router(router)

    @app.middleware("http")
    async def trace_id_header(request: Any, call_next: Any) -> Any:
        """Every answer names its trace, so support can find a complaint's whole journey."""
        response = await call_next(request)
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            response.headers["X-Trace-Id"] = format(context.trace_id, "032x")
        return response

    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz")
    return app


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run until SIGTERM/SIGINT; uvicorn turns the signal into a graceful lifespan shutdown."""
    import uvicorn

    uvicorn.run(app, host=settings.http_host, port=settings.http_port,
                log_config=None, access_log=False, timeout_graceful_shutdown=20)


def run_service(settings_cls: type[ServiceSettings], bootstrap: Callable[[Any], FastAPI]) -> None:
    """The whole of every service's `__main__`: settings, logs, traces, serve until SIGTERM."""
    from backbone.settings import load_settings
    from backbone.telemetry import setup_logging, setup_tracing, shutdown_tracing

    settings = load_settings(settings_cls)
    setup_logging(settings.service_name, settings.log_level)
    setup_tracing(settings.service_name, settings.traces_file, settings.otel_exporter_otlp_endpoint)
    try:
        serve(bootstrap(settings), settings)
    finally:
        shutdown_tracing()
