"""Retention: tables that only need their rows for a while are purged on a schedule.

Outbox rows an earlier version marked published (the relay now deletes rows as it publishes
them: a queue, not an archive), inbox ids older than any redelivery can be
(longer than the topics' retention), idempotency keys past the retry window: each is a
`Retention` rule, deleted in small chunks so a purge never holds long locks, by an index on
the rule's column (see the migrations).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from backbone import metrics
from backbone.loops import SupervisedLoop

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    table: str
    column: str
    keep: timedelta


async def purge(conn: asyncpg.Connection | asyncpg.Pool, rule: Retention, chunk: int = 5000) -> int:
    """Delete one chunk of `rule.table` rows older than `rule.keep`; returns how many."""
    status = await conn.execute(
        f"DELETE FROM {rule.table} WHERE ctid = ANY(ARRAY("
        f"SELECT ctid FROM {rule.table} WHERE {rule.column} < now() - $1::interval LIMIT $2))",
        rule.keep, chunk)
    return int(status.split()[-1])


class Housekeeper(SupervisedLoop):
    def __init__(self, pool: asyncpg.Pool, service: str, rules: list[Retention],
                 interval: float = 600.0, chunk: int = 5000) -> None:
        super().__init__("housekeeping", service)
        self.wedged_after = 300.0
        self._pool = pool
        self._rules = rules
        self._interval = interval
        self._chunk = chunk

    async def run(self) -> None:
        while not self.stopping:
            try:
                for rule in self._rules:
                    deleted = await self.purge_all(rule)
                    if deleted:
                        log.info("retention purge", extra={"table": rule.table, "rows": deleted})
                self.report(True)
            except Exception as exc:  # the database is away: the next round catches up
                self.report(True, f"last purge failed: {type(exc).__name__}")
            await self.pause(self._interval)

    async def purge_all(self, rule: Retention) -> int:
        total = 0
        while not self.stopping:
            self.beat()
            deleted = await purge(self._pool, rule, self._chunk)
            total += deleted
            metrics.PURGED.labels(self.service, rule.table).inc(deleted)
            if deleted < self._chunk:
                break
        return total
