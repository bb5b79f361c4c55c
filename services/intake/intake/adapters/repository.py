"""Where complaints are kept: the `ComplaintRepository` interface, on PostgreSQL and in memory.

`get` locks the row for the rest of the transaction, so two events about one complaint never
interleave their read-modify-write.
"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from dataclasses import asdict, replace
from datetime import datetime
from typing import Protocol

import asyncpg

from contracts.events import Location
from contracts.lifecycle import WITH_OPD, Status
from backbone.db import LockSpace, columns, lock_until_commit
from backbone.pii import PiiCipher
from backbone.reads import Read, Row, names
from backbone.uow import StagedMap
from intake.domain.complaint import Complaint, HistoryEntry, Reporter
from intake.domain.public import matches_words, search_words
from intake.domain.queries import ComplaintQuery


class ComplaintRepository(Protocol):
    async def next_tracking_number(self) -> str: ...
    async def add(self, complaint: Complaint) -> None: ...
    async def get(self, complaint_id: uuid.UUID) -> Complaint | None: ...
    def reads_ahead(self, complaint_ids: list[uuid.UUID]) -> list[Read]:
        """What a consumer batch reads, locked, of these complaints with its inbox claim."""
    async def get_by_tracking_number(self, tracking_number: str, *,
                                     lock: bool = False) -> Complaint | None: ...
    async def search(self, query: ComplaintQuery, now: datetime) -> list[Complaint]: ...
    async def save(self, complaint: Complaint) -> None: ...
    async def flush(self) -> None:
        """Write what `save` recorded now (else at commit): for a read outside the repository."""
    async def lock_idempotency_key(self, key_hash: str) -> None: ...
    async def find_idempotent(self, key_hash: str) -> tuple[str, uuid.UUID] | None: ...
    async def remember_idempotent(self, key_hash: str, request_hash: str,
                                  complaint_id: uuid.UUID) -> None: ...


_COLUMNS = (
    "id, tracking_number, jurisdiction, channel, title, description, category, location,"
    " anonymous, confidential, language, reporter_sealed, access_token_hash, status,"
    " assigned_opd_id, assigned_opd_name, first_response_due_at, submitted_at, due_at,"
    " rejected_by, closed_at, reopen_until, rating, rating_comment, merged_into,"
    " merged_into_tracking_number, updated_at"
)
# What a change may touch, its type, and the values of each (`flush`). rejected_by goes as a
# JSON array: an array of arrays cannot be unnested row by row.
_MUTABLE = (("status", "text"), ("assigned_opd_id", "text"), ("assigned_opd_name", "text"),
            ("first_response_due_at", "timestamptz"), ("due_at", "timestamptz"),
            ("rejected_by", "jsonb"), ("closed_at", "timestamptz"),
            ("reopen_until", "timestamptz"), ("rating", "smallint"), ("rating_comment", "text"),
            ("merged_into", "uuid"), ("merged_into_tracking_number", "text"),
            ("updated_at", "timestamptz"), ("category", "text"))


def _mutable_values(c: Complaint) -> tuple:
    return (c.status.value, c.assigned_opd_id, c.assigned_opd_name, c.first_response_due_at,
            c.due_at, json.dumps(list(c.rejected_by)), c.closed_at, c.reopen_until, c.rating,
            c.rating_comment, c.merged_into, c.merged_into_tracking_number,
            c.updated_at or c.submitted_at, c.category)


def _set(column: str) -> str:
    return (f"{column} = ARRAY(SELECT jsonb_array_elements_text(u.{column}))"
            if column == "rejected_by" else f"{column} = u.{column}")


# A complaint's timeline in the same round trip as its row, oldest first.
_HISTORY_JSON = (
    "(SELECT coalesce(json_agg(json_build_array(h.at, h.status, h.action, h.actor, h.note,"
    " h.actor_role, h.from_status, h.details) ORDER BY h.at, h.id), '[]')"
    " FROM complaint_history h WHERE h.complaint_id = complaints.id) AS history")

_READ_COLUMNS = (*names(_COLUMNS), "history")

_HISTORY_TYPES = ("timestamptz", "text", "text", "text", "text", "text", "text", "jsonb")


def insert_history(first: int) -> str:
    """History rows for complaint $1, from the parallel arrays from parameter `first` on."""
    arrays = ", ".join(f"${first + i}::{kind}[]" for i, kind in enumerate(_HISTORY_TYPES))
    return ("INSERT INTO complaint_history (complaint_id, at, status, action, actor, note,"
            f" actor_role, from_status, details) SELECT $1, * FROM unnest({arrays})")


def _history_args(h: list[HistoryEntry]) -> tuple[list, ...]:
    """New timeline entries as the parallel arrays `insert_history` unnests."""
    return ([e.at for e in h], [e.status.value for e in h], [e.action for e in h],
            [e.actor for e in h], [e.note for e in h], [e.actor_role for e in h],
            [e.from_status.value if e.from_status else None for e in h],
            [json.dumps(e.details, default=str, ensure_ascii=False) for e in h])


# Every changed complaint of a transaction and all their new timeline entries, in one statement:
# $1 the ids, then one array per mutable column, then the entries' complaint ids and fields.
_FLUSH = (
    "WITH u AS (SELECT * FROM unnest($1::uuid[], "
    + ", ".join(f"${n}::{kind}[]" for n, (_, kind) in enumerate(_MUTABLE, start=2))
    + ") AS u(id, " + ", ".join(column for column, _ in _MUTABLE) + ")),"
    " changed AS (UPDATE complaints SET " + ", ".join(_set(column) for column, _ in _MUTABLE)
    + " FROM u WHERE complaints.id = u.id)"
    " INSERT INTO complaint_history (complaint_id, at, status, action, actor, note, actor_role,"
    " from_status, details) SELECT * FROM unnest("
    + ", ".join(f"${2 + len(_MUTABLE) + i}::{kind}[]"
                for i, kind in enumerate(("uuid",) + _HISTORY_TYPES)) + ")"
)


# A new complaint and its first timeline entries: $1..$19 the complaint, $20..$27 the entries.
# One statement of its own, or the first part of one that also writes the outbox rows
# (`IntakePgUnitOfWork._commit_at_once`).
ADD_CTE = (
    "added AS (INSERT INTO complaints (id, tracking_number, jurisdiction, channel,"
    " title, description, category, location, anonymous, confidential, language,"
    " reporter_sealed, access_token_hash, status, assigned_opd_id, assigned_opd_name,"
    " first_response_due_at, submitted_at, updated_at) VALUES"
    " ($1,$2,$3,$4,$5,$6,$7,$8::jsonb,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19))")
ADD = f"WITH {ADD_CTE} {insert_history(20)}"
ADD_PARAMETERS = 27


def _snapshot(c: Complaint) -> Complaint:
    """A copy no later change to `c` reaches (its lists are new; everything in them, and every
    other field, is immutable), with nothing pending: its events and new history are written."""
    return replace(c, rejected_by=list(c.rejected_by), history=list(c.history), events=[],
                   new_history=[])


class TrackingNumbers:
    """Tracking numbers handed out from blocks of `tracking_number_seq`: one round trip per
    `block` submissions instead of one each, for the whole process (every unit of work shares
    it). Each number is still handed out once (the sequence gives each block once). What it
    costs: a restart leaves the rest of a block unused (a gap, as a rolled-back nextval leaves),
    and replicas interleave their blocks, so between replicas a higher number does not mean a
    later complaint (the submission time says that)."""

    def __init__(self, block: int = 1) -> None:
        self._block = block
        self._free: list[int] = []          # highest first: pop() hands out the lowest
        self._lock = asyncio.Lock()

    async def next(self, conn: asyncpg.Connection) -> str:
        if not self._free:
            async with self._lock:          # one block at a time, however many are waiting
                if not self._free:
                    rows = await conn.fetch("SELECT nextval('tracking_number_seq') AS n"
                                            " FROM generate_series(1, $1)", self._block)
                    self._free = sorted((r["n"] for r in rows), reverse=True)
        return str(self._free.pop())


class PgComplaintRepository:
    """One per unit of work, which is one transaction: a consumer's whole batch, or one HTTP
    request. A complaint locked here (`get`, `get_by_tracking_number(lock=True)`) is remembered
    as it stands for the rest of the transaction, changes included; nobody else can change the
    locked row. `save` only records the change, and `flush` (the unit of work calls it before
    commit) writes each changed complaint once: a batch with a complaint's assignment, three
    clock events and two notifications reads it once and writes it once, not six times each.
    Each read hands out a fresh copy, so a change a handler drops (a stale decision) never
    reaches the next handler."""

    def __init__(self, conn: asyncpg.Connection, cipher: PiiCipher,
                 numbers: TrackingNumbers | None = None) -> None:
        self._conn = conn
        self._cipher = cipher
        self._tracking_numbers = numbers or TrackingNumbers()
        self._locked: dict[uuid.UUID, Complaint] = {}      # as it stands, saved or not yet
        self._numbers: dict[str, uuid.UUID] = {}
        self._unwritten: dict[uuid.UUID, list[HistoryEntry]] = {}   # changed: its new entries
        self._added: list[tuple] = []                                # new: `ADD`'s parameters

    def _remember(self, c: Complaint) -> None:
        self._locked[c.id] = _snapshot(c)
        self._numbers[c.tracking_number] = c.id

    async def next_tracking_number(self) -> str:
        # A sequence needs no transaction (nextval is never rolled back), so taking a block
        # does not begin the unit of work's.
        return await self._tracking_numbers.next(getattr(self._conn, "raw", self._conn))

    async def add(self, complaint: Complaint) -> None:
        """Held, and written before the next statement of the unit of work (`write_added`) or
        with its outbox rows in one statement at its commit (`IntakePgUnitOfWork`)."""
        c = complaint
        self._added.append((
            c.id, c.tracking_number, c.jurisdiction, c.channel, c.title, c.description,
            c.category, c.location.model_dump_json() if c.location else None,
            c.anonymous, c.confidential, c.language,
            self._cipher.seal(asdict(c.reporter)) if c.reporter else None,
            c.access_token_hash, c.status.value, c.assigned_opd_id, c.assigned_opd_name,
            c.first_response_due_at, c.submitted_at, c.updated_at or c.submitted_at,
            *_history_args(c.new_history)))
        complaint.new_history.clear()

    def take_sole_added(self) -> tuple | None:
        """When the unit of work's only change here is one new complaint: its parameters for
        `ADD_CTE` and `insert_history(20)`, handed to the caller to write."""
        if len(self._added) != 1 or self._unwritten:
            return None
        added, self._added = self._added[0], []
        return added

    async def write_added(self) -> None:
        added, self._added = self._added, []
        for args in added:
            await self._conn.execute(ADD, *args)

    async def save(self, complaint: Complaint) -> None:
        """Recorded now, written by `flush`: the state as it is, and its new timeline entries."""
        self._unwritten.setdefault(complaint.id, []).extend(complaint.new_history)
        complaint.new_history.clear()
        self._remember(complaint)

    async def flush(self) -> None:
        """The new complaints, then every changed complaint's state and new timeline entries,
        in one statement."""
        await self.write_added()
        if not self._unwritten:
            return
        changed = [self._locked[complaint_id] for complaint_id in self._unwritten]
        entries = [(complaint_id, e) for complaint_id, new in self._unwritten.items() for e in new]
        await self._conn.execute(
            _FLUSH, [c.id for c in changed], *columns(map(_mutable_values, changed)),
            [complaint_id for complaint_id, _ in entries], *_history_args([e for _, e in entries]))
        self._unwritten.clear()

    def reads_ahead(self, complaint_ids: list[uuid.UUID]) -> list[Read]:
        """Lock and remember these complaints (those not yet) in one read, in id order, so the
        `get`s that follow read nothing: a consumer's batch about thirty complaints costs one
        read, not thirty, and that read goes with the batch's inbox claim."""
        wanted = sorted({i for i in complaint_ids if i not in self._locked})
        if not wanted:
            return []
        return [Read(f"SELECT {_COLUMNS}, {_HISTORY_JSON} FROM complaints"
                     " WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE", (wanted,),
                     _READ_COLUMNS, self._remember_rows)]

    def _remember_rows(self, rows) -> None:
        for row in rows:
            self._remember(self._load(row))
    async def lock_idempotency_key(self, key_hash: str) -> None:
        """Serialise concurrent requests with one key until this transaction ends, in the
        idempotency lock space: a crafted key cannot collide with the platform's own locks."""
        await lock_until_commit(self._conn, LockSpace.IDEMPOTENCY_KEY, [key_hash])

    async def find_idempotent(self, key_hash: str) -> tuple[str, uuid.UUID] | None:
        row = await self._conn.fetchrow(
            "SELECT request_hash, complaint_id FROM idempotency_keys WHERE key=$1", key_hash)
        return (row["request_hash"], row["complaint_id"]) if row else None

    async def remember_idempotent(self, key_hash, request_hash, complaint_id) -> None:
        await self._conn.execute(
            "INSERT INTO idempotency_keys (key, request_hash, complaint_id) VALUES ($1,$2,$3)",
            key_hash, request_hash, complaint_id)

    async def get(self, complaint_id: uuid.UUID) -> Complaint | None:
        """For a change: the row locked, with its timeline (the guards against replayed and
        older sla facts read it)."""
        if complaint_id in self._locked:
            return _snapshot(self._locked[complaint_id])
        row = await self._conn.fetchrow(
            f"SELECT {_COLUMNS}, {_HISTORY_JSON} FROM complaints WHERE id=$1 FOR UPDATE",
            complaint_id)
        found = self._load(row)
        if found is not None:
            self._remember(found)
        return found

    async def get_by_tracking_number(self, tracking_number: str, *,
                                     lock: bool = False) -> Complaint | None:
        """With its history; `lock` holds the row for a change until the transaction ends."""
        if tracking_number in self._numbers:
            return _snapshot(self._locked[self._numbers[tracking_number]])
        row = await self._conn.fetchrow(
            f"SELECT {_COLUMNS}, {_HISTORY_JSON} FROM complaints WHERE tracking_number=$1"
            + (" FOR UPDATE" if lock else ""), tracking_number)
        found = self._load(row)
        if found is not None and lock:
            self._remember(found)
        return found

    async def search(self, query: ComplaintQuery, now: datetime) -> list[Complaint]:
        """One page (one row more than asked, so the caller knows whether another follows),
        without history or identity: a list never decrypts anybody."""
        await self.flush()          # a list within a change sees the change
        where, args = _where(query, now)
        order = {"newest": "submitted_at DESC, tracking_number DESC",
                 "oldest": "submitted_at, tracking_number",
                 "due": "due_at NULLS LAST, submitted_at"}[query.sort]
        args += [query.page_size + 1, query.offset]
        rows = await self._conn.fetch(
            f"SELECT {_COLUMNS.replace('reporter_sealed', 'NULL::bytea AS reporter_sealed')}"
            f" FROM complaints WHERE {where} ORDER BY {order}"
            f" LIMIT ${len(args) - 1} OFFSET ${len(args)}", *args)
        return [self._load(row) for row in rows]

    def _load(self, row: Row | None) -> Complaint | None:
        """The complaint of `row`, with its timeline if the row carries one (`_HISTORY_JSON`)."""
        if row is None:
            return None
        history = json.loads(row["history"]) if "history" in row.keys() else []
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
            first_response_due_at=row["first_response_due_at"], due_at=row["due_at"],
            rejected_by=list(row["rejected_by"]), closed_at=row["closed_at"],
            reopen_until=row["reopen_until"], rating=row["rating"],
            rating_comment=row["rating_comment"], merged_into=row["merged_into"],
            merged_into_tracking_number=row["merged_into_tracking_number"],
            updated_at=row["updated_at"],
            history=[HistoryEntry(
                at=datetime.fromisoformat(at), status=Status(status), action=action, actor=actor,
                note=note, actor_role=actor_role,
                from_status=Status(from_status) if from_status else None, details=details or {},
            ) for at, status, action, actor, note, actor_role, from_status, details in history],
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
        """Like a row: the state and history, not the events (those went to the outbox)."""
        complaint.new_history.clear()
        stored = copy.deepcopy(complaint)
        stored.events = []
        self.put(complaint.id, stored)

    async def get(self, complaint_id: uuid.UUID) -> Complaint | None:
        found = self.find(complaint_id)
        return copy.deepcopy(found) if found else None

    def reads_ahead(self, complaint_ids: list[uuid.UUID]) -> list[Read]:
        """Nothing to read ahead in memory; `get` answers alike."""
        return []

    async def flush(self) -> None:
        """`save` writes at once in memory."""
        return None

    async def get_by_tracking_number(self, tracking_number: str, *,
                                     lock: bool = False) -> Complaint | None:
        for complaint in self.values():
            if complaint.tracking_number == tracking_number:
                return copy.deepcopy(complaint)
        return None

    async def search(self, query: ComplaintQuery, now: datetime) -> list[Complaint]:
        found = [c for c in self.values() if _matches(c, query, now)]
        if query.sort == "due":
            found.sort(key=lambda c: (c.due_at is None, c.due_at or c.submitted_at, c.submitted_at))
        else:
            found.sort(key=lambda c: (c.submitted_at, int(c.tracking_number)),
                       reverse=query.sort == "newest")
        page = [copy.deepcopy(c) for c in found[query.offset:query.offset + query.page_size + 1]]
        for complaint in page:   # as on PostgreSQL: a list carries no identity and no history
            complaint.reporter, complaint.history = None, []
        return page


