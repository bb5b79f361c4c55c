"""Reads a consumer batch sends with its inbox claim, in the same statement.

Before its first handler a batch claims its event ids (the inbox) and reads, locked, what its
handlers will need of its complaints. Sent apart, that is one round trip for the claim and one
per read; on a co-located 2-core machine each costs more than the SQL in it. `PgInbox` sends
the claim and every `Read` as one statement: each read becomes an `ARRAY(...)` of its rows next
to the claimed ids, evaluated in order, so its locks are taken in the order its ORDER BY says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_PLACEHOLDER = re.compile(r"\$(\d+)")

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Read:
    """A SELECT with parameters `$1`..`$n` (it may lock: FOR UPDATE), their values, the names
    of the columns it returns, in order, and where its rows go: `take` gets them as mappings
    of those names."""

    sql: str
    args: tuple[Any, ...]
    columns: tuple[str, ...]
    take: Callable[[list[Row]], None]


def names(select_list: str) -> tuple[str, ...]:
    """The column names of a plain select list ("a, b, c"): a `Read`'s `columns`, from the
    same constant its SELECT is built from."""
    return tuple(name.strip() for name in select_list.split(","))


def shifted(sql: str, offset: int) -> str:
    """`sql` with each parameter `$n` renumbered `$(n + offset)`, to sit after others."""
    return _PLACEHOLDER.sub(lambda m: f"${int(m[1]) + offset}", sql)


def arrays_of(reads: Sequence[Read], first: int) -> tuple[str, list[Any]]:
    """The reads as select-list items `ARRAY(SELECT r FROM (<read>) r)`, their parameters
    numbered from `$first` on, and those parameters."""
    items: list[str] = []
    args: list[Any] = []
    for read in reads:
        items.append(f"ARRAY(SELECT r FROM ({shifted(read.sql, first - 1 + len(args))}) r)")
        args.extend(read.args)
    return ", ".join(items), args


def hand_over(read: Read, records: Sequence[Sequence[Any]]) -> None:
    """Rows that came back as anonymous records (tuples, in column order) to `read.take`."""
    read.take([dict(zip(read.columns, record)) for record in records])
