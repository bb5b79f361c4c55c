"""What operators and OPD staff read: open clocks, alerts and per-OPD figures, straight from
sla's tables. Read-only: the handlers and the firing loop write these tables, and the watch API
(`sla.watch_api`) only asks questions of them, through the `SlaQueries` protocol, so its routes
are tested on the in-memory twin and the SQL on real PostgreSQL against the same expectations.

Statuses of an open clock (running or paused): `breached` once `breached_at` is set, `at_risk`
once a warning set `at_risk_since` (and not breached), `on_track` otherwise."""

from __future__ import annotations

import base64
import binascii
import json
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

import asyncpg

OPEN_STATES = ("running", "paused")
STATUSES = ("on_track", "at_risk", "breached")
OPD_CLOCKS = ("first_response", "resolution")        # the clocks an OPD itself answers for
ALERT_COLUMNS = ("id", "type", "clock_id", "complaint_id", "tracking_number", "jurisdiction",
                 "opd_id", "kind", "due_at", "level", "threshold", "occurred_at", "payload")
CLOCK_COLUMNS = ("clock_id", "complaint_id", "tracking_number", "jurisdiction", "kind", "opd_id",
                 "started_at", "due_at", "state", "at_risk_since", "breached_at",
                 "escalation_level", "working_days", "policy_version")
FIGURE_COLUMNS = ("opd_id", "received", "first_response_median_hours", "first_response_p90_hours",
                  "answered", "answered_on_time", "on_time_share", "open_breaches",
                  "rating_average", "ratings")
STATUS_SQL = ("CASE WHEN breached_at IS NOT NULL THEN 'breached' "
              "WHEN at_risk_since IS NOT NULL THEN 'at_risk' ELSE 'on_track' END")
_STATUS_WHERE = {"breached": "breached_at IS NOT NULL",
                 "at_risk": "at_risk_since IS NOT NULL AND breached_at IS NULL",
                 "on_track": "at_risk_since IS NULL AND breached_at IS NULL"}


@dataclass(frozen=True)
class Scope:
    """Whose data (a jurisdiction; an OPD, forced for OPD staff) and narrower filters. `status`
    is on_track, at_risk or breached; None (or "open") means every open clock."""

    jurisdiction: str | None = None
    opd_id: str | None = None
    kind: str | None = None
    status: str | None = None
    due_before: datetime | None = None    # exclusive
    due_after: datetime | None = None     # inclusive
    tracking_number: str | None = None

    def __post_init__(self) -> None:
        if self.status == "open":
            object.__setattr__(self, "status", None)
        if self.status is not None and self.status not in STATUSES:
            raise ValueError(f"status must be open, {', '.join(STATUSES)}")


class BadCursor(ValueError):
    """A paging cursor this service did not give out."""