def _where(query: ComplaintQuery, now: datetime) -> tuple[str, list]:
    """The query's filters as SQL over numbered parameters (values never spliced in)."""
    clauses, args = ["true"], []

    def arg(value) -> str:
        args.append(value)
        return f"${len(args)}"

    if query.statuses:
        clauses.append(f"status = ANY({arg([s.value for s in query.statuses])}::text[])")
    if query.opd_id is not None:
        clauses.append(f"assigned_opd_id = {arg(query.opd_id)}")
    if query.category is not None:
        clauses.append(f"category = {arg(query.category)}")
    if query.jurisdiction is not None:
        clauses.append(f"jurisdiction = {arg(query.jurisdiction)}")
    if query.submitted_from is not None:
        clauses.append(f"submitted_at >= {arg(query.submitted_from)}")
    if query.submitted_to is not None:
        clauses.append(f"submitted_at < {arg(query.submitted_to)}")
    if query.overdue is not None:
        late = (f"(due_at < {arg(now)} AND status = ANY({arg([s.value for s in WITH_OPD])}::text[]))")
        clauses.append(late if query.overdue else f"NOT coalesce({late}, false)")
    if query.public:
        clauses.append("NOT confidential")
    if query.tracking_numbers:
        clauses.append(f"tracking_number = ANY({arg(list(query.tracking_numbers))}::text[])")
    if query.kecamatan is not None:
        clauses.append(f"lower(location->>'kecamatan') = lower({arg(query.kecamatan)})")
    words = search_words(query.text or "")
    if words:
        # Served by the GIN index of 0008; each word a prefix, all of them required.
        clauses.append(f"{_SEARCHABLE} @@ to_tsquery('simple', {arg(' & '.join(w + ':*' for w in words))})")
    elif query.text is not None:
        clauses.append("false")     # a search of only punctuation finds nothing
    return " AND ".join(clauses), args


# Must be the very expression the index of migration 0008 is built on.
_SEARCHABLE = "to_tsvector('simple', title || ' ' || description)"


def _matches(c: Complaint, q: ComplaintQuery, now: datetime) -> bool:
    late = c.due_at is not None and c.due_at < now and c.status in WITH_OPD
    return ((not q.statuses or c.status in q.statuses)
            and (q.opd_id is None or c.assigned_opd_id == q.opd_id)
            and (q.category is None or c.category == q.category)
            and (q.jurisdiction is None or c.jurisdiction == q.jurisdiction)
            and (q.submitted_from is None or c.submitted_at >= q.submitted_from)
            and (q.submitted_to is None or c.submitted_at < q.submitted_to)
            and (q.overdue is None or late == q.overdue)
            and (not q.public or not c.confidential)
            and (not q.tracking_numbers or c.tracking_number in q.tracking_numbers)
            and (q.kecamatan is None or (c.location is not None and c.location.kecamatan is not None
                                         and c.location.kecamatan.lower() == q.kecamatan.lower()))
            and (q.text is None or (bool(search_words(q.text))
                                    and matches_words(search_words(q.text), c.title, c.description))))
