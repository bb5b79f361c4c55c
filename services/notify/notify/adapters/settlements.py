"""Settling a delivery after a send: its new state, the attempt, and the events that tell of it
(`NotificationSent`, a failure and its dead letter, a hand-off), all or nothing, and only if
the delivery is still pending (a second dispatcher that settles it again changes nothing).

`PgSettlements` does it in one statement outside any explicit transaction: PostgreSQL runs a
single statement atomically, so the four round trips of a unit of work (BEGIN, the delivery,
the outbox rows, COMMIT) become one, for every message sent. `UnitOfWorkSettlements` does the
same in a unit of work of the caller's: the in-memory twin, against which the shared test
checks the statement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import asyncpg

from backbone.outbox import insert_rows, row_arrays, stage
from contracts.events import Event
from notify.adapters.deliveries import SETTLE, SETTLED, settle_args
from notify.adapters.uow import NotifyUnitOfWork
from notify.domain.delivery import Delivery
from notify.domain.outcomes import Attempt


class Settlements(Protocol):
    async def settle(self, delivery: Delivery, attempt: Attempt | None,
                     tell: Sequence[Event] = ()) -> bool:
        """Write the delivery's new state and its attempt, and record `tell` for the outbox,
        together, if the delivery is still pending; False (and nothing written) if it is not."""


class UnitOfWorkSettlements:
    def __init__(self, uow_factory: Callable[[], NotifyUnitOfWork]) -> None:
        self._uow = uow_factory

    async def settle(self, delivery: Delivery, attempt: Attempt | None,
                     tell: Sequence[Event] = ()) -> bool:
        async with self._uow() as uow:
            if not await uow.deliveries.settle(delivery, attempt):
                return False
            for event in tell:
                await uow.outbox.record(event)
        return True


# The outbox rows go in only if the delivery was settled by this statement.
_SETTLE_AND_TELL = (SETTLE + ", told AS (" + insert_rows(17)
                    + " WHERE EXISTS (SELECT 1 FROM settled))" + SETTLED)


class PgSettlements:
    """`pool` and `wake_relay` are looked up at each call: the pool and the relay exist only
    once the service has started."""

    def __init__(self, pool: Callable[[], asyncpg.Pool], source: str, topic_prefix: str,
                 wake_relay: Callable[[], None]) -> None:
        self._pool, self._source, self._prefix = pool, source, topic_prefix
        self._wake_relay = wake_relay

    async def settle(self, delivery: Delivery, attempt: Attempt | None,
                     tell: Sequence[Event] = ()) -> bool:
        if not tell:
            settled = await self._pool().fetchval(SETTLE + SETTLED, *settle_args(delivery, attempt))
            return bool(settled)
        rows = [stage(event, self._source, self._prefix)[0] for event in tell]
        settled = await self._pool().fetchval(_SETTLE_AND_TELL, *settle_args(delivery, attempt),
                                              *row_arrays(rows))
        if settled:
            self._wake_relay()
        return bool(settled)
