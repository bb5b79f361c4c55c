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


def unique(name: str) -> str:
    return f"t{uuid.uuid4().hex[:8]}_{name}"
