"""What one complaint costs the infrastructure: PostgreSQL write transactions and Kafka records.

Why: pgbench's TPS and Kafka's records/s only become a ceiling for complaints/s once divided by
how many of each a complaint needs. Both are counted exactly, as differences over a phase:
  - write transactions: the server's next transaction id (pg_current_snapshot's xmax), which
    only write transactions advance; the bench stack's server serves nothing else;
  - Kafka records: the sum of end offsets of the stack's topics (its topic prefix), which with
    idempotent, non-transactional producers is the number of records written.
"""

from __future__ import annotations

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


class Footprint:
    def __init__(self, dsn: str, bootstrap: str, topic_prefix: str) -> None:
        self._dsn, self._bootstrap, self._prefix = dsn, bootstrap, topic_prefix

    async def snapshot(self) -> tuple[int, int]:
        return await self._next_xid(), await self._records()

    async def per_complaint(self, before: tuple[int, int], complaints: int) -> dict:
        xid, records = await self.snapshot()
        if not complaints:
            return {}
        return {"write_transactions": round((xid - before[0]) / complaints, 2),
                "kafka_records": round((records - before[1]) / complaints, 2)}

    async def _next_xid(self) -> int:
        conn = await asyncpg.connect(self._dsn)
        try:
            return int(await conn.fetchval("SELECT pg_snapshot_xmax(pg_current_snapshot())::text"))
        finally:
            await conn.close()

    async def _records(self) -> int:
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
        await admin.start()
        try:
            described = await admin.describe_topics()  # every topic, with its partitions
        finally:
            await admin.close()
        partitions = [TopicPartition(t["topic"], p["partition"]) for t in described
                      if t["topic"].startswith(self._prefix) for p in t["partitions"]]
        if not partitions:
            return 0
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            return sum((await consumer.end_offsets(partitions)).values())
        finally:
            await consumer.stop()
