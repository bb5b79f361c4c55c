"""One bootstrap for every service: the process-wide pieces, started and stopped in order.

Start: database pool and migrations, topics, the producer, then the supervised loops (outbox
relay, Kafka consumer, housekeeping, and the service's own such as notify's dispatcher) under a
watchdog; only then is the service ready. Stop (SIGTERM, via uvicorn's lifespan): not ready,
the consumer finishes its batch and commits, the other loops finish their turn, the relay
flushes, connections close.

Health, for operators and Kubernetes alike:
- `/readyz` says whether the service can do its work now: database answering, every loop
  healthy, Kafka reachable (intake excepted: it accepts complaints while Kafka is away, because
  the outbox holds them);
- `/livez` (and `/healthz`) fails when a loop is wedged beyond what the watchdog could mend;
- `/metrics` is the Prometheus exposition.
Each service supplies its unit of work, handlers, topics and HTTP routes; nothing else differs.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

import asyncpg
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from backbone import gc_tuning, metrics
from backbone.consumer import EventConsumer
from backbone.consumer_loop import KafkaConsumerLoop
from backbone.db import DbTimeouts, apply_migrations, create_pool
from backbone.errors import is_transient
from backbone.http_limits import BodyLimits, UploadRoute
from backbone.quarantine_api import quarantine_router
from backbone.rate_limits import RateLimits
from backbone.kafka import KafkaPublisher, ensure_topics
from backbone.loops import SupervisedLoop, Watchdog
from backbone.relay import OutboxRelay
from backbone.retention import Housekeeper, Retention
from backbone.settings import ServiceSettings
from contracts.topics import Topic, dead_letter_topic

log = logging.getLogger(__name__)

Hook = Callable[["Runtime"], Awaitable[None]]
READY_CHECK_SECONDS = 2.0   # /readyz's longest wait for a dependency; the probes allow 3 s


class Runtime:
    """The running service: what handlers and routes reach through `app.state.runtime`."""

    def __init__(
        self, settings: ServiceSettings, *, migrations: str,
        consumes: Sequence[Topic], produces: Sequence[Topic],
        uow_factory: Callable[[asyncpg.Pool, ServiceSettings], Callable[[], Any]],
        retention: Sequence[Retention] = (),
        ready_without_kafka: bool = False,
    ) -> None:
        self.settings = settings
        self.name = settings.service_name
        self._migrations = migrations
        self._consumes = list(consumes)
        self._dlq = dead_letter_topic(self.name)
        self._produces = list(produces) + ([self._dlq] if consumes else [])
        self._uow_builder = uow_factory
        self._ready_without_kafka = ready_without_kafka
        self._retention = [
            Retention("outbox", "published_at", timedelta(hours=settings.outbox_retention_hours)),
            Retention("inbox", "applied_at", timedelta(days=settings.inbox_retention_days)),
            *retention,
        ]
        self.timeouts = DbTimeouts(
            connect=settings.db_connect_timeout, command=settings.db_command_timeout,
            statement_ms=settings.db_statement_timeout_ms, lock_ms=settings.db_lock_timeout_ms)
        self.started = False
        self.pool: asyncpg.Pool | None = None
        self.publisher = KafkaPublisher(settings.kafka_bootstrap_servers, client_id=self.name)
        self.relay: OutboxRelay | None = None
        self.loops: list[SupervisedLoop] = []
        self._extra_loops: list[Callable[["Runtime"], SupervisedLoop]] = []
        self.watchdog: Watchdog | None = None
        self.on_database: list[Hook] = []   # after migrations, before any loop runs
        self.on_started: list[Hook] = []
        self.on_stopping: list[Hook] = []
        self.consumer = EventConsumer(
            name=self.name, uow_factory=self.unit_of_work,
            dead_letters=self.publisher, dead_letter_topic=self._dlq.name(settings.topic_prefix),
            max_attempts=settings.consumer_max_attempts,
            backoff_initial=settings.consumer_backoff_initial,
            backoff_max=settings.consumer_backoff_max,
        )

    def unit_of_work(self) -> Any:
        assert self.pool is not None, "unit of work requested before start"
        uow = self._uow_builder(self.pool, self.settings)
        if self.relay is not None:
            uow.wake_relay = self.relay.wake
        return uow

    def add_loop(self, build: Callable[["Runtime"], SupervisedLoop]) -> None:
        """A service's own loop (e.g. notify's dispatcher), built at start, supervised alike."""
        self._extra_loops.append(build)

    async def _until_available(self, what: str, action: Callable[[], Awaitable[Any]]) -> Any:
        """Start-up waits (bounded) for a database or broker that is still coming up."""
        async for attempt in AsyncRetrying(
            stop=stop_after_delay(self.settings.startup_timeout), reraise=True,
            wait=wait_exponential(multiplier=0.2, max=3), retry=retry_if_exception(is_transient),
        ):
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    log.info("waiting for a dependency", extra={"dependency": what})
                return await action()

    async def start(self) -> None:
        s = self.settings
        self.pool = await self._until_available("database", lambda: create_pool(
            s.database_url, s.schema_name, s.db_pool_max_size, self.timeouts))
        applied = await self._until_available("database", lambda: apply_migrations(
            self.pool, s.schema_name, "backbone", self._migrations))
        log.info("database ready", extra={"schema": s.schema_name, "migrations_applied": applied})
        for hook in self.on_database:
            await self._until_available("database", lambda h=hook: h(self))
        await self._until_available("kafka", lambda: ensure_topics(
            s.kafka_bootstrap_servers, self._consumes + self._produces, s.topic_prefix,
            s.topic_replication_factor))
        await self.publisher.start()
        self.relay = OutboxRelay(
            s.database_url, s.schema_name, self.publisher, service=self.name,
            batch_size=s.relay_batch_size, poll_interval=s.relay_poll_interval,
            linger=s.relay_linger_ms / 1000,
            timeouts=self.timeouts, kafka_required_for_health=not self._ready_without_kafka)
        self.loops = [self.relay, Housekeeper(self.pool, self.name, self._retention,
                                              interval=s.purge_interval)]
        self.loops += [build(self) for build in self._extra_loops]
        if self._consumes:
            self.loops.append(KafkaConsumerLoop(
                self.name, self.consumer, s.kafka_bootstrap_servers,
                [t.name(s.topic_prefix) for t in self._consumes], f"{s.topic_prefix}{self.name}",
                max_records=s.consumer_max_records, commit_interval=s.consumer_commit_interval,
                backoff_initial=s.consumer_backoff_initial, backoff_max=s.consumer_backoff_max,
                rebuild_after=s.consumer_rebuild_after, linger=s.consumer_linger_ms / 1000))
        for loop in self.loops:
            loop.wedged_after = max(loop.wedged_after, s.loop_wedged_after)
            loop.start()
        self.watchdog = Watchdog(self.loops)
        self.watchdog.start()
        for hook in self.on_started:
            await hook(self)
        self.started = True
        log.info("service ready", extra={"consumes": [t.base for t in self._consumes]})

    async def stop(self) -> None:
        self.started = False
        if self.watchdog:
            await self.watchdog.stop()
        # The others together, the relay last: it flushes what they recorded finishing their turn.
        await asyncio.gather(*(loop.stop() for loop in self.loops if loop is not self.relay))
        if self.relay is not None:
            await self.relay.stop()
        for hook in self.on_stopping:
            with contextlib.suppress(Exception):
                await hook(self)
        await self.publisher.stop()
        if self.pool:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.pool.close(), 10)
        log.info("service stopped")

    async def check_ready(self) -> dict[str, str]:
        """What /readyz reports: each dependency and loop 'ok' or why not, within
        `READY_CHECK_SECONDS`: the database and Kafka are asked at once, and a check that has
        not answered by then is reported and left behind (`_answered`), so a hung dependency
        (a stopped process, its port still open) gets an answer naming it within the probe's
        timeout."""
        deadline = asyncio.get_running_loop().time() + READY_CHECK_SECONDS
        checks = {"started": "ok" if self.started else "starting or stopping"}
        database = None if self.pool is None else _running(self.pool.fetchval("SELECT 1"))
        kafka = (None if self._ready_without_kafka else
                 _running(self.publisher.ping(timeout=READY_CHECK_SECONDS)))
        checks["database"] = ("unavailable: not connected" if database is None
                              else await _answered(database, deadline))
        for loop in self.loops:
            checks[loop.name] = "ok" if loop.healthy else loop.detail
        if kafka is not None:
            answered = await _answered(kafka, deadline) == "ok" and kafka.result()
            checks["kafka"] = "ok" if answered else "unavailable"
        return checks

    def check_live(self) -> dict[str, str]:
        """What /livez reports: a loop wedged beyond the watchdog's help fails it."""
        checks = {}
        for loop in self.loops:
            age = loop.heartbeat_age
            checks[loop.name] = "ok" if age < 2 * loop.wedged_after else f"wedged for {age:.0f}s"
        if self.watchdog is not None and self.watchdog.heartbeat_age > 30:
            checks["watchdog"] = f"wedged for {self.watchdog.heartbeat_age:.0f}s"
        return checks


