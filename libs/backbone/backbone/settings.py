"""Settings every service shares; each service subclasses this once (its `config` module).

Read from the environment only, never at import time: `load_settings` turns a missing or bad
value into one clear message and exit code 2, instead of a traceback at first use.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from backbone.gc_tuning import DEFAULT_THRESHOLDS, parse_thresholds


class TelemetrySettings(BaseSettings):
    """What `run_service` needs to set up logs and traces, for the services and the console."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    service_name: str
    http_host: str = "127.0.0.1"
    log_level: str = "INFO"
    traces_file: Path | None = None
    traces_file_max_mb: int = Field(default=256, ge=1, description=(
        "Size at which TRACES_FILE becomes <name>.1 and a new one starts"))
    otel_exporter_otlp_endpoint: str | None = None
    log_file: Path | None = Field(default=None, description=(
        "Write the JSON logs to this file instead of stderr (the local platform; containers "
        "log to stderr and their runtime rotates)"))
    log_file_max_mb: int = Field(default=64, ge=1, description=(
        "Size at which LOG_FILE becomes <name>.1 and a new one starts"))


class ServiceSettings(TelemetrySettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str = Field(description="PostgreSQL DSN; the service uses its own schema in it")
    db_schema: str = ""
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = ""
    topic_replication_factor: int = 1
    http_port: int = 8000
    consumer_max_attempts: int = Field(default=5, ge=1)
    consumer_backoff_initial: float = Field(default=0.2, gt=0)
    consumer_backoff_max: float = Field(default=5.0, gt=0)
    consumer_max_records: int = Field(default=500, ge=1, description="Records per batch")
    consumer_linger_ms: float = Field(
        default=15, ge=0, description="How long a consumer waits, once a record came, for the "
        "records that follow it, so they are applied as one batch; 0: at once")
    consumer_commit_interval: float = Field(default=1.0, ge=0, description="Seconds between offset commits")
    consumer_rebuild_after: float = Field(default=30.0, gt=0,
                                          description="Rebuild a consumer that made no progress this long")
    max_body_bytes: int = Field(default=64 * 1024, ge=1, description="Largest request body accepted")
    body_timeout: float = Field(default=10.0, gt=0, description="Seconds to receive a whole request body")
    rate_limit_per_client: str = Field(
        default="600/minute", description="Requests per client address, e.g. '20/second;600/minute'; empty: none")
    rate_limit_per_token: str = Field(
        default="300/minute", description="Requests per bearer token; empty: none")
    rate_limit_storage: str = Field(default="memory://",
                                    description="Where counts live: memory:// (per replica) or redis://host")
    trusted_proxies: str = Field(default="", description="Comma-separated proxy addresses whose "
                                                         "X-Forwarded-For names the client")
    relay_batch_size: int = Field(default=500, ge=1)
    relay_poll_interval: float = Field(
        default=0.25, gt=0, description="How soon rows committed by another replica are published")
    relay_linger_ms: float = Field(default=5, ge=0,
                                   description="Wait after a wake-up so commits close together share a batch")
    db_pool_max_size: int = Field(default=10, ge=1)
    db_connect_timeout: float = Field(default=5.0, gt=0)
    db_command_timeout: float = Field(default=15.0, gt=0)
    db_statement_timeout_ms: int = Field(default=10_000, ge=0)
    db_lock_timeout_ms: int = Field(default=5_000, ge=0)
    outbox_retention_hours: float = Field(
        default=24, gt=0, description="Purge outbox rows an earlier version marked published "
                                      "(the relay now deletes what it publishes) after this long")
    inbox_retention_days: float = Field(default=14, gt=0,
                                        description="Keep applied event ids; longer than topic retention")
    purge_interval: float = Field(default=600, gt=0, description="Seconds between retention purges")
    loop_wedged_after: float = Field(default=60, gt=0, description="A loop silent this long is restarted")
    startup_timeout: float = Field(default=120, gt=0,
                                   description="How long start-up waits for the database and Kafka")
    gc_thresholds: str = Field(
        default=DEFAULT_THRESHOLDS, description="The garbage collector's young,middle,old "
        "thresholds once started (backbone.gc_tuning); empty: the interpreter's own")

    @field_validator("gc_thresholds")
    @classmethod
    def _gc_thresholds_parse(cls, value: str) -> str:
        parse_thresholds(value)
        return value

    @property
    def schema_name(self) -> str:
        return self.db_schema or self.service_name


S = TypeVar("S", bound=ServiceSettings)


def load_settings(cls: type[S]) -> S:
    """Build the settings or stop start-up with a message that names what is missing."""
    try:
        return cls()
    except ValidationError as exc:
        lines = [f"{cls.__name__}: cannot start, the environment is incomplete or wrong:"]
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper()
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"  - {name}: {message}" if name else f"  - {message}")
        print("\n".join(lines), file=sys.stderr)
        raise SystemExit(2) from None
