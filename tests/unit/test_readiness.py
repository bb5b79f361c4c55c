"""/readyz answers within its bound, naming what is wrong, even when a dependency hangs: the
database and Kafka are asked at once, and a check that has not answered in time is left behind
rather than waited for (asyncpg tidies up an unanswered query for its whole command timeout)."""

import asyncio

import pytest

from backbone import runtime as runtime_module
from backbone.runtime import Runtime
from backbone.settings import ServiceSettings


class AnswersOnceKafkaWasAsked:
    """SELECT 1 answers only after Kafka was pinged: in time only when both are asked at once."""

    def __init__(self, pinged: asyncio.Event) -> None:
        self._pinged = pinged

    async def fetchval(self, sql: str) -> int:
        await self._pinged.wait()
        return 1


class StoppedPostgres:
    """No answer, and a cancelled query is tidied up until `tidied` is set (asyncpg's reset of
    the connection, bounded only by its command timeout)."""

    def __init__(self) -> None:
        self.tidied = asyncio.Event()

    async def fetchval(self, sql: str) -> int:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await self.tidied.wait()
            raise
        return 1


class Publisher:
    def __init__(self, pinged: asyncio.Event, answers: bool) -> None:
        self._pinged, self._answers = pinged, answers

    async def ping(self, timeout: float) -> bool:
        self._pinged.set()
        if not self._answers:
            await asyncio.sleep(timeout)
        return self._answers


def _runtime(pool, publisher) -> Runtime:
    settings = ServiceSettings(service_name="probe", database_url="postgresql://unused/db")
    runtime = Runtime(settings, migrations="backbone", consumes=[], produces=[],
                      uow_factory=lambda pool, s: None)
    runtime.pool, runtime.publisher, runtime.started = pool, publisher, True
    return runtime


@pytest.fixture(autouse=True)
def short_checks(monkeypatch):
    monkeypatch.setattr(runtime_module, "READY_CHECK_SECONDS", 0.3)


async def test_the_database_and_kafka_are_asked_together():
    pinged = asyncio.Event()
    checks = await _runtime(AnswersOnceKafkaWasAsked(pinged), Publisher(pinged, True)).check_ready()
    assert checks == {"started": "ok", "database": "ok", "kafka": "ok"}


async def test_a_stopped_database_and_a_silent_broker_are_named_without_waiting_for_the_tidy_up():
    postgres = StoppedPostgres()
    probe = asyncio.ensure_future(_runtime(postgres, Publisher(asyncio.Event(), False)).check_ready())
    done, _ = await asyncio.wait({probe}, timeout=10)
    postgres.tidied.set()
    assert done, "/readyz waited for the cancelled query's tidy-up"
    checks = probe.result()
    assert checks["database"] == "unavailable: TimeoutError"
    assert checks["kafka"] == "unavailable"


async def test_before_start_the_database_is_not_connected():
    runtime = _runtime(None, Publisher(asyncio.Event(), True))
    runtime.started = False
    checks = await runtime.check_ready()
    assert checks == {"started": "starting or stopping", "database": "unavailable: not connected",
                      "kafka": "ok"}
