"""intake's unit of work: complaints, inbox and outbox in one transaction."""

from __future__ import annotations

import asyncpg

from backbone.uow import InMemoryUnitOfWork, PgUnitOfWork
from backbone.pii import PiiCipher
from intake.adapters.repository import ComplaintRepository, InMemoryComplaintRepository, PgComplaintRepository


class IntakePgUnitOfWork(PgUnitOfWork):
    complaints: ComplaintRepository

    def __init__(self, pool: asyncpg.Pool, cipher: PiiCipher, topic_prefix: str) -> None:
        super().__init__(pool, source="/intake", topic_prefix=topic_prefix)
        self._cipher = cipher

    def _attach(self, conn: asyncpg.Connection) -> None:
        self.complaints = PgComplaintRepository(conn, self._cipher)


class IntakeInMemoryUnitOfWork(InMemoryUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.complaints = InMemoryComplaintRepository()
