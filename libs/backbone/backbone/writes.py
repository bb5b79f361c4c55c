"""Writes held back until a commit, sent as one statement.

A unit of work's repositories keep what they change and write it just before the commit (a
consumer batch about thirty complaints writes each table once). Sent one by one, a batch that
touches three tables and the outbox still spends four round trips on writing, each a client
write, a server wake-up and a reply: on a co-located 2-core machine that, not the SQL, is the
cost. `together` joins them into one statement; a unit of work that sent nothing before its
commit then needs no BEGIN and no COMMIT either, because PostgreSQL runs a lone statement
atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backbone.reads import shifted


@dataclass(frozen=True)
class Write:
    """One INSERT, UPDATE or DELETE with parameters `$1`..`$n`, and their values. It carries
    no WITH clause of its own (PostgreSQL allows a data-modifying WITH query only at the top
    level, and `together` puts each write in one)."""

    sql: str
    args: tuple[Any, ...]


def together(writes: Sequence[Write]) -> Write:
    """`writes` as one statement: `WITH w0 AS (...), w1 AS (...) SELECT 1`. PostgreSQL runs
    every data-modifying WITH query to completion, read or not, all against the statement's one
    snapshot, with constraint checks at the end of the whole statement. So the parts must not
    need each other's rows: no part may read, update or conflict with a row another part
    writes (a repository that inserts a row and updates it in the same transaction writes it
    once, as it stands at the commit)."""
    if not writes:
        raise ValueError("nothing to write")
    if len(writes) == 1:
        return writes[0]
    parts: list[str] = []
    args: list[Any] = []
    for n, write in enumerate(writes):
        parts.append(f"w{n} AS ({shifted(write.sql, len(args))})")
        args.extend(write.args)
    return Write("WITH " + ", ".join(parts) + " SELECT 1", tuple(args))
