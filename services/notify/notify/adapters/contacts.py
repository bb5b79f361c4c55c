"""Citizens' contacts (sealed), their preferences, and what notify keeps of each complaint:
the `ContactBook` interface, on PostgreSQL and in memory."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from backbone.db import columns
from backbone.reads import Read, Row, names
from backbone.uow import StagedMap
from backbone.writes import Write
from notify.domain.delivery import Contact, Profile


class ContactBook(Protocol):
    def reads_ahead(self, complaint_ids: list[uuid.UUID]) -> list[Read]:
        """What a consumer batch's handlers will ask of these complaints (their profiles and
        OPDs), read in one go with the batch's inbox claim."""
    async def save_contact(self, complaint_id: uuid.UUID, contact: Contact,
                           access_token_hash: str | None) -> None: ...
    async def save_profile(self, profile: Profile, submitted_at: datetime) -> None: ...
    async def assigned(self, complaint_id: uuid.UUID, opd_id: str, opd_name: str) -> None:
        """With this OPD now (its name goes into staff messages about the complaint)."""
    async def opd_name(self, complaint_id: uuid.UUID, opd_id: str) -> str | None: ...
    async def profile(self, complaint_id: uuid.UUID) -> Profile | None: ...
    async def by_tracking_number(self, tracking_number: str
                                 ) -> tuple[uuid.UUID, Contact, str | None, Profile | None] | None:
        """The complaint, its contact, the hash of its access token, and its profile."""
    async def update(self, complaint_id: uuid.UUID, contact: Contact, at: datetime) -> None:
        """New preferences (and possibly a new sealed contact) chosen by the citizen."""


PROFILE_COLUMNS = "complaint_id, tracking_number, jurisdiction, channel, anonymous, frontend, title"


