"""Prometheus metrics every service exposes on `GET /metrics` (prometheus_client).

Defined once per process and labelled by service, so several runtimes in one process (the
integration tests) share them without clashing. What an operator watches: consumer lag per
partition, outbox backlog and its oldest row's age, quarantined outbox rows, dead letters,
deliveries by outcome, HTTP latency, and how long ago each loop last turned.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

CONSUMER_LAG = Gauge(
    "lapor_consumer_lag_records", "Records behind the partition's high watermark",
    ["service", "topic", "partition"])
CONSUMED = Counter(
    "lapor_consumer_records_total", "Records consumed, by outcome", ["service", "topic", "outcome"])
CONSUMER_BATCH = Histogram(
    "lapor_consumer_batch_records", "Records handled in one transaction", ["service"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500))
DEAD_LETTERS = Counter(
    "lapor_dead_letters_total", "Records sent to the dead-letter topic", ["service", "topic"])
OUTBOX_BACKLOG = Gauge(
    "lapor_outbox_backlog_rows", "Outbox rows waiting to be published", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "lapor_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row", ["service"])
OUTBOX_PUBLISHED = Counter(
    "lapor_outbox_published_total", "Outbox rows published", ["service"])
OUTBOX_QUARANTINED = Gauge(
    "lapor_outbox_quarantined_rows", "Outbox rows set aside because Kafka can never take them",
    ["service"])
OUTBOX_QUARANTINED_TOTAL = Counter(
    "lapor_outbox_quarantined_total", "Outbox rows quarantined", ["service", "topic"])
DELIVERIES = Counter(
    "lapor_deliveries_total", "Notification attempts by channel and outcome (sent, retry, "
    "fallback, failed, deferred, skipped)", ["service", "channel", "outcome"])
DELIVERY_LAG = Histogram(
    "lapor_delivery_lag_seconds", "From the fact to the message handed over (quiet hours "
    "and retries included)", ["service", "channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600))
HTTP_LATENCY = Histogram(
    "lapor_http_request_duration_seconds", "HTTP request latency",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
LOOP_AGE = Gauge(
    "lapor_loop_heartbeat_age_seconds", "Seconds since a loop last turned", ["service", "loop"])
LOOP_RESTARTS = Counter(
    "lapor_loop_restarts_total", "Loops restarted by the watchdog", ["service", "loop", "why"])
SLA_ALERTS = Counter(
    "lapor_sla_alerts_total", "SLA warnings, breaches and escalations", ["service", "alert", "clock"])
SLA_FIRE_LAG = Histogram(
    "lapor_sla_fire_lag_seconds", "From the moment a clock owed something to when it was fired",
    ["service"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60))
SLA_FIRE_BATCH = Histogram(
    "lapor_sla_fire_batch_seconds", "One firing batch: claim, compute, save, commit", ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
PURGED = Counter(
    "lapor_purged_rows_total", "Rows deleted by retention", ["service", "table"])


def exposition() -> tuple[bytes, str]:
    """The text format Prometheus scrapes, and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST
