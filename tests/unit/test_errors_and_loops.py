"""Errors are classified by cause, and the watchdog mends a loop that died or wedged."""

import asyncio

import asyncpg
import pytest
from aiokafka import errors as kafka_errors
from pydantic import BaseModel, ValidationError

from backbone.errors import PermanentError, is_transient
from backbone.loops import SupervisedLoop, Watchdog
from contracts.envelope import EnvelopeError


@pytest.mark.parametrize("exc", [
    asyncpg.exceptions.SerializationError("could not serialize"),          # 40001
    asyncpg.exceptions.DeadlockDetectedError("deadlock"),                  # 40P01
    asyncpg.exceptions.TooManyConnectionsError("too many"),                # 53300
    asyncpg.exceptions.AdminShutdownError("terminating"),                  # 57P01
    asyncpg.exceptions.CannotConnectNowError("starting up"),               # 57P03
    asyncpg.exceptions.QueryCanceledError("statement timeout"),            # 57014
    asyncpg.exceptions.LockNotAvailableError("lock timeout"),              # 55P03
    asyncpg.exceptions.ReadOnlySQLTransactionError("read-only"),           # 25006
    asyncpg.exceptions.ConnectionDoesNotExistError("closed"),
    asyncpg.exceptions.InterfaceError("released back to the pool"),
    ConnectionRefusedError(), asyncio.TimeoutError(), TimeoutError(),
    kafka_errors.KafkaConnectionError(), kafka_errors.KafkaTimeoutError(),
    kafka_errors.NotLeaderForPartitionError(),
])
def test_the_platforms_own_illness_is_transient(exc):
    assert is_transient(exc)


def _validation_error() -> ValidationError:
    class M(BaseModel):
        n: int

    try:
        M(n="x")
    except ValidationError as exc:
        return exc
    raise AssertionError


@pytest.mark.parametrize("exc", [
    asyncpg.exceptions.UniqueViolationError("duplicate"),                  # 23505
    asyncpg.exceptions.CharacterNotInRepertoireError("NUL"),               # 22021
    asyncpg.exceptions.UndefinedTableError("no table"),                    # 42P01
    EnvelopeError("malformed"), PermanentError("no such complaint"), _validation_error(),
    ValueError("bug"), kafka_errors.MessageSizeTooLargeError(),
])
def test_the_messages_own_fault_is_not(exc):
    assert not is_transient(exc)


def test_an_explicitly_chained_cause_counts():
    try:
        try:
            raise ConnectionResetError()
        except ConnectionResetError as cause:
            raise RuntimeError("while saving") from cause
    except RuntimeError as exc:
        assert is_transient(exc)


class Stuck(SupervisedLoop):
    """Beats for a few turns, then waits forever on something that never answers."""

    def __init__(self) -> None:
        super().__init__("stuck", "test")
        self.wedged_after = 0.3
        self.runs = 0

    async def run(self) -> None:
        self.runs += 1
        for _ in range(3):
            self.beat()
            await asyncio.sleep(0.01)
        await asyncio.Event().wait()


class Crashing(SupervisedLoop):
    def __init__(self) -> None:
        super().__init__("crashing", "test")
        self.runs = 0

    async def run(self) -> None:
        self.runs += 1
        if self.runs == 1:
            raise RuntimeError("bug on the first turn")
        while not self.stopping:
            self.report(True)
            await self.pause(0.05)


async def wait_for(check, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_watchdog_restarts_a_wedged_loop_and_a_dead_one():
    stuck, crashing = Stuck(), Crashing()
    for loop in (stuck, crashing):
        loop.start()
    watchdog = Watchdog([stuck, crashing], interval=0.05)
    watchdog.start()
    try:
        await wait_for(lambda: stuck.runs >= 2 and crashing.runs >= 2 and crashing.healthy)
    finally:
        await watchdog.stop()
        for loop in (stuck, crashing):
            await loop.stop(timeout=0.5)
    assert stuck.heartbeat_age < 5