class PgContactBook:
    """Writes made by a consumer batch's handlers are held and written together before the
    commit (`flush`), and what they read of the batch's complaints is read once before them
    (`reads_ahead`): a complaint's submission and assignment cost two statements per batch, not
    five per complaint. What is held is seen by the reads of the same unit of work."""

    def __init__(self, conn: asyncpg.Connection, became_due=lambda: None) -> None:
        self._conn = conn
        self._became_due = became_due
        self._known: dict[uuid.UUID, Profile | None] = {}       # read or written here
        self._opds: dict[uuid.UUID, tuple[str, str] | None] = {}
        self._new_profiles: dict[uuid.UUID, tuple[Profile, datetime]] = {}
        self._new_contacts: dict[uuid.UUID, tuple[Contact, str | None]] = {}
        self._new_opds: dict[uuid.UUID, tuple[str, str]] = {}

    def reads_ahead(self, complaint_ids: list[uuid.UUID]) -> list[Read]:
        def take(rows: list[Row]) -> None:
            self._known.update(dict.fromkeys(complaint_ids))
            self._opds.update(dict.fromkeys(complaint_ids))
            for row in rows:
                found = dict(row)
                opd = (found.pop("opd_id"), found.pop("opd_name"))
                self._known[row["complaint_id"]] = Profile(**found)
                self._opds[row["complaint_id"]] = opd if opd[0] is not None else None

        return [Read(f"SELECT {PROFILE_COLUMNS}, opd_id, opd_name FROM complaints"
                     " WHERE complaint_id = ANY($1::uuid[])", (complaint_ids,),
                     (*names(PROFILE_COLUMNS), "opd_id", "opd_name"),
                     take)]

    async def save_contact(self, complaint_id, contact, access_token_hash) -> None:
        held = self._new_contacts.get(complaint_id)
        if held is None or (held[1] is None and access_token_hash):
            self._new_contacts[complaint_id] = (contact if held is None else held[0],
                                                access_token_hash)
        self._became_due()

    async def save_profile(self, profile, submitted_at) -> None:
        if self._known.get(profile.complaint_id) is None:
            self._new_profiles.setdefault(profile.complaint_id, (profile, submitted_at))
            self._known[profile.complaint_id] = self._new_profiles[profile.complaint_id][0]

    async def assigned(self, complaint_id, opd_id, opd_name) -> None:
        if complaint_id in self._known and self._known[complaint_id] is None:
            return      # no such complaint here: nothing to update, as the UPDATE would find
        self._new_opds[complaint_id] = self._opds[complaint_id] = (opd_id, opd_name)

    async def opd_name(self, complaint_id, opd_id) -> str | None:
        if complaint_id in self._opds:
            opd = self._opds[complaint_id]
            return opd[1] if opd is not None and opd[0] == opd_id else None
        return await self._conn.fetchval(
            "SELECT opd_name FROM complaints WHERE complaint_id=$1 AND opd_id=$2", complaint_id, opd_id)

    async def profile(self, complaint_id) -> Profile | None:
        if complaint_id in self._known:
            return self._known[complaint_id]
        row = await self._conn.fetchrow(
            f"SELECT {PROFILE_COLUMNS} FROM complaints WHERE complaint_id = $1", complaint_id)
        return Profile(**dict(row)) if row else None

    def writes(self) -> list[Write]:
        """What the handlers held back, handed over at the commit: new profiles (with the OPD
        they are already with), the OPDs of profiles written before, then contacts (a replayed
        contact never undoes what the citizen chose since). Each touches rows the others do
        not, so they may go in one statement."""
        writes: list[Write] = []
        opds, self._new_opds = self._new_opds, {}
        if self._new_profiles:
            held, self._new_profiles = list(self._new_profiles.values()), {}
            writes.append(Write(
                "INSERT INTO complaints (complaint_id, tracking_number, jurisdiction, channel,"
                " anonymous, frontend, title, submitted_at, opd_id, opd_name) SELECT * FROM"
                " unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bool[], $6::text[],"
                " $7::text[], $8::timestamptz[], $9::text[], $10::text[])"
                " ON CONFLICT (complaint_id) DO UPDATE SET opd_id = EXCLUDED.opd_id,"
                " opd_name = EXCLUDED.opd_name WHERE EXCLUDED.opd_id IS NOT NULL",
                tuple(columns([(p.complaint_id, p.tracking_number, p.jurisdiction, p.channel,
                                p.anonymous, p.frontend, p.title, at,
                                *opds.pop(p.complaint_id, (None, None))) for p, at in held]))))
        if opds:
            writes.append(Write(
                "UPDATE complaints c SET opd_id = x.opd_id, opd_name = x.opd_name FROM unnest("
                "$1::uuid[], $2::text[], $3::text[]) AS x(complaint_id, opd_id, opd_name)"
                " WHERE c.complaint_id = x.complaint_id",
                tuple(columns([(cid, opd, name) for cid, (opd, name) in opds.items()]))))
        if self._new_contacts:
            contacts, self._new_contacts = self._new_contacts, {}
            writes.append(Write(
                "INSERT INTO contacts (complaint_id, tracking_number, sealed, has_email, has_phone,"
                " language, access_token_hash) SELECT * FROM unnest($1::uuid[], $2::text[],"
                " $3::bytea[], $4::bool[], $5::bool[], $6::text[], $7::text[])"
                " ON CONFLICT (complaint_id) DO UPDATE SET access_token_hash ="
                " COALESCE(contacts.access_token_hash, EXCLUDED.access_token_hash)",
                tuple(columns([(cid, c.tracking_number, c.sealed, c.has_email, c.has_phone,
                                c.language, token) for cid, (c, token) in contacts.items()]))))
        return writes

    async def flush(self) -> None:
        """Write what is held now (a query that must see it follows)."""
        for write in self.writes():
            await self._conn.execute(write.sql, *write.args)

    async def by_tracking_number(self, tracking_number):
        await self.flush()
        row = await self._conn.fetchrow(
            "SELECT c.complaint_id, c.sealed, c.language, c.tracking_number, c.has_email,"
            " c.has_phone, c.preferences, c.access_token_hash, p.jurisdiction, p.channel,"
            " p.anonymous, p.frontend, p.title FROM contacts c LEFT JOIN complaints p USING (complaint_id)"
            " WHERE c.tracking_number = $1", tracking_number)
        if row is None:
            return None
        contact = Contact(row["sealed"], row["language"], row["tracking_number"], row["has_email"],
                          row["has_phone"], json.loads(row["preferences"]))
        profile = (Profile(row["complaint_id"], row["tracking_number"], row["jurisdiction"],
                           row["channel"], row["anonymous"], row["frontend"], row["title"])
                   if row["jurisdiction"] is not None else None)
        return row["complaint_id"], contact, row["access_token_hash"], profile

    async def update(self, complaint_id, contact, at) -> None:
        await self.flush()
        await self._conn.execute(
            "UPDATE contacts SET sealed=$2, has_email=$3, has_phone=$4, preferences=$5::jsonb,"
            " preferences_updated_at=$6 WHERE complaint_id=$1", complaint_id, contact.sealed,
            contact.has_email, contact.has_phone, json.dumps(contact.preferences), at)


