"""intake's unit of work: complaints, inbox and outbox in one transaction."""

from __future__ import annotations

from typing import Protocol

import asyncpg

from backbone.outbox import insert_rows, row_arrays
from backbone.pii import PiiCipher
from backbone.uow import InMemoryUnitOfWork, PgUnitOfWork, Transactional, UnitOfWork
from intake.adapters.attachments import (
    AttachmentRepository, InMemoryAttachmentRepository, PgAttachmentRepository,
)
from intake.adapters.channel_messages import (
    ChannelMessageStore, InMemoryChannelMessageStore, PgChannelMessageStore,
)
from intake.adapters.open311 import InMemoryOpen311Store, Open311Store, PgOpen311Store
from intake.adapters.repository import (
    ADD_CTE, ADD_PARAMETERS, ComplaintRepository, InMemoryComplaintRepository,
    PgComplaintRepository, TrackingNumbers, insert_history,
)


class IntakeUnitOfWork(UnitOfWork, Protocol):
    """What intake's handlers see: the backbone's parts plus the complaint repository."""

    complaints: ComplaintRepository
    attachments: AttachmentRepository
    channel_messages: ChannelMessageStore
    open311: Open311Store


# A new complaint, its first timeline entries and the outbox rows of what it tells: one statement.
_SUBMISSION = (f"WITH {ADD_CTE}, history AS ({insert_history(20)})"
               f" {insert_rows(ADD_PARAMETERS + 1)}")


class IntakePgUnitOfWork(PgUnitOfWork):
    complaints: PgComplaintRepository

    def __init__(self, pool: asyncpg.Pool, cipher: PiiCipher, topic_prefix: str, schema: str,
                 numbers: TrackingNumbers | None = None) -> None:
        super().__init__(pool, source="/intake", topic_prefix=topic_prefix, schema=schema)
        self._cipher = cipher
        self._numbers = numbers

    def _attach(self, conn: asyncpg.Connection) -> None:
        self.complaints = PgComplaintRepository(conn, self._cipher, self._numbers)
        self.attachments = PgAttachmentRepository(conn)
        self.channel_messages = PgChannelMessageStore(conn)
        self.open311 = PgOpen311Store(conn)

    async def _write_held(self) -> None:
        await self.complaints.write_added()     # a new complaint before rows that refer to it

    async def _before_commit(self) -> None:
        # Anything else held back until the commit must stop `_commit_at_once` too, which
        # skips this when it writes the submission itself.
        await self.complaints.flush()

    async def _commit_at_once(self) -> int | None:
        """A plain submission sends nothing before its commit (its tracking number comes from
        a block taken outside the transaction): the complaint, its first timeline entries and
        its outbox rows then go in one statement, with no BEGIN and no COMMIT round trip."""
        added = self.complaints.take_sole_added()
        if added is None:
            return None
        rows = self.outbox.take()
        await self.conn.execute(_SUBMISSION, *added, *row_arrays(rows))
        return len(rows)


class IntakeInMemoryUnitOfWork(InMemoryUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.complaints = InMemoryComplaintRepository()
        self.attachments = InMemoryAttachmentRepository()
        self.channel_messages = InMemoryChannelMessageStore()
        self.open311 = InMemoryOpen311Store(self.complaints)

    def parts(self) -> tuple[Transactional, ...]:
        return (*super().parts(), self.complaints, self.attachments, self.channel_messages,
                self.open311)