def _running(check: Awaitable[Any]) -> asyncio.Future:
    """`check` running on its own; its failure is read by `_answered`, or dropped if nobody
    waits for it any more (a probe that gave up), never logged as unretrieved."""
    task = asyncio.ensure_future(check)
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
    return task


async def _answered(check: asyncio.Future, deadline: float) -> str:
    """'ok', or why not, by the event loop's time `deadline`. A check still waiting then is
    cancelled and not waited for: asyncpg tidies up a query the server never answered (a
    stopped PostgreSQL) until its command timeout, and `asyncio.wait_for` waits for that
    tidying, which once made /readyz take 17 s instead of 2."""
    left = max(0.0, deadline - asyncio.get_running_loop().time())
    done, _ = await asyncio.wait({check}, timeout=left)
    if not done:
        check.cancel()
        return "unavailable: TimeoutError"
    if check.cancelled():
        return "unavailable: cancelled"
    error = check.exception()
    return "ok" if error is None else f"unavailable: {type(error).__name__}"


def health_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/livez", summary="Liveness: no loop is wedged (else restart the process)")
    @router.get("/healthz", summary="Liveness (alias of /livez)")
    async def livez() -> JSONResponse:
        checks = runtime.check_live()
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ok else "wedged", "service": runtime.name,
                             "checks": checks}, status_code=200 if ok else 503)

    @router.get("/readyz", summary="Readiness: it can do its work now")
    async def readyz() -> JSONResponse:
        checks = await runtime.check_ready()
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "service": runtime.name,
                             "checks": checks}, status_code=200 if ok else 503)

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def prometheus() -> Response:
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    return router