class InMemoryContactBook:
    """Twin of PgContactBook."""

    def __init__(self) -> None:
        self.contacts: StagedMap[uuid.UUID, tuple[Contact, str | None]] = StagedMap()
        self.profiles: StagedMap[uuid.UUID, Profile] = StagedMap()
        self.opds: StagedMap[uuid.UUID, tuple[str, str]] = StagedMap()

    def contact(self, complaint_id) -> Contact | None:
        found = self.contacts.find(complaint_id)
        return found[0] if found else None

    def profile_now(self, complaint_id) -> Profile | None:
        return self.profiles.find(complaint_id)

    def reads_ahead(self, complaint_ids) -> list[Read]:
        """Nothing to read ahead in memory."""
        return []

    async def save_contact(self, complaint_id, contact, access_token_hash) -> None:
        found = self.contacts.find(complaint_id)
        if found is None:
            self.contacts.put(complaint_id, (contact, access_token_hash))
        elif found[1] is None and access_token_hash:
            self.contacts.put(complaint_id, (found[0], access_token_hash))

    async def save_profile(self, profile, submitted_at) -> None:
        if profile.complaint_id not in self.profiles:
            self.profiles.put(profile.complaint_id, profile)

    async def profile(self, complaint_id) -> Profile | None:
        return self.profiles.find(complaint_id)

    async def assigned(self, complaint_id, opd_id, opd_name) -> None:
        if complaint_id in self.profiles:
            self.opds.put(complaint_id, (opd_id, opd_name))

    async def opd_name(self, complaint_id, opd_id) -> str | None:
        found = self.opds.find(complaint_id)
        return found[1] if found and found[0] == opd_id else None

    async def by_tracking_number(self, tracking_number):
        for complaint_id, (contact, token_hash) in {**self.contacts.rows, **self.contacts._staged}.items():
            if contact.tracking_number == tracking_number:
                return complaint_id, contact, token_hash, self.profiles.find(complaint_id)
        return None

    async def update(self, complaint_id, contact, at) -> None:
        found = self.contacts.find(complaint_id)
        if found is not None:
            self.contacts.put(complaint_id, (contact, found[1]))

    def commit(self) -> None:
        for part in (self.contacts, self.profiles, self.opds):
            part.commit()

    def rollback(self) -> None:
        for part in (self.contacts, self.profiles, self.opds):
            part.rollback()


def with_preferences(contact: Contact, preferences: dict[str, Any], *, sealed: bytes | None = None,
                     has_email: bool | None = None, has_phone: bool | None = None) -> Contact:
    return replace(contact, preferences=preferences,
                   sealed=sealed if sealed is not None else contact.sealed,
                   has_email=contact.has_email if has_email is None else has_email,
                   has_phone=contact.has_phone if has_phone is None else has_phone)
