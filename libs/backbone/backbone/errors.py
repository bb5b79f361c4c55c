"""Errors classified by cause, once, for every loop and route.

Transient: the platform itself is unwell (database or broker unreachable, failover, overload,
a lock or statement timeout, a serialization failure). Waiting and trying again will succeed, so
such an error is retried or the record handed back to Kafka; it is never dead-lettered and never
shown to a citizen as a 500. Everything else is the message's own fault or a bug: poison.

SQLSTATE classes (PostgreSQL appendix A): 08 connection exception, 40 transaction rollback
(serialization failure, deadlock), 53 insufficient resources (too many connections, disk full),
57 operator intervention (admin shutdown, cannot connect now, query canceled by a statement
timeout), plus 55P03 lock_not_available (lock_timeout) and 25006 read_only_sql_transaction (a
replica promoted or a primary demoted after failover).
"""

from __future__ import annotations

import asyncio

import asyncpg
from aiokafka import errors as kafka_errors

TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57"})
TRANSIENT_SQLSTATES = frozenset({"55P03", "25006"})


class PermanentError(Exception):
    """A handler's way to say: retrying this event cannot succeed."""


def sqlstate(exc: BaseException) -> str | None:
    return getattr(exc, "sqlstate", None) if isinstance(exc, asyncpg.PostgresError) else None


def is_transient(exc: BaseException) -> bool:
    """True when the cause is the platform's health, not the input: retry, never dead-letter."""
    if isinstance(exc, PermanentError):
        return False
    if isinstance(exc, (asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
                        ConnectionError, OSError, asyncio.TimeoutError, TimeoutError)):
        return True
    code = sqlstate(exc)
    if code is not None:
        return code[:2] in TRANSIENT_SQLSTATE_CLASSES or code in TRANSIENT_SQLSTATES
    if isinstance(exc, kafka_errors.KafkaError):
        return bool(getattr(exc, "retriable", False)) or isinstance(exc, (
            kafka_errors.KafkaConnectionError, kafka_errors.KafkaTimeoutError,
            kafka_errors.NodeNotReadyError, kafka_errors.RequestTimedOutError,
            kafka_errors.ProducerClosed, kafka_errors.NotLeaderForPartitionError,
        ))
    cause = exc.__cause__  # explicit chaining only: `raise X from db_error`
    return cause is not None and cause is not exc and is_transient(cause)
