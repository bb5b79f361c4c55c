"""What this machine's PostgreSQL and Kafka can do on their own, measured in the same run.

Why: "300 complaints/s" means little without knowing the machine. Every complaint costs the
platform several database transactions and several Kafka records, so the ceilings below are
upper bounds no amount of Python tuning can pass, and the ratios show how far off they are.

  pgbench   the bundled PostgreSQL's pgbench, on a transaction shaped like intake's accept:
            BEGIN; one complaint-sized row; one outbox-sized row; COMMIT (fsync on, as the
            platform runs), a few clients, in a scratch database of the bench stack's server.
  kafka     the pinned jars' ProducerPerformance against the bench stack's broker with the
            platform's producer guarantees (acks=all, idempotence), 600-byte records, unthrottled.

Both run after the platform phases, on the same server and broker, with the services idle.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import uuid
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from devstack.kafka import LOG4J_CONFIG, java_executable
from devstack.postgres import _bin, _env, create_database

SCRATCH_DB = "bench_limits"

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS bench_complaints (
    id uuid PRIMARY KEY, tracking_number text NOT NULL UNIQUE, jurisdiction text NOT NULL,
    channel text NOT NULL, title text NOT NULL, description text NOT NULL,
    anonymous boolean NOT NULL, confidential boolean NOT NULL, language text NOT NULL,
    reporter_sealed bytea, access_token_hash text NOT NULL, status text NOT NULL,
    submitted_at timestamptz NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
CREATE SEQUENCE IF NOT EXISTS bench_tracking_seq START 1000001;
CREATE TABLE IF NOT EXISTS bench_outbox (
    id bigserial PRIMARY KEY, event_id text NOT NULL UNIQUE, topic text NOT NULL, key bytea,
    value bytea NOT NULL, headers jsonb NOT NULL, traceparent text,
    created_at timestamptz NOT NULL DEFAULT now(), published_at timestamptz);
CREATE INDEX IF NOT EXISTS bench_outbox_unpublished ON bench_outbox (id) WHERE published_at IS NULL;
"""

# Sizes follow the real rows: a Fernet-sealed identity (~180 bytes), a sha256 hex token hash,
# a ~600-byte CloudEvent value with its ce_* headers and a W3C traceparent.
TRANSACTION_SQL = """\
BEGIN;
INSERT INTO bench_complaints (id, tracking_number, jurisdiction, channel, title, description,
    anonymous, confidential, language, reporter_sealed, access_token_hash, status, submitted_at)
  VALUES (gen_random_uuid(), nextval('bench_tracking_seq')::text, 'kota-contoh', 'web',
    'Jalan berlubang di Jl. Merdeka',
    'Mohon diperbaiki, jalan berlubang besar di depan SDN 3 sudah dua minggu.',
    false, false, 'id', decode(repeat(md5(random()::text), 11), 'hex'),
    md5(random()::text) || md5(random()::text), 'submitted', now());
INSERT INTO bench_outbox (event_id, topic, key, value, headers, traceparent)
  VALUES (gen_random_uuid()::text, 'complaints.intake.events', convert_to(gen_random_uuid()::text, 'UTF8'),
    convert_to(repeat('x', 600), 'UTF8'),
    '{"ce_specversion": "1.0", "ce_type": "ComplaintSubmitted.v1", "ce_source": "intake", "ce_id": "x", "content-type": "application/json"}',
    '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
COMMIT;
"""


def pgbench(server_dsn: str, workdir: Path, seconds: int, clients: int = 8, threads: int = 2) -> dict:
    """TPS of TRANSACTION_SQL; prepared statements, as asyncpg uses them."""
    dsn = create_database(server_dsn, SCRATCH_DB)
    setup = subprocess.run([_bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn],
                           input=SCHEMA_SQL, text=True, env=_env(), capture_output=True, timeout=60)
    if setup.returncode != 0:
        raise RuntimeError(f"pgbench schema: {setup.stderr.strip()}")
    script = workdir / "pgbench-accept.sql"
    script.write_text(TRANSACTION_SQL)
    result = subprocess.run(
        [_bin("pgbench"), "-n", "-M", "prepared", "-f", str(script), "-c", str(clients),
         "-j", str(threads), "-T", str(seconds), dsn],
        env=_env(), capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        raise RuntimeError(f"pgbench failed ({result.returncode}): {result.stderr.strip()[-500:]}")
    tps = re.search(r"^tps = ([\d.]+)", result.stdout, re.MULTILINE)
    latency = re.search(r"^latency average = ([\d.]+) ms", result.stdout, re.MULTILINE)
    if not tps:
        raise RuntimeError(f"no tps in pgbench output:\n{result.stdout}")
    return {"tps": round(float(tps.group(1)), 1),
            "latency_avg_ms": float(latency.group(1)) if latency else None,
            "clients": clients, "threads": threads, "seconds": seconds,
            "transaction": "BEGIN; INSERT complaint row; INSERT outbox row; COMMIT"}


SUMMARY = re.compile(
    r"(?P<records>\d+) records sent, (?P<rps>[\d.]+) records/sec \((?P<mbps>[\d.]+) MB/sec\), "
    r"(?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency, (?P<p50>\d+) ms 50th, "
    r"(?P<p95>\d+) ms 95th, (?P<p99>\d+) ms 99th")


def kafka_producer(libs_dir: Path, bootstrap: str, workdir: Path, records: int,
                   record_size: int = 600, partitions: int = 6) -> dict:
    """records/s of ProducerPerformance into a fresh topic with as many partitions as the
    platform's topics have."""
    topic = f"limits.producer-perf-{uuid.uuid4().hex[:6]}"  # outside the stack's topic prefix
    asyncio.run(_create_topic(bootstrap, topic, partitions))
    logs = workdir / "producer-perf-logs"
    logs.mkdir(parents=True, exist_ok=True)
    cmd = [java_executable(), "-Xms128m", "-Xmx512m", f"-Dkafka.logs.dir={logs}",
           f"-Dlog4j2.configurationFile={LOG4J_CONFIG}", "-cp", str(libs_dir / "*"),
           "org.apache.kafka.tools.ProducerPerformance", "--topic", topic,
           "--num-records", str(records), "--record-size", str(record_size), "--throughput", "-1",
           "--producer-props", f"bootstrap.servers={bootstrap}", "acks=all", "enable.idempotence=true"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    summaries = [m for m in map(SUMMARY.search, result.stdout.splitlines()) if m]
    if result.returncode != 0 or not summaries:
        raise RuntimeError(f"ProducerPerformance failed ({result.returncode}):\n"
                           f"{result.stdout[-1000:]}{result.stderr[-1000:]}")
    s = summaries[-1]
    return {"records_per_s": round(float(s["rps"]), 1), "mb_per_s": float(s["mbps"]),
            "latency_ms": {"avg": float(s["avg"]), "p50": int(s["p50"]), "p95": int(s["p95"]),
                           "p99": int(s["p99"]), "max": float(s["max"])},
            "records": int(s["records"]), "record_size": record_size, "partitions": partitions,
            "producer": "acks=all enable.idempotence=true"}


async def _create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    finally:
        await admin.close()
