"""The whole platform, started as `make run` starts it (separate processes, real Kafka,
PostgreSQL and SMTP), but on the session's private infrastructure and its own topic prefix."""

from __future__ import annotations

import shutil
import uuid

import httpx
import pytest

from devstack.stack import CONSOLE, SERVICES, Stack, StackConfig, free_port


@pytest.fixture(scope="module")
def platform(infra):
    prefix = f"e{uuid.uuid4().hex[:8]}."
    home = infra.c.home / prefix.rstrip(".")
    config = StackConfig(
        home=home, kafka_port=infra.c.kafka_port, pg_port=infra.c.pg_port,
        smtp_port=infra.c.smtp_port, mail_http_port=infra.c.mail_http_port,
        sinks_port=infra.c.sinks_port,
        service_ports={name: free_port() for name in (*SERVICES, CONSOLE)}, topic_prefix=prefix,
        extra_env={"RELAY_POLL_INTERVAL": "0.5", "DISPATCH_POLL_INTERVAL": "0.5",
                   # One address (127.0.0.1) runs every test; each test mints its own tokens.
                   "RATE_LIMIT_PER_CLIENT": "100000/minute", "RATE_LIMIT_PER_TOKEN": "300/minute",
                   # notify: tests run at any hour, and wait seconds, not hours, for retries.
                   "QUIET_HOURS": "", "RETRY_BASE_SECONDS": "0.5", "RETRY_CAP_SECONDS": "5",
                   "SMS_ATTEMPTS": "4", "WHATSAPP_ATTEMPTS": "2", "RATING_REQUEST_DELAY_SECONDS": "1",
                   "DISPATCH_LEASE_SECONDS": "15",
                   # A receipt waits this long for the assignment, to be said with it: long
                   # enough that a busy CI machine routes (or an operator-in-a-test disposes)
                   # every complaint first, so each test knows which messages to expect.
                   "RECEIPT_HOLD_SECONDS": "60",
                   # Likewise the verification clock of a complaint routed at once is never told.
                   "VERIFICATION_QUIET_SECONDS": "60"},
    )
    stack = Stack(config)
    stack.dsn = infra.dsn
    try:
        for name in SERVICES:
            stack.start_service(name)
        for name in SERVICES:
            stack.wait_service(name)
        yield stack
    finally:
        for name in SERVICES:
            stack.stop_service(name)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def api(platform):
    with httpx.Client(base_url=platform.service_url("intake"), timeout=10) as client:
        yield client


@pytest.fixture
def mail(platform):
    with httpx.Client(base_url=platform.mail_url, timeout=10) as client:
        yield client
