"""Observability, set up once per service: traces, JSON logs carrying trace ids.

Spans go to OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, and to a JSON-lines file when
TRACES_FILE is set (the local platform and the e2e tests read that file: one complaint, one
trace id, spans from all four services).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TextIO

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from pythonjsonlogger.json import JsonFormatter

log = logging.getLogger(__name__)
_provider: TracerProvider | None = None


class JsonLinesSpanExporter(SpanExporter):
    """Spans as compact JSON lines, in the shape of `ReadableSpan.to_json` for the fields people
    and tests read (name, context, parent, kind, times, status, attributes, resource). Written
    here because the SDK's ConsoleSpanExporter formats every field through to_json, which cost
    about a tenth of each service's CPU under load; OTLP (OTEL_EXPORTER_OTLP_ENDPOINT) is the
    production path, this file is for local runs and tests.

    The file is capped at `max_bytes`: past it, it becomes `<name>.1` (replacing the one
    before) and a new one starts. A platform left running under `make run` writes about
    6 KB of spans per complaint across its services, which without a cap fills the disk."""

    def __init__(self, path: Path, service: str, max_bytes: int) -> None:
        self._path = path
        self._max_bytes = max_bytes
        self._resource = {"attributes": {"service.name": service}}
        path.parent.mkdir(parents=True, exist_ok=True)
        self._out = self._open()
        self._written = path.stat().st_size

    def _open(self) -> TextIO:
        return open(self._path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - closed on rotation or shutdown

    def _rotate(self) -> None:
        """A rename that fails leaves the file growing (spans are worth less than the service);
        it is tried again after another `max_bytes`, not on every export."""
        self._out.close()
        try:
            self._path.replace(self._path.with_name(self._path.name + ".1"))
        except OSError as exc:
            log.warning("traces file not rotated", extra={"error": str(exc)})
        self._out, self._written = self._open(), 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = []
        for span in spans:
            context, parent = span.context, span.parent
            lines.append(json.dumps({
                "name": span.name,
                "context": {"trace_id": f"0x{context.trace_id:032x}",
                            "span_id": f"0x{context.span_id:016x}"},
                "kind": span.kind.name,
                "parent_id": f"0x{parent.span_id:016x}" if parent else None,
                "start_time": span.start_time, "end_time": span.end_time,
                "status": {"status_code": span.status.status_code.name},
                "attributes": dict(span.attributes or {}),
                "resource": self._resource,
            }, default=str))
        if self._written >= self._max_bytes:
            self._rotate()
        text = "\n".join(lines) + "\n"
        self._out.write(text)
        self._written += len(text)  # ASCII: json.dumps escapes everything else
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self._out.close()


def setup_tracing(service: str, traces_file: Path | None, otlp_endpoint: str | None,
                  traces_file_max_mb: int = 256) -> TracerProvider:
    global _provider
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if traces_file is not None:
        provider.add_span_processor(BatchSpanProcessor(
            JsonLinesSpanExporter(traces_file, service, traces_file_max_mb * 1024 * 1024),
            schedule_delay_millis=200,
        ))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(
            OTLPSpanExporter(endpoint=otlp_endpoint.rstrip("/") + "/v1/traces")
        ))
    trace.set_tracer_provider(provider)
    _provider = provider
    return provider


def shutdown_tracing() -> None:
    if _provider is not None:
        _provider.shutdown()


class _TraceContext(logging.Filter):
    """Stamps every log record with the service name and the current trace and span ids."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = trace.get_current_span().get_span_context()
        record.service = self._service
        record.trace_id = format(ctx.trace_id, "032x") if ctx.is_valid else None
        record.span_id = format(ctx.span_id, "016x") if ctx.is_valid else None
        return True


class _Throttle(logging.Filter):
    """A client library that loses its broker logs the same line every 200 ms: keep the first
    of each kind per interval, so an outage is visible without drowning the log."""

    def __init__(self, interval: float = 10.0) -> None:
        super().__init__()
        self._interval = interval
        self._last: dict[tuple[str, str], float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        import time

        key = (record.name, str(record.msg)[:80])
        now = time.monotonic()
        if now - self._last.get(key, -self._interval) < self._interval:
            return False
        self._last[key] = now
        if len(self._last) > 1000:
            self._last.clear()
        return True


class _ThrottleNoisy(logging.Filter):
    """Applies a throttle to the named libraries' records only."""

    def __init__(self, throttle: _Throttle, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self._throttle = throttle
        self._prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(self._prefixes) or self._throttle.filter(record)


def setup_logging(service: str, level: str = "INFO", file: Path | None = None,
                  file_max_mb: int = 64) -> None:
    """JSON lines on stderr, or in `file` when given; the root logger and uvicorn's all share
    the format. The file is capped like the traces file (past `file_max_mb` it becomes
    `<name>.1`, replacing the one before): `make run` left up for weeks logs every message
    sent, and nothing outside the process rotates it there."""
    handler: logging.Handler
    if file is None:
        handler = logging.StreamHandler(sys.stderr)
    else:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(file, maxBytes=file_max_mb * 1024 * 1024, backupCount=1,
                                      encoding="utf-8")
    handler.addFilter(_TraceContext(service))
    handler.setFormatter(JsonFormatter(
        "{asctime}{levelname}{name}{message}{service}{trace_id}{span_id}",
        style="{", rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "aiokafka"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("aiokafka").setLevel("WARNING")
    handler.addFilter(_ThrottleNoisy(_Throttle(), ("aiokafka",)))
    logging.getLogger("uvicorn.access").setLevel("WARNING")
