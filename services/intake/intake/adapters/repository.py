"""Where complaints are kept: the `ComplaintRepository` interface, on PostgreSQL and in memory.

`get` locks the row for the rest of the transaction, so two events about one complaint never
interleave their read-modify-write.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import asdict
from typing import Protocol

import asyncpg

from contracts.events import Location
from contracts.lifecycle import Status
from backbone.db import LockSpace
from backbone.pii import PiiCipher
from backbone.uow import StagedMap
from intake.domain.complaint import Complaint, HistoryEntry, Reporter


class ComplaintRepository(Protocol):
    async def next_tracking_number(self) -> str: ...
    async def add(self, complaint: Complaint) -> None: ...
    async def get(self, complaint_id: uuid.UUID) -> Complaint | None: ...
    async def get_by_tracking_number(self, tracking_number: str) -> Complaint | None: ...
    async def save(self, complaint: Complaint) -> None: ...
    async def lock_idempotency_key(self, key_hash: str) -> None: ...
    async def find_idempotent(self, key_hash: str) -> tuple[str, uuid.UUID] | None: ...
    async def remember_idempotent(self, key_hash: str, request_hash: str,
                                  complaint_id: uuid.UUID) -> None: ...


_COLUMNS = (
    "id, tracking_number, jurisdiction, channel, title, description, category, location,"
    " anonymous, confidential, language, reporter_sealed, access_token_hash, status,"
    " assigned_opd_id, assigned_opd_name, first_response_due_at, submitted_at"
)


def _insert_history(first: int) -> str:
    """History rows for complaint $1, from the five parallel arrays from parameter `first` on."""
    at, status, action, actor, note = (f"${n}" for n in range(first, first + 5))
    return ("INSERT INTO complaint_history (complaint_id, at, status, action, actor, note)"
            f" SELECT $1, * FROM unnest({at}::timestamptz[], {status}::text[], {action}::text[],"
            f" {actor}::text[], {note}::text[])")


class PgComplaintRepository:
    def __init__(self, conn: asyncpg.Connection, cipher: PiiCipher) -> None:
        self._conn = conn
        self._cipher = cipher

    async def next_tracking_number(self) -> str:
        return str(await self._conn.fetchval("SELECT nextval('tracking_number_seq')"))

    async def add(self, complaint: Complaint) -> None:
        c = complaint
        await self._conn.execute(
            f"WITH added AS (INSERT INTO complaints ({_COLUMNS}) VALUES"
            " ($1,$2,$3,$4,$5,$6,$7,$8::jsonb,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18))"
            f" {_insert_history(19)}",
            c.id, c.tracking_number, c.jurisdiction, c.channel, c.title, c.description,
            c.category, c.location.model_dump_json() if c.location else None,
            c.anonymous, c.confidential, c.language,
            self._cipher.seal(asdict(c.reporter)) if c.reporter else None,
            c.access_token_hash, c.status.value, c.assigned_opd_id, c.assigned_opd_name,
            c.first_response_due_at, c.submitted_at, *self._history_args(c),
        )
        complaint.new_history.clear()

    async def save(self, complaint: Complaint) -> None:
        """The new status and the new history entries, in one statement (one round trip)."""
        c = complaint
        await self._conn.execute(
            "WITH changed AS (UPDATE complaints SET status=$2, assigned_opd_id=$3,"
            " assigned_opd_name=$4, first_response_due_at=$5, updated_at=now() WHERE id=$1)"
            f" {_insert_history(6)}",
            c.id, c.status.value, c.assigned_opd_id, c.assigned_opd_name, c.first_response_due_at,
            *self._history_args(c),
        )
        complaint.new_history.clear()

    @staticmethod
    def _history_args(c: Complaint) -> tuple[list, ...]:
        h = c.new_history
        return ([e.at for e in h], [e.status.value for e in h], [e.action for e in h],
                [e.actor for e in h], [e.note for e in h])

    async def lock_idempotency_key(self, key_hash: str) -> None:
        """Serialise concurrent requests with one key until this transaction ends, in the
        idempotency lock space: a crafted key cannot collide with the platform's own locks."""
        await self._conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))",
                                 LockSpace.IDEMPOTENCY_KEY, key_hash)

    async def find_idempotent(self, key_hash: str) -> tuple[str, uuid.UUID] | None:
        row = await self._conn.fetchrow(
            "SELECT request_hash, complaint_id FROM idempotency_keys WHERE key=$1", key_hash)
        return (row["request_hash"], row["complaint_id"]) if row else None

    async def remember_idempotent(self, key_hash, request_hash, complaint_id) -> None:
        await self._conn.execute(
            "INSERT INTO idempotency_keys (key, request_hash, complaint_id) VALUES ($1,$2,$3)",
            key_hash, request_hash, complaint_id)

    async def get(self, complaint_id: uuid.UUID) -> Complaint | None:
        """For a change: the row locked, without the history (changes only append to it)."""
        row = await self._conn.fetchrow(
            f"SELECT {_COLUMNS} FROM complaints WHERE id=$1 FOR UPDATE", complaint_id)
        return await self._load(row, with_history=False)

    async def get_by_tracking_number(self, tracking_number: str) -> Complaint | None:
        row = await self._conn.fetchrow(
            f"SELECT {_COLUMNS} FROM complaints WHERE tracking_number=$1", tracking_number)
        return await self._load(row)

    async def _load(self, row: asyncpg.Record | None, with_history: bool = True) -> Complaint | None:
        if row is None:
            return None
        history = await self._conn.fetch(
            "SELECT at, status, action, actor, note FROM complaint_history"
            " WHERE complaint_id=$1 ORDER BY at, id", row["id"]) if with_history else []
        return Complaint(
            id=row["id"], tracking_number=row["tracking_number"],
            jurisdiction=row["jurisdiction"], channel=row["channel"], title=row["title"],
            description=row["description"], category=row["category"],
            location=Location.model_validate(json.loads(row["location"])) if row["location"] else None,
            anonymous=row["anonymous"], confidential=row["confidential"],
            language=row["language"],
            reporter=Reporter(**self._cipher.open(row["reporter_sealed"])) if row["reporter_sealed"] else None,
            access_token_hash=row["access_token_hash"], submitted_at=row["submitted_at"],
            status=Status(row["status"]), assigned_opd_id=row["assigned_opd_id"],
            assigned_opd_name=row["assigned_opd_name"],
            first_response_due_at=row["first_response_due_at"],
            history=[HistoryEntry(at=h["at"], status=Status(h["status"]), action=h["action"],
                                  actor=h["actor"], note=h["note"]) for h in history],
        )


