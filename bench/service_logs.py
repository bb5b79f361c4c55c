"""Warnings and errors the services logged during the run.

Why: a fast run with retries, dead letters or failed deliveries behind it is not a fast run.
The services log JSON lines with a "level" field; anything at WARNING or above is counted per
service and message, so the report can show it next to the numbers. Only what was logged after
a mark counts: start-up noise (consumers asking for a coordinator that is not elected yet) is
not what the measured phases did.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from devstack.stack import SERVICES


def _files(log_dir: Path) -> list[Path]:
    """Each service's log and its other output (`.out`: what it wrote outside logging)."""
    return [log_dir / f"{name}{suffix}" for name in SERVICES for suffix in (".log", ".out")]


def mark(log_dir: Path) -> dict[str, int]:
    """Where each service's log and other output end now."""
    return {path.name: path.stat().st_size for path in _files(log_dir) if path.exists()}


def warnings_and_errors(log_dir: Path, since: dict[str, int]) -> dict[str, dict[str, int]]:
    """{service: {"WARNING: delivery failed": 3, ...}} logged after `since` (from mark()),
    services with nothing to say left out. A log that rotated since the mark (it is shorter
    now) is read from its start."""
    found: dict[str, dict[str, int]] = {}
    for path in _files(log_dir):
        if not path.exists():
            continue
        with path.open("rb") as f:
            start = since.get(path.name, 0)
            f.seek(start if start <= path.stat().st_size else 0)
            text = f.read().decode(errors="replace")
        counts: Counter[str] = Counter()
        for line in text.splitlines():
            if '"level"' not in line:
                if "Traceback" in line:
                    counts["(traceback outside JSON logging)"] += 1
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record.get("level") in ("WARNING", "ERROR", "CRITICAL"):
                counts[f"{record['level']}: {str(record.get('message', ''))[:80]}"] += 1
        if counts:
            service = found.setdefault(path.stem, {})
            for message, n in counts.most_common(5):
                service[message] = service.get(message, 0) + n
    return found
