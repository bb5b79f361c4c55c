"""The `attachments` table: which stored blobs belong to which complaint, on PostgreSQL and in
memory. The bytes are the blob store's (`adapters/blobs.py`); a row is written in the same
transaction as whatever it accompanies (the complaint itself, for a submission)."""

from __future__ import annotations

import uuid
from typing import Protocol

import asyncpg

from backbone.uow import StagedMap
from intake.domain.attachments import Attachment

_COLUMNS = ("id, complaint_id, sha256, content_type, size, filename, note, uploaded_by_role,"
            " uploaded_by, history_action, uploaded_at")


class AttachmentRepository(Protocol):
    async def add(self, attachment: Attachment) -> None: ...
    async def list_for(self, complaint_id: uuid.UUID) -> list[Attachment]:
        """Oldest first."""
    async def get(self, complaint_id: uuid.UUID, attachment_id: uuid.UUID) -> Attachment | None: ...
    async def count_for(self, complaint_id: uuid.UUID) -> int: ...


def _row(row: asyncpg.Record) -> Attachment:
    return Attachment(**dict(row))


class PgAttachmentRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def add(self, a: Attachment) -> None:
        await self._conn.execute(
            f"INSERT INTO attachments ({_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
            a.id, a.complaint_id, a.sha256, a.content_type, a.size, a.filename, a.note,
            a.uploaded_by_role, a.uploaded_by, a.history_action, a.uploaded_at)

    async def list_for(self, complaint_id: uuid.UUID) -> list[Attachment]:
        rows = await self._conn.fetch(
            f"SELECT {_COLUMNS} FROM attachments WHERE complaint_id=$1 ORDER BY uploaded_at, id",
            complaint_id)
        return [_row(r) for r in rows]

    async def get(self, complaint_id: uuid.UUID, attachment_id: uuid.UUID) -> Attachment | None:
        row = await self._conn.fetchrow(
            f"SELECT {_COLUMNS} FROM attachments WHERE complaint_id=$1 AND id=$2",
            complaint_id, attachment_id)
        return _row(row) if row else None

    async def count_for(self, complaint_id: uuid.UUID) -> int:
        return await self._conn.fetchval(
            "SELECT count(*) FROM attachments WHERE complaint_id=$1", complaint_id)


class InMemoryAttachmentRepository(StagedMap[uuid.UUID, Attachment]):
    """Twin of PgAttachmentRepository; rows become visible to others only on commit."""

    async def add(self, attachment: Attachment) -> None:
        if attachment.id in self:
            raise ValueError("duplicate attachment")
        self.put(attachment.id, attachment)

    async def list_for(self, complaint_id: uuid.UUID) -> list[Attachment]:
        found = [a for a in self.values() if a.complaint_id == complaint_id]
        return sorted(found, key=lambda a: (a.uploaded_at, str(a.id)))

    async def get(self, complaint_id: uuid.UUID, attachment_id: uuid.UUID) -> Attachment | None:
        found = self.find(attachment_id)
        return found if found is not None and found.complaint_id == complaint_id else None

    async def count_for(self, complaint_id: uuid.UUID) -> int:
        return len(await self.list_for(complaint_id))
