"""Which channel messages intake has handled, and who may write about which complaint:
the `ChannelMessageStore` interface, on PostgreSQL and in memory.

`claim` is the dedupe: it inserts the (adapter, message id) row in the handler's transaction,
so the effect and the record of it commit together, and a repeat (or a concurrent copy, which
waits on the row) finds it taken. Senders are kept only as keyed hashes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import asyncpg

from backbone.uow import StagedMap


class ChannelMessageStore(Protocol):
    async def claim(self, adapter: str, message_id: str, channel: str,
                    received_at: datetime) -> bool:
        """True the first time this adapter's message is seen; False for a repeat."""

    async def settle(self, adapter: str, message_id: str, outcome: str,
                     complaint_id: uuid.UUID | None) -> None:
        """What the claimed message became."""

    async def outcome(self, adapter: str, message_id: str) -> tuple[str | None, uuid.UUID | None] | None:
        """(outcome, complaint id) of a handled message, or None if never seen."""

    async def remember_sender(self, complaint_id: uuid.UUID, sender_hash: str, channel: str,
                              since: datetime) -> None: ...

    async def is_sender(self, complaint_id: uuid.UUID, sender_hash: str) -> bool: ...


class PgChannelMessageStore:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def claim(self, adapter, message_id, channel, received_at) -> bool:
        return bool(await self._conn.fetchval(
            "INSERT INTO channel_messages (adapter, message_id, channel, received_at)"
            " VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING RETURNING true",
            adapter, message_id, channel, received_at))

    async def settle(self, adapter, message_id, outcome, complaint_id) -> None:
        await self._conn.execute(
            "UPDATE channel_messages SET outcome=$3, complaint_id=$4"
            " WHERE adapter=$1 AND message_id=$2", adapter, message_id, outcome, complaint_id)

    async def outcome(self, adapter, message_id):
        row = await self._conn.fetchrow(
            "SELECT outcome, complaint_id FROM channel_messages WHERE adapter=$1 AND message_id=$2",
            adapter, message_id)
        return (row["outcome"], row["complaint_id"]) if row else None

    async def remember_sender(self, complaint_id, sender_hash, channel, since) -> None:
        await self._conn.execute(
            "INSERT INTO channel_senders (complaint_id, sender_hash, channel, since)"
            " VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING", complaint_id, sender_hash, channel, since)

    async def is_sender(self, complaint_id, sender_hash) -> bool:
        return bool(await self._conn.fetchval(
            "SELECT true FROM channel_senders WHERE complaint_id=$1 AND sender_hash=$2",
            complaint_id, sender_hash))


@dataclass(frozen=True)
class _Handled:
    channel: str
    received_at: datetime
    outcome: str | None = None
    complaint_id: uuid.UUID | None = None


class InMemoryChannelMessageStore:
    """Twin of PgChannelMessageStore; what a rolled-back unit of work claimed is forgotten."""

    def __init__(self) -> None:
        self.messages = StagedMap[tuple[str, str], _Handled]()
        self.senders = StagedMap[tuple[uuid.UUID, str], str]()

    def commit(self) -> None:
        self.messages.commit()
        self.senders.commit()

    def rollback(self) -> None:
        self.messages.rollback()
        self.senders.rollback()

    async def claim(self, adapter, message_id, channel, received_at) -> bool:
        if (adapter, message_id) in self.messages:
            return False
        self.messages.put((adapter, message_id), _Handled(channel, received_at))
        return True

    async def settle(self, adapter, message_id, outcome, complaint_id) -> None:
        found = self.messages.find((adapter, message_id))
        if found is not None:
            self.messages.put((adapter, message_id),
                              _Handled(found.channel, found.received_at, outcome, complaint_id))

    async def outcome(self, adapter, message_id):
        found = self.messages.find((adapter, message_id))
        return (found.outcome, found.complaint_id) if found else None

    async def remember_sender(self, complaint_id, sender_hash, channel, since) -> None:
        if (complaint_id, sender_hash) not in self.senders:
            self.senders.put((complaint_id, sender_hash), channel)

    async def is_sender(self, complaint_id, sender_hash) -> bool:
        return (complaint_id, sender_hash) in self.senders
