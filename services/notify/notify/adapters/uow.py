"""notify's unit of work: the backbone's parts (outbox, inbox) plus deliveries, contacts, the
directory and merge links, on one PostgreSQL transaction or in memory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import asyncpg

from backbone.uow import InMemoryUnitOfWork, PgUnitOfWork, Transactional, UnitOfWork
from backbone.writes import Write
from notify.adapters.contacts import ContactBook, InMemoryContactBook, PgContactBook
from notify.adapters.deliveries import DeliveryStore, InMemoryDeliveryStore, PgDeliveryStore
from notify.adapters.directory import Directory, DirectorySnapshot, InMemoryDirectory, PgDirectory
from notify.adapters.merges import InMemoryMergeLinks, MergeLinks, PgMergeLinks


class NotifyUnitOfWork(UnitOfWork, Protocol):
    """What notify's handlers see: the backbone's parts plus deliveries, contacts, the
    directory of staff addresses and webhooks, and the merge links that decide who else
    hears of a complaint."""

    deliveries: DeliveryStore
    contacts: ContactBook
    directory: Directory
    merges: MergeLinks


class NotifyPgUnitOfWork(PgUnitOfWork):
    def __init__(self, pool: asyncpg.Pool, source: str, topic_prefix: str, schema: str,
                 wake_dispatcher: Callable[[], None] = lambda: None,
                 directory: DirectorySnapshot | None = None) -> None:
        super().__init__(pool, source, topic_prefix, schema)
        self._wake_dispatcher = wake_dispatcher
        self._directory = directory

    def _attach(self, conn: asyncpg.Connection) -> None:
        became_due = lambda: self.after_commit(self._wake_dispatcher)  # noqa: E731
        self.contacts = PgContactBook(conn, became_due)
        self.deliveries = PgDeliveryStore(conn, became_due, self.contacts.flush)
        self.directory = PgDirectory(conn, self._directory)
        self.merges = PgMergeLinks(conn)

    def _held_writes(self) -> list[Write]:
        return [*self.contacts.writes(), *self.deliveries.writes()]


class NotifyInMemoryUnitOfWork(InMemoryUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.contacts = InMemoryContactBook()
        self.directory = InMemoryDirectory()
        self.deliveries = InMemoryDeliveryStore(self.contacts, self.directory)
        self.merges = InMemoryMergeLinks()

    def parts(self) -> tuple[Transactional, ...]:
        return (*super().parts(), self.deliveries, self.contacts, self.directory, self.merges)