def encode_cursor(due_at: datetime, clock_id: Any) -> str:
    """Opaque to clients: the (due_at, clock_id) of the last item of a page."""
    raw = json.dumps([due_at.isoformat(), str(clock_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        due, clock_id = json.loads(raw)
        at = datetime.fromisoformat(due)
        if at.tzinfo is None:
            raise ValueError("naive")
        return at, uuid.UUID(str(clock_id))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadCursor("not a cursor of this listing") from exc


class SlaQueries(Protocol):
    async def open_clocks(self, scope: Scope, limit: int, cursor: str | None = None
                          ) -> tuple[list[dict], str | None]:
        """Open clocks in `scope`, earliest due first (the overdue lead), at most `limit`, and
        the cursor of the next page (None on the last)."""

    async def counts(self, scope: Scope) -> dict[str, int]:
        """Open clocks in `scope` (its status ignored) per status."""

    async def alerts_after(self, after: int, scope: Scope, limit: int = 100,
                           type_: str | None = None, newest_first: bool = False) -> list[dict]:
        """Alerts with id > `after` in `scope` (jurisdiction, OPD, kind), oldest first (or the
        newest `limit`, newest first)."""

    async def newest_alert_id(self) -> int:
        """The id of the newest alert, 0 when there is none."""

    async def figures(self, jurisdiction: str, start: datetime, end: datetime,
                      opd_id: str | None = None) -> list[dict]:
        """Per OPD over [start, end): the FIGURE_COLUMNS, sorted by OPD."""


# ------------------------------------------------------------------------------- PostgreSQL


def _where(scope: Scope, args: list) -> str:
    conditions = ["state IN ('running', 'paused')"]

    def add(sql: str, value: Any) -> None:
        args.append(value)
        conditions.append(sql.format(f"${len(args)}"))

    if scope.jurisdiction is not None:
        add("jurisdiction = {}", scope.jurisdiction)
    if scope.opd_id is not None:
        add("opd_id = {}", scope.opd_id)
    if scope.kind is not None:
        add("kind = {}", scope.kind)
    if scope.due_before is not None:
        add("due_at < {}", scope.due_before)
    if scope.due_after is not None:
        add("due_at >= {}", scope.due_after)
    if scope.tracking_number is not None:
        add("tracking_number = {}", scope.tracking_number)
    if scope.status is not None:
        conditions.append(_STATUS_WHERE[scope.status])
    return " AND ".join(conditions)


class PgSlaQueries:
    """The queries on sla's schema (the pool's search_path). Listing uses `clocks_open`, the
    alerts `alerts_scope`, the figures `clocks_figures`, `received_period`, `ratings_period`."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def open_clocks(self, scope: Scope, limit: int, cursor: str | None = None
                          ) -> tuple[list[dict], str | None]:
        args: list = []
        where = _where(scope, args)
        if cursor:
            due, clock_id = decode_cursor(cursor)
            args += [due, clock_id]
            where += f" AND (due_at, clock_id) > (${len(args) - 1}, ${len(args)})"
        args.append(limit + 1)
        rows = await self._pool.fetch(
            f"SELECT {', '.join(CLOCK_COLUMNS)}, {STATUS_SQL} AS status FROM clocks "
            f"WHERE {where} ORDER BY due_at, clock_id LIMIT ${len(args)}", *args)
        items = [dict(r) for r in rows[:limit]]
        more = len(rows) > limit
        return items, encode_cursor(items[-1]["due_at"], items[-1]["clock_id"]) if more else None

    async def counts(self, scope: Scope) -> dict[str, int]:
        args: list = []
        where = _where(replace(scope, status=None), args)
        filters = ", ".join(f"count(*) FILTER (WHERE {_STATUS_WHERE[s]}) AS {s}" for s in STATUSES)
        row = await self._pool.fetchrow(f"SELECT {filters} FROM clocks WHERE {where}", *args)
        return {s: row[s] for s in STATUSES}

    async def alerts_after(self, after: int, scope: Scope, limit: int = 100,
                           type_: str | None = None, newest_first: bool = False) -> list[dict]:
        args: list = [after]
        conditions = ["id > $1"]
        for column, value in (("jurisdiction", scope.jurisdiction), ("opd_id", scope.opd_id),
                              ("kind", scope.kind), ("type", type_)):
            if value is not None:
                args.append(value)
                conditions.append(f"{column} = ${len(args)}")
        args.append(limit)
        rows = await self._pool.fetch(
            f"SELECT {', '.join(ALERT_COLUMNS)} FROM alerts WHERE {' AND '.join(conditions)}"
            f" ORDER BY id{' DESC' if newest_first else ''} LIMIT ${len(args)}", *args)
        return [{**dict(r), "payload": _json_value(r["payload"])} for r in rows]

    async def newest_alert_id(self) -> int:
        return await self._pool.fetchval("SELECT coalesce(max(id), 0) FROM alerts")

    async def figures(self, jurisdiction: str, start: datetime, end: datetime,
                      opd_id: str | None = None) -> list[dict]:
        args = [jurisdiction, start, end, opd_id]
        opd = "opd_id IS NOT NULL AND ($4::text IS NULL OR opd_id = $4)"
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read",
                                                                  readonly=True):
            received = await conn.fetch(
                "SELECT opd_id, count(*) AS n FROM received WHERE jurisdiction = $1"
                f" AND disposed_at >= $2 AND disposed_at < $3 AND {opd} GROUP BY 1", *args)
            responses = await conn.fetch(
                "SELECT opd_id,"
                " percentile_cont(0.5) WITHIN GROUP (ORDER BY working_seconds_used)"
                "   FILTER (WHERE answered) / 3600 AS median_h,"
                " percentile_cont(0.9) WITHIN GROUP (ORDER BY working_seconds_used)"
                "   FILTER (WHERE answered) / 3600 AS p90_h,"
                " count(*) FILTER (WHERE outcome = 'met' AND answered) AS met,"
                " count(*) FILTER (WHERE outcome = 'late' AND answered) AS late,"
                " count(*) FILTER (WHERE state IN ('running', 'paused')"
                "                  AND breached_at IS NOT NULL) AS open_late"
                " FROM (SELECT *, state = 'stopped' AND outcome IN ('met', 'late')"
                "              AND working_seconds_used IS NOT NULL AS answered FROM clocks"
                "       WHERE jurisdiction = $1 AND kind = 'first_response'"
                f"        AND started_at >= $2 AND started_at < $3 AND {opd}) c GROUP BY 1",
                *args)
            breaches = await conn.fetch(
                "SELECT opd_id, count(*) AS n FROM clocks WHERE jurisdiction = $1"
                " AND state IN ('running', 'paused') AND breached_at IS NOT NULL"
                " AND kind = ANY($2::text[]) AND opd_id IS NOT NULL"
                " AND ($3::text IS NULL OR opd_id = $3) GROUP BY 1",
                jurisdiction, list(OPD_CLOCKS), opd_id)
            ratings = await conn.fetch(
                "SELECT opd_id, avg(rating)::float AS average, count(*) AS n FROM ratings"
                f" WHERE jurisdiction = $1 AND rated_at >= $2 AND rated_at < $3 AND {opd}"
                " GROUP BY 1", *args)
        table = _Figures()
        for r in received:
            table.row(r["opd_id"])["received"] = r["n"]
        for r in responses:
            table.responses(r["opd_id"], r["median_h"], r["p90_h"], r["met"], r["late"],
                            r["open_late"])
        for r in breaches:
            table.row(r["opd_id"])["open_breaches"] = r["n"]
        for r in ratings:
            table.ratings(r["opd_id"], r["average"], r["n"])
        return table.rows()


def _json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, (str, bytes)) else value


class _Figures:
    """One row per OPD, filled from each source, with the same rounding on both sides."""

    def __init__(self) -> None:
        self._rows: dict[str, dict] = {}

    def row(self, opd_id: str) -> dict:
        return self._rows.setdefault(opd_id, {
            "opd_id": opd_id, "received": 0, "first_response_median_hours": None,
            "first_response_p90_hours": None, "answered": 0, "answered_on_time": 0,
            "on_time_share": None, "open_breaches": 0, "rating_average": None, "ratings": 0})

    def responses(self, opd_id: str, median_h: float | None, p90_h: float | None, met: int,
                  late: int, open_late: int) -> None:
        x = self.row(opd_id)
        x["first_response_median_hours"] = _round(median_h, 2)
        x["first_response_p90_hours"] = _round(p90_h, 2)
        x["answered"], x["answered_on_time"] = met + late, met
        due = met + late + open_late
        x["on_time_share"] = round(met / due, 4) if due else None

    def ratings(self, opd_id: str, average: float | None, n: int) -> None:
        x = self.row(opd_id)
        x["rating_average"], x["ratings"] = _round(average, 2), n

    def rows(self) -> list[dict]:
        return [self._rows[k] for k in sorted(self._rows)]


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


# ------------------------------------------------------------------------------- in memory


def percentile_cont(values: Iterable[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the two nearest ranks."""
    ordered = sorted(values)
    if not ordered:
        return None
    at = fraction * (len(ordered) - 1)
    low, high = math.floor(at), math.ceil(at)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


@dataclass
class InMemorySlaQueries:
    """Twin of `PgSlaQueries` for unit tests: rows as the tables hold them (dicts with the
    columns' names), added with `add_clock`, `add_alert`, `add_received`, `add_rating`."""

    clocks: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    received: list[dict] = field(default_factory=list)
    rating_rows: list[dict] = field(default_factory=list)

    def add_clock(self, **columns: Any) -> dict:
        row = {"clock_id": uuid.uuid4(), "complaint_id": uuid.uuid4(), "tracking_number": "",
               "jurisdiction": "", "kind": "first_response", "opd_id": None,
               "policy_version": 0, "working_days": 5, "timezone": "Asia/Jakarta",
               "state": "running", "outcome": None, "stopped_at": None,
               "working_seconds_used": None, "at_risk_since": None, "breached_at": None,
               "escalation_level": None} | columns
        self.clocks.append(row)
        return row

    def add_alert(self, **columns: Any) -> dict:
        row = {"id": max((a["id"] for a in self.alerts), default=0) + 1, "level": None,
               "threshold": None, "opd_id": None, "payload": {}} | columns
        self.alerts.append(row)
        return row

    def add_received(self, complaint_id: uuid.UUID, opd_id: str, jurisdiction: str,
                     disposed_at: datetime) -> None:
        self.received.append({"complaint_id": complaint_id, "opd_id": opd_id,
                              "jurisdiction": jurisdiction, "disposed_at": disposed_at})

    def add_rating(self, complaint_id: uuid.UUID, opd_id: str | None, jurisdiction: str,
                   rating: int, rated_at: datetime) -> None:
        self.rating_rows.append({"complaint_id": complaint_id, "opd_id": opd_id,
                                 "jurisdiction": jurisdiction, "rating": rating,
                                 "rated_at": rated_at})

    def _open(self, scope: Scope) -> list[dict]:
        def fits(c: dict) -> bool:
            return (c["state"] in OPEN_STATES
                    and all(scope_value is None or c[name] == scope_value for name, scope_value in (
                        ("jurisdiction", scope.jurisdiction), ("opd_id", scope.opd_id),
                        ("kind", scope.kind), ("tracking_number", scope.tracking_number)))
                    and (scope.due_before is None or c["due_at"] < scope.due_before)
                    and (scope.due_after is None or c["due_at"] >= scope.due_after)
                    and (scope.status is None or _status(c) == scope.status))
        return sorted((c for c in self.clocks if fits(c)), key=lambda c: (c["due_at"], c["clock_id"]))

    async def open_clocks(self, scope: Scope, limit: int, cursor: str | None = None
                          ) -> tuple[list[dict], str | None]:
        rows = self._open(scope)
        if cursor:
            after = decode_cursor(cursor)
            rows = [c for c in rows if (c["due_at"], c["clock_id"]) > after]
        items = [{**{k: c[k] for k in CLOCK_COLUMNS}, "status": _status(c)} for c in rows[:limit]]
        more = len(rows) > limit
        return items, encode_cursor(items[-1]["due_at"], items[-1]["clock_id"]) if more else None

    async def counts(self, scope: Scope) -> dict[str, int]:
        found = [_status(c) for c in self._open(replace(scope, status=None))]
        return {s: found.count(s) for s in STATUSES}

    async def alerts_after(self, after: int, scope: Scope, limit: int = 100,
                           type_: str | None = None, newest_first: bool = False) -> list[dict]:
        rows = [a for a in sorted(self.alerts, key=lambda a: a["id"], reverse=newest_first)
                if a["id"] > after and all(
            value is None or a[name] == value for name, value in (
                ("jurisdiction", scope.jurisdiction), ("opd_id", scope.opd_id),
                ("kind", scope.kind), ("type", type_)))]
        return [{k: a.get(k) for k in ALERT_COLUMNS} for a in rows[:limit]]

    async def newest_alert_id(self) -> int:
        return max((a["id"] for a in self.alerts), default=0)

    async def figures(self, jurisdiction: str, start: datetime, end: datetime,
                      opd_id: str | None = None) -> list[dict]:
        def mine(row: dict) -> bool:
            return (row["jurisdiction"] == jurisdiction and row["opd_id"] is not None
                    and (opd_id is None or row["opd_id"] == opd_id))

        table = _Figures()
        for r in self.received:
            if mine(r) and start <= r["disposed_at"] < end:
                table.row(r["opd_id"])["received"] += 1
        starts: dict[str, list[dict]] = {}
        for c in self.clocks:
            if mine(c) and c["kind"] == "first_response" and start <= c["started_at"] < end:
                starts.setdefault(c["opd_id"], []).append(c)
        for opd, clocks in starts.items():
            answered = [c for c in clocks if c["state"] == "stopped"
                        and c["outcome"] in ("met", "late") and c["working_seconds_used"] is not None]
            hours = [c["working_seconds_used"] / 3600 for c in answered]
            table.responses(opd, percentile_cont(hours, 0.5), percentile_cont(hours, 0.9),
                            sum(c["outcome"] == "met" for c in answered),
                            sum(c["outcome"] == "late" for c in answered),
                            sum(c["state"] in OPEN_STATES and c["breached_at"] is not None
                                for c in clocks))
        for c in self.clocks:
            if (mine(c) and c["state"] in OPEN_STATES and c["breached_at"] is not None
                    and c["kind"] in OPD_CLOCKS):
                table.row(c["opd_id"])["open_breaches"] += 1
        rated: dict[str, list[int]] = {}
        for r in self.rating_rows:
            if mine(r) and start <= r["rated_at"] < end:
                rated.setdefault(r["opd_id"], []).append(r["rating"])
        for opd, ratings in rated.items():
            table.ratings(opd, sum(ratings) / len(ratings), len(ratings))
        return table.rows()


def _status(clock: dict) -> str:
    if clock["breached_at"] is not None:
        return "breached"
    return "at_risk" if clock["at_risk_since"] is not None else "on_track"
