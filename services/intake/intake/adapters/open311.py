"""What Open311 needs besides the complaint record: the front ends' API keys (as digests), the
extra data of each Open311 request, and the public history read as "service request updates".

The `Open311Store` interface, on PostgreSQL and in memory (the twin reads the in-memory
complaint repository it is given, as the SQL joins the complaints table).
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from backbone.uow import StagedMap
from contracts.lifecycle import Status


@dataclass(frozen=True)
class ApiKey:
    """A front end allowed to post: the key itself is never stored, only its SHA-256."""

    id: uuid.UUID
    name: str
    key_sha256: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class Open311Request:
    """What an Open311 POST carried beyond the complaint: who sent it, its token, answers."""

    complaint_id: uuid.UUID
    api_key_id: uuid.UUID
    token: str
    created_at: datetime
    attributes: dict[str, Any] = field(default_factory=dict)
    media_url: str | None = None
    address_id: str | None = None
    device_id: str | None = None
    account_id: str | None = None

    def fingerprint(self) -> str:
        """What the front end sent beyond the complaint, as canonical JSON (a retry with an
        Idempotency-Key must match it); the token and time are the platform's, not sent."""
        return json.dumps({"attributes": self.attributes, "media_url": self.media_url,
                           "address_id": self.address_id, "device_id": self.device_id,
                           "account_id": self.account_id}, sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class HistoryRow:
    """One history entry of a non-rahasia complaint, with what the public mapping needs."""

    update_id: int
    complaint_id: uuid.UUID
    tracking_number: str
    at: datetime
    status: Status
    action: str
    actor_role: str
    note: str


class Open311Store(Protocol):
    async def add_key(self, key: ApiKey) -> None: ...
    async def key_by_digest(self, key_sha256: str) -> ApiKey | None:
        """The key with this digest, if it is not revoked."""
    async def list_keys(self) -> list[ApiKey]: ...
    async def revoke_key(self, key_id: uuid.UUID, at: datetime) -> bool:
        """False when there is no such key (revoking twice keeps the first time)."""
    async def add_request(self, request: Open311Request) -> None: ...
    async def request_for(self, complaint_id: uuid.UUID) -> Open311Request | None: ...
    async def requests_for(self, complaint_ids: list[uuid.UUID]) -> dict[uuid.UUID, Open311Request]: ...
    async def tracking_number_for_token(self, token: str) -> str | None: ...
    async def history(self, *, actions: tuple[str, ...], start: datetime | None,
                      end: datetime | None, jurisdiction: str | None, limit: int) -> list[HistoryRow]:
        """Entries with one of `actions` of complaints that are not rahasia, oldest first,
        `start` inclusive, `end` exclusive."""
    async def latest_history(self, complaint_ids: list[uuid.UUID],
                             actions: tuple[str, ...]) -> dict[uuid.UUID, HistoryRow]:
        """Each complaint's latest entry with one of `actions`."""
    async def last_update_id(self, complaint_id: uuid.UUID) -> int | None: ...


_KEY_COLUMNS = "id, name, key_sha256, created_at, revoked_at"
_REQUEST_COLUMNS = ("complaint_id, api_key_id, token, created_at, attributes, media_url,"
                    " address_id, device_id, account_id")
_HISTORY = ("SELECT h.id, h.complaint_id, c.tracking_number, h.at, h.status, h.action,"
            " h.actor_role, h.note FROM complaint_history h JOIN complaints c ON c.id = h.complaint_id")


def _key(row: asyncpg.Record) -> ApiKey:
    return ApiKey(id=row["id"], name=row["name"], key_sha256=row["key_sha256"],
                  created_at=row["created_at"], revoked_at=row["revoked_at"])


def _request(row: asyncpg.Record) -> Open311Request:
    return Open311Request(
        complaint_id=row["complaint_id"], api_key_id=row["api_key_id"], token=row["token"],
        created_at=row["created_at"], attributes=json.loads(row["attributes"]),
        media_url=row["media_url"], address_id=row["address_id"], device_id=row["device_id"],
        account_id=row["account_id"])


def _history(row: asyncpg.Record) -> HistoryRow:
    return HistoryRow(update_id=row["id"], complaint_id=row["complaint_id"],
                      tracking_number=row["tracking_number"], at=row["at"],
                      status=Status(row["status"]), action=row["action"],
                      actor_role=row["actor_role"], note=row["note"])


class PgOpen311Store:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def add_key(self, key: ApiKey) -> None:
        await self._conn.execute(
            f"INSERT INTO api_keys ({_KEY_COLUMNS}) VALUES ($1,$2,$3,$4,$5)",
            key.id, key.name, key.key_sha256, key.created_at, key.revoked_at)

    async def key_by_digest(self, key_sha256: str) -> ApiKey | None:
        row = await self._conn.fetchrow(
            f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE key_sha256=$1 AND revoked_at IS NULL",
            key_sha256)
        return _key(row) if row else None

    async def list_keys(self) -> list[ApiKey]:
        return [_key(r) for r in await self._conn.fetch(
            f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id")]

    async def revoke_key(self, key_id: uuid.UUID, at: datetime) -> bool:
        return await self._conn.fetchval(
            "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id=$1 RETURNING true",
            key_id, at) is not None

    async def add_request(self, request: Open311Request) -> None:
        r = request
        await self._conn.execute(
            f"INSERT INTO open311_requests ({_REQUEST_COLUMNS})"
            " VALUES ($1,$2,$3,$4,$5::jsonb,$6,$7,$8,$9)",
            r.complaint_id, r.api_key_id, r.token, r.created_at,
            json.dumps(r.attributes, ensure_ascii=False), r.media_url, r.address_id,
            r.device_id, r.account_id)

    async def request_for(self, complaint_id: uuid.UUID) -> Open311Request | None:
        row = await self._conn.fetchrow(
            f"SELECT {_REQUEST_COLUMNS} FROM open311_requests WHERE complaint_id=$1", complaint_id)
        return _request(row) if row else None

    async def requests_for(self, complaint_ids):
        if not complaint_ids:
            return {}
        rows = await self._conn.fetch(
            f"SELECT {_REQUEST_COLUMNS} FROM open311_requests WHERE complaint_id = ANY($1::uuid[])",
            list(complaint_ids))
        return {r["complaint_id"]: _request(r) for r in rows}

    async def tracking_number_for_token(self, token: str) -> str | None:
        return await self._conn.fetchval(
            "SELECT c.tracking_number FROM open311_requests o JOIN complaints c"
            " ON c.id = o.complaint_id WHERE o.token=$1", token)

    async def history(self, *, actions, start, end, jurisdiction, limit) -> list[HistoryRow]:
        clauses, args = ["NOT c.confidential", "h.action = ANY($1::text[])"], [list(actions)]
        for clause, value in (("h.at >= ${}", start), ("h.at < ${}", end),
                              ("c.jurisdiction = ${}", jurisdiction)):
            if value is not None:
                args.append(value)
                clauses.append(clause.format(len(args)))
        args.append(limit)
        rows = await self._conn.fetch(
            f"{_HISTORY} WHERE {' AND '.join(clauses)} ORDER BY h.at, h.id LIMIT ${len(args)}",
            *args)
        return [_history(r) for r in rows]

    async def latest_history(self, complaint_ids, actions) -> dict[uuid.UUID, HistoryRow]:
        if not complaint_ids:
            return {}
        rows = await self._conn.fetch(
            "SELECT DISTINCT ON (h.complaint_id) h.id, h.complaint_id, c.tracking_number, h.at,"
            " h.status, h.action, h.actor_role, h.note FROM complaint_history h"
            " JOIN complaints c ON c.id = h.complaint_id"
            " WHERE h.complaint_id = ANY($1::uuid[]) AND h.action = ANY($2::text[])"
            " ORDER BY h.complaint_id, h.at DESC, h.id DESC", list(complaint_ids), list(actions))
        return {r["complaint_id"]: _history(r) for r in rows}

    async def last_update_id(self, complaint_id: uuid.UUID) -> int | None:
        return await self._conn.fetchval(
            "SELECT max(id) FROM complaint_history WHERE complaint_id=$1", complaint_id)


class InMemoryOpen311Store:
    """Twin of PgOpen311Store over the in-memory complaint repository. History entries are
    numbered in time order across all complaints, as the bigserial numbers them in practice."""

    def __init__(self, complaints) -> None:
        self._complaints = complaints
        self.keys = StagedMap[uuid.UUID, ApiKey]()
        self.requests = StagedMap[uuid.UUID, Open311Request]()

    def commit(self) -> None:
        self.keys.commit()
        self.requests.commit()

    def rollback(self) -> None:
        self.keys.rollback()
        self.requests.rollback()

    async def add_key(self, key: ApiKey) -> None:
        if any(k.key_sha256 == key.key_sha256 for k in self.keys.values()) or key.id in self.keys:
            raise ValueError("duplicate api key")
        self.keys.put(key.id, key)

    async def key_by_digest(self, key_sha256: str) -> ApiKey | None:
        return next((k for k in self.keys.values()
                     if k.key_sha256 == key_sha256 and k.revoked_at is None), None)

    async def list_keys(self) -> list[ApiKey]:
        return sorted(self.keys.values(), key=lambda k: (k.created_at, str(k.id)))

    async def revoke_key(self, key_id: uuid.UUID, at: datetime) -> bool:
        found = self.keys.find(key_id)
        if found is None:
            return False
        if found.revoked_at is None:
            self.keys.put(key_id, ApiKey(found.id, found.name, found.key_sha256,
                                         found.created_at, at))
        return True

    async def add_request(self, request: Open311Request) -> None:
        if request.complaint_id in self.requests or any(
                r.token == request.token for r in self.requests.values()):
            raise ValueError("duplicate open311 request")
        self.requests.put(request.complaint_id, copy.deepcopy(request))

    async def request_for(self, complaint_id: uuid.UUID) -> Open311Request | None:
        return self.requests.find(complaint_id)

    async def requests_for(self, complaint_ids):
        return {i: r for i in complaint_ids if (r := self.requests.find(i)) is not None}

    async def tracking_number_for_token(self, token: str) -> str | None:
        for r in self.requests.values():
            if r.token == token:
                complaint = self._complaints.find(r.complaint_id)
                return complaint.tracking_number if complaint else None
        return None

    def _all_history(self) -> list[tuple[HistoryRow, bool, str]]:
        entries = []
        for c in self._complaints.values():
            for n, h in enumerate(c.history):
                entries.append((h.at, c.submitted_at, c.tracking_number, n, c, h))
        entries.sort(key=lambda e: e[:4])
        return [(HistoryRow(update_id=i, complaint_id=c.id, tracking_number=c.tracking_number,
                            at=h.at, status=h.status, action=h.action, actor_role=h.actor_role,
                            note=h.note), c.confidential, c.jurisdiction)
                for i, (_, _, _, _, c, h) in enumerate(entries, start=1)]

    async def history(self, *, actions, start, end, jurisdiction, limit) -> list[HistoryRow]:
        return [row for row, confidential, where in self._all_history()
                if not confidential and row.action in actions
                and (start is None or row.at >= start) and (end is None or row.at < end)
                and (jurisdiction is None or where == jurisdiction)][:limit]

    async def latest_history(self, complaint_ids, actions) -> dict[uuid.UUID, HistoryRow]:
        wanted, found = set(complaint_ids), {}
        for row, _, _ in self._all_history():
            if row.complaint_id in wanted and row.action in actions:
                found[row.complaint_id] = row
        return found

    async def last_update_id(self, complaint_id: uuid.UUID) -> int | None:
        ids = [row.update_id for row, _, _ in self._all_history() if row.complaint_id == complaint_id]
        return max(ids) if ids else None
