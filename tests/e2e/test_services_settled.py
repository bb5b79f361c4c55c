"""Each service, started as `make run` starts it, settles its garbage collector once it is up
(backbone.gc_tuning): the start-up heap frozen, the configured thresholds in force."""

from __future__ import annotations

import json

from backbone.gc_tuning import DEFAULT_THRESHOLDS, parse_thresholds
from devstack.stack import SERVICES, wait_until


def _settled(log_file) -> dict | None:
    if not log_file.exists():
        return None
    for line in log_file.read_text(encoding="utf-8", errors="replace").splitlines():
        if '"garbage collector settled"' in line:
            return json.loads(line)
    return None


def test_every_service_freezes_its_start_up_heap_and_sets_the_thresholds(platform):
    for name in SERVICES:
        entry = wait_until(lambda n=name: _settled(platform.log_dir / f"{n}.log"), 30,
                           f"{name} logs its collector settled")
        assert entry["service"] == name
        assert entry["thresholds"] == list(parse_thresholds(DEFAULT_THRESHOLDS))
        assert entry["frozen_objects"] > 10_000   # the modules and schemas, at least
