"""Who else hears: OPDs' and operators' addresses, and front ends' webhook endpoints. The
`Directory` interface, on PostgreSQL and in memory. Addresses and secrets are sealed.

Every lifecycle fact asks who else hears of it, and the directory is small and changes
rarely, so the PostgreSQL adapter answers from a process-wide snapshot of the active entries
(`DirectorySnapshot`), reloaded when older than its TTL and at once after this process changed
it; another replica's change is seen within the TTL."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from typing import Protocol

import asyncpg

from backbone.uow import StagedMap
from notify.domain.delivery import StaffAddress, WebhookEndpoint


class Directory(Protocol):
    async def staff_for(self, jurisdiction: str, role: str, opd_id: str | None) -> list[StaffAddress]: ...
    async def staff(self, jurisdiction: str | None = None) -> list[StaffAddress]: ...
    async def add_staff(self, address: StaffAddress) -> None: ...
    async def remove_staff(self, address_id: uuid.UUID) -> bool: ...
    async def webhooks_for(self, frontend: str) -> list[WebhookEndpoint]: ...
    async def webhooks(self) -> list[WebhookEndpoint]: ...
    async def add_webhook(self, endpoint: WebhookEndpoint) -> None: ...
    async def remove_webhook(self, endpoint_id: uuid.UUID) -> bool: ...


STAFF_COLUMNS = "id, jurisdiction, role, opd_id, channel, sealed_address, language, digest, label, active"
WEBHOOK_COLUMNS = "id, frontend, url, sealed_secret, active, description"


class DirectorySnapshot:
    """The active staff addresses and webhook endpoints, as last loaded, for one process."""

    def __init__(self, ttl_seconds: float = 5.0) -> None:
        self.ttl = ttl_seconds
        self.loaded_at = float("-inf")
        self.staff: list[StaffAddress] = []
        self.webhooks: list[WebhookEndpoint] = []

    def stale(self) -> bool:
        return time.monotonic() - self.loaded_at > self.ttl

    def invalidate(self) -> None:
        self.loaded_at = float("-inf")


class PgDirectory:
    def __init__(self, conn: asyncpg.Connection, snapshot: DirectorySnapshot | None = None) -> None:
        self._conn = conn
        self._snapshot = snapshot or DirectorySnapshot(ttl_seconds=0)

    async def _fresh(self) -> DirectorySnapshot:
        snap = self._snapshot
        if snap.stale():
            staff = await self._conn.fetch(
                f"SELECT {STAFF_COLUMNS} FROM staff_addresses WHERE active ORDER BY created_at")
            hooks = await self._conn.fetch(
                f"SELECT {WEBHOOK_COLUMNS} FROM webhook_endpoints WHERE active ORDER BY created_at")
            snap.staff = [StaffAddress(**dict(r)) for r in staff]
            snap.webhooks = [WebhookEndpoint(**dict(r)) for r in hooks]
            snap.loaded_at = time.monotonic()
        return snap

    async def staff_for(self, jurisdiction, role, opd_id) -> list[StaffAddress]:
        return [a for a in (await self._fresh()).staff
                if (a.jurisdiction, a.role, a.opd_id) == (jurisdiction, role, opd_id)]

    async def staff(self, jurisdiction=None) -> list[StaffAddress]:
        rows = await self._conn.fetch(
            f"SELECT {STAFF_COLUMNS} FROM staff_addresses WHERE active AND ($1::text IS NULL OR"
            " jurisdiction=$1) ORDER BY jurisdiction, role, opd_id, created_at", jurisdiction)
        return [StaffAddress(**dict(r)) for r in rows]

    async def add_staff(self, a) -> None:
        await self._conn.execute(
            f"INSERT INTO staff_addresses ({STAFF_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
            a.id, a.jurisdiction, a.role, a.opd_id, a.channel, a.sealed_address, a.language,
            a.digest, a.label, a.active)
        self._snapshot.invalidate()

    async def remove_staff(self, address_id) -> bool:
        status = await self._conn.execute(
            "UPDATE staff_addresses SET active=false, updated_at=now() WHERE id=$1 AND active",
            address_id)
        self._snapshot.invalidate()
        return status.endswith(" 1")

    async def webhooks_for(self, frontend) -> list[WebhookEndpoint]:
        return [e for e in (await self._fresh()).webhooks if e.frontend == frontend]

    async def webhooks(self) -> list[WebhookEndpoint]:
        rows = await self._conn.fetch(
            f"SELECT {WEBHOOK_COLUMNS} FROM webhook_endpoints WHERE active ORDER BY frontend, created_at")
        return [WebhookEndpoint(**dict(r)) for r in rows]

    async def add_webhook(self, e) -> None:
        await self._conn.execute(
            f"INSERT INTO webhook_endpoints ({WEBHOOK_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6)",
            e.id, e.frontend, e.url, e.sealed_secret, e.active, e.description)
        self._snapshot.invalidate()

    async def remove_webhook(self, endpoint_id) -> bool:
        status = await self._conn.execute(
            "UPDATE webhook_endpoints SET active=false WHERE id=$1 AND active", endpoint_id)
        self._snapshot.invalidate()
        return status.endswith(" 1")


class InMemoryDirectory:
    """Twin of PgDirectory."""

    def __init__(self) -> None:
        self._staff: StagedMap[uuid.UUID, StaffAddress] = StagedMap()
        self._hooks: StagedMap[uuid.UUID, WebhookEndpoint] = StagedMap()

    def staff_now(self, address_id) -> StaffAddress | None:
        return self._staff.find(address_id)

    def endpoint_now(self, endpoint_id) -> WebhookEndpoint | None:
        return self._hooks.find(endpoint_id)

    async def staff_for(self, jurisdiction, role, opd_id) -> list[StaffAddress]:
        return [a for a in self._staff.values() if a.active and a.jurisdiction == jurisdiction
                and a.role == role and a.opd_id == opd_id]

    async def staff(self, jurisdiction=None) -> list[StaffAddress]:
        return [a for a in self._staff.values() if a.active
                and (jurisdiction is None or a.jurisdiction == jurisdiction)]

    async def add_staff(self, a) -> None:
        self._staff.put(a.id, a)

    async def remove_staff(self, address_id) -> bool:
        a = self._staff.find(address_id)
        if a is None or not a.active:
            return False
        self._staff.put(a.id, replace(a, active=False))
        return True

    async def webhooks_for(self, frontend) -> list[WebhookEndpoint]:
        return [e for e in self._hooks.values() if e.active and e.frontend == frontend]

    async def webhooks(self) -> list[WebhookEndpoint]:
        return [e for e in self._hooks.values() if e.active]

    async def add_webhook(self, e) -> None:
        self._hooks.put(e.id, e)

    async def remove_webhook(self, endpoint_id) -> bool:
        e = self._hooks.find(endpoint_id)
        if e is None or not e.active:
            return False
        self._hooks.put(e.id, replace(e, active=False))
        return True

    def commit(self) -> None:
        self._staff.commit()
        self._hooks.commit()

    def rollback(self) -> None:
        self._staff.rollback()
        self._hooks.rollback()