class Edge:
    """Pure ASGI middleware on every request: latency histogram by route, and an X-Trace-Id
    header so support can find a complaint's whole journey."""

    def __init__(self, app: Any, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_trace(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                context = trace.get_current_span().get_span_context()
                if context.is_valid:
                    message.setdefault("headers", [])
                    message["headers"] = [*message["headers"],
                                          (b"x-trace-id", format(context.trace_id, "032x").encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_trace)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            if route not in ("/metrics", "/readyz", "/livez", "/healthz"):
                metrics.HTTP_LATENCY.labels(self.service, scope["method"], route, str(status)
                                            ).observe(time.perf_counter() - started)


def build_app(runtime: Runtime, *, routers: Sequence[APIRouter] = (),
              uploads: Sequence[UploadRoute] = (), **fastapi_args: Any) -> FastAPI:
    """The service's ASGI app: health endpoints, its own routes, and the runtime's lifespan.
    `uploads` names the routes whose multipart bodies may be larger than `max_body_bytes`."""

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
    app.include_router(quarantine_router())
    for router in routers:
        app.include_router(router)
    # Added last is outermost: the edge (trace id, latency) sees the limits' 429, 413, 408 too.
    s = runtime.settings
    app.add_middleware(BodyLimits, max_body_bytes=s.max_body_bytes, body_timeout=s.body_timeout,
                       uploads=uploads)
    app.add_middleware(RateLimits, per_client=s.rate_limit_per_client,
                       per_token=s.rate_limit_per_token, storage=s.rate_limit_storage,
                       trusted_proxies=s.trusted_proxies)
    app.add_middleware(Edge, service=runtime.name)
    # One server span per request; a span per body chunk sent or received costs more than it tells.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,livez,metrics",
                                       exclude_spans=["receive", "send"])
    return app


def serve(app: FastAPI, settings: ServiceSettings, *, keep_alive_seconds: int = 30,
          max_concurrency: int | None = 1000, max_head_bytes: int = 16 * 1024) -> None:
    """Run until SIGTERM/SIGINT; uvicorn turns the signal into a graceful lifespan shutdown.

    h11 rather than httptools: httptools buffers a request's headers without any bound (30 MB
    of header lines cost 27 MB of memory), h11 answers 400 once the request line and headers
    pass `max_head_bytes`. Bodies are bounded by `backbone.http_limits`. Past `max_concurrency`
    open connections or running requests, uvicorn answers 503 at once rather than letting work
    pile up behind the database pool. An idle keep-alive connection closes after
    `keep_alive_seconds`: longer than clients' own idle expiry (httpx and most HTTP libraries
    keep 5 s), or a client reusing a connection just as the server drops it gets no answer.
    """
    import uvicorn

    uvicorn.run(app, host=settings.http_host, port=settings.http_port,
                log_config=None, access_log=False, timeout_graceful_shutdown=20,
                http="h11", h11_max_incomplete_event_size=max_head_bytes,
                timeout_keep_alive=keep_alive_seconds, limit_concurrency=max_concurrency)


async def _settle_gc(runtime: Runtime) -> None:
    """Once the process is up (so here, not in `Runtime.start`, which tests run in-process)."""
    frozen = gc_tuning.settle_after_start(runtime.settings.gc_thresholds)
    log.info("garbage collector settled", extra={"frozen_objects": frozen,
                                                  "thresholds": list(gc.get_threshold())})


def run_service(settings_cls: type[Any], bootstrap: Callable[[Any], FastAPI]) -> None:
    """The whole of every service's `__main__`: settings, logs, traces, serve until SIGTERM.
    Any settings class with the service's name, log level, trace outputs and HTTP address
    will do (the console's has no database or Kafka)."""
    from backbone.settings import load_settings
    from backbone.telemetry import setup_logging, setup_tracing, shutdown_tracing

    settings = load_settings(settings_cls)
    setup_logging(settings.service_name, settings.log_level, settings.log_file, settings.log_file_max_mb)
    setup_tracing(settings.service_name, settings.traces_file, settings.otel_exporter_otlp_endpoint,
                  settings.traces_file_max_mb)
    try:
        app = bootstrap(settings)
        runtime = getattr(app.state, "runtime", None)
        if isinstance(runtime, Runtime):   # the console has none
            runtime.on_started.append(_settle_gc)
        serve(app, settings)
    finally:
        shutdown_tracing()