class InMemoryComplaintRepository(StagedMap[uuid.UUID, Complaint]):
    """Twin of PgComplaintRepository; changes become visible to others only on commit."""

    def __init__(self) -> None:
        super().__init__()
        self._sequence = 1000000
        self.idempotency = StagedMap[str, tuple[str, uuid.UUID]]()

    def commit(self) -> None:
        super().commit()
        self.idempotency.commit()

    def rollback(self) -> None:
        super().rollback()
        self.idempotency.rollback()

    async def lock_idempotency_key(self, key: str) -> None:
        return None

    async def find_idempotent(self, key_hash: str) -> tuple[str, uuid.UUID] | None:
        return self.idempotency.find(key_hash)

    async def remember_idempotent(self, key_hash, request_hash, complaint_id) -> None:
        self.idempotency.put(key_hash, (request_hash, complaint_id))

    async def next_tracking_number(self) -> str:
        self._sequence += 1
        return str(self._sequence)

    async def add(self, complaint: Complaint) -> None:
        if complaint.id in self or any(
            c.tracking_number == complaint.tracking_number for c in self.values()
        ):
            raise ValueError("duplicate complaint")
        await self.save(complaint)

    async def save(self, complaint: Complaint) -> None:
        complaint.new_history.clear()
        self.put(complaint.id, copy.deepcopy(complaint))

    async def get(self, complaint_id: uuid.UUID) -> Complaint | None:
        found = self.find(complaint_id)
        return copy.deepcopy(found) if found else None

    async def get_by_tracking_number(self, tracking_number: str) -> Complaint | None:
        for complaint in self.values():
            if complaint.tracking_number == tracking_number:
                return copy.deepcopy(complaint)
        return None
