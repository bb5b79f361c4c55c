"""Shared test tooling.

Tiers are marked from the folder a test lives in. The integration and e2e tiers share one real
Kafka broker, one real PostgreSQL and one mail catcher, started once per session by the same
devstack code `make run` uses, on free ports under var/ (PostgreSQL runs as an unprivileged user
that must reach its folder, so not under pytest's private tmp). Each test isolates itself with
unique topic prefixes, schemas and ids.
"""

from __future__ import annotations

import shutil
import uuid

import pytest

from devstack.kafka import REPO_ROOT
from devstack.stack import Stack, StackConfig


def pytest_collection_modifyitems(items):
    for item in items:
        for tier in ("unit", "integration", "e2e"):
            if f"/tests/{tier}/" in str(item.path):
                item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(scope="session")
def infra():
    """Kafka, PostgreSQL and the mail catcher for the whole session; stopped and removed after."""
    home = REPO_ROOT / "var" / f"test-{uuid.uuid4().hex[:8]}"
    stack = Stack(StackConfig.private(home, prefix=""))
    try:
        stack.start_infrastructure()
        yield stack
    finally:
        stack.down()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-compatible server for the session: s3proxy from Maven Central (checksum
    verified, cached under var/), in-memory backend, on a free port; stopped after."""
    from devstack.s3proxy import S3Proxy
    from devstack.stack import free_port

    home = REPO_ROOT / "var" / f"test-s3-{uuid.uuid4().hex[:8]}"
    server = S3Proxy(home, free_port())
    try:
        server.start()
        server.wait_ready(timeout=90)
        yield server
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


def unique(name: str) -> str:
    return f"t{uuid.uuid4().hex[:8]}_{name}"
