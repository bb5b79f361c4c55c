"""Marks each test with its tier from the folder it lives in (unit, integration, e2e)."""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        for tier in ("unit", "integration", "e2e"):
            if f"/tests/{tier}/" in str(item.path):
                item.add_marker(getattr(pytest.mark, tier))
