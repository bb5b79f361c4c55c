"""What operators and OPD staff read: open clocks, alerts and per-OPD figures, straight from
sla's tables (read-only; the handlers and the firing loop write them)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

OPD_CLOCKS = ("first_response", "resolution")
STATUS_SQL = ("CASE WHEN breached_at IS NOT NULL THEN 'breached' "
              "WHEN at_risk_since IS NOT NULL THEN 'at_risk' ELSE 'on_track' END")


@dataclass(frozen=True)
class Scope:
    """Whose data: a jurisdiction, an OPD (forced for OPD staff), and narrower filters."""

    jurisdiction: str | None = None
    opd_id: str | None = None
    kind: str | None = None
    status: str | None = None            # on_track | at_risk | breached (open clocks)
    due_before: datetime | None = None
    due_after: datetime | None = None
    tracking_number: str | None = None


class BadCursor(ValueError):
    """A paging cursor this service did not give out."""


def encode_cursor(due_at: datetime, clock_id: Any) -> str:
    raw = json.dumps([due_at.isoformat(), str(clock_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        due, clock_id = json.loads(raw)
        return datetime.fromisoformat(due), str(clock_id)
    except (ValueError, TypeError) as exc:
        raise BadCursor("not a cursor of this listing") from exc


def _where(scope: Scope, args: list) -> str:
    conditions = ["state IN ('running', 'paused')"]

    def add(sql: str, value: Any) -> None:
        args.append(value)
        conditions.append(sql.format(f"${len(args)}"))

    if scope.jurisdiction:
        add("jurisdiction = {}", scope.jurisdiction)
    if scope.opd_id:
        add("opd_id = {}", scope.opd_id)
    if scope.kind:
        add("kind = {}", scope.kind)
    if scope.status:
        add(f"{STATUS_SQL} = {{}}", scope.status)
    if scope.due_before:
        add("due_at < {}", scope.due_before)
    if scope.due_after:
        add("due_at >= {}", scope.due_after)
    if scope.tracking_number:
        add("tracking_number = {}", scope.tracking_number)
    return " AND ".join(conditions)


class PgSlaQueries:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def open_clocks(self, scope: Scope, limit: int, cursor: str | None
                          ) -> tuple[list[dict], str | None]:
        """Open clocks, most urgent (earliest due, overdue first) first; keyset paging."""
        args: list = []
        where = _where(scope, args)
        if cursor:
            due, clock_id = decode_cursor(cursor)
            args += [due, clock_id]
            where += f" AND (due_at, clock_id) > (${len(args) - 1}, ${len(args)}::uuid)"
        args.append(limit + 1)
        rows = await self._pool.fetch(
            "SELECT clock_id, complaint_id, tracking_number, jurisdiction, kind, opd_id, "
            "started_at, due_at, state, breached_at, at_risk_since, escalation_level, "
            f"working_days, policy_version, {STATUS_SQL} AS status FROM clocks WHERE {where} "
            f"ORDER BY due_at, clock_id LIMIT ${len(args)}", *args)
        items = [dict(r) for r in rows[:limit]]
        more = len(rows) > limit
        return items, encode_cursor(items[-1]["due_at"], items[-1]["clock_id"]) if more else None

    async def counts(self, scope: Scope) -> dict[str, int]:
        args: list = []
        where = _where(Scope(**{**scope.__dict__, "status": None}), args)
        rows = await self._pool.fetch(
            f"SELECT {STATUS_SQL} AS status, count(*) AS n FROM clocks WHERE {where} GROUP BY 1",
            *args)
        found = {r["status"]: r["n"] for r in rows}
        return {s: found.get(s, 0) for s in ("on_track", "at_risk", "breached")}

    async def alerts_after(self, after: int, scope: Scope, limit: int = 100,
                           type_: str | None = None) -> list[dict]:
        args: list = [after]
        conditions = ["id > $1"]
        for column, value in (("jurisdiction", scope.jurisdiction), ("opd_id", scope.opd_id),
                              ("type", type_), ("kind", scope.kind)):
            if value:
                args.append(value)
                conditions.append(f"{column} = ${len(args)}")
        args.append(limit)
        rows = await self._pool.fetch(
            "SELECT id, type, clock_id, complaint_id, tracking_number, jurisdiction, opd_id, kind,"
            " due_at, level, threshold, occurred_at, payload FROM alerts WHERE "
            + " AND ".join(conditions) + f" ORDER BY id LIMIT ${len(args)}", *args)
        return [{**dict(r), "payload": json.loads(r["payload"])} for r in rows]

    async def newest_alert_id(self) -> int:
        return await self._pool.fetchval("SELECT coalesce(max(id), 0) FROM alerts")

    async def figures(self, jurisdiction: str, start: datetime, end: datetime,
                      opd_id: str | None = None) -> list[dict]:
        """Per OPD over [start, end): received, first response in working hours (median,
        p90), share answered on time, open breaches now, citizens' average rating."""
        args = [jurisdiction, start, end, opd_id]
        opd = "($4::text IS NULL OR opd_id = $4)"
        received = await self._pool.fetch(
            f"SELECT opd_id, count(DISTINCT complaint_id) AS n FROM received WHERE jurisdiction = $1"
            f" AND disposed_at >= $2 AND disposed_at < $3 AND {opd} GROUP BY 1", *args)
        responses = await self._pool.fetch(
            "SELECT opd_id,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY working_seconds_used)"
            "   FILTER (WHERE outcome IN ('met', 'late')) / 3600 AS median_h,"
            " percentile_cont(0.9) WITHIN GROUP (ORDER BY working_seconds_used)"
            "   FILTER (WHERE outcome IN ('met', 'late')) / 3600 AS p90_h,"
            " count(*) FILTER (WHERE outcome = 'met') AS met,"
            " count(*) FILTER (WHERE outcome = 'late') AS late,"
            " count(*) FILTER (WHERE state IN ('running', 'paused') AND breached_at IS NOT NULL)"
            "   AS open_late"
            " FROM clocks WHERE jurisdiction = $1 AND kind = 'first_response'"
            f" AND started_at >= $2 AND started_at < $3 AND {opd} AND opd_id IS NOT NULL GROUP BY 1",
            *args)
        breaches = await self._pool.fetch(
            "SELECT opd_id, count(*) AS n FROM clocks WHERE jurisdiction = $1"
            " AND state IN ('running', 'paused') AND breached_at IS NOT NULL"
            " AND kind = ANY($2::text[]) AND ($3::text IS NULL OR opd_id = $3)"
            " AND opd_id IS NOT NULL GROUP BY 1", jurisdiction, list(OPD_CLOCKS), opd_id)
        ratings = await self._pool.fetch(
            "SELECT opd_id, avg(rating)::float AS average, count(*) AS n FROM ratings"
            f" WHERE jurisdiction = $1 AND rated_at >= $2 AND rated_at < $3 AND {opd}"
            " AND opd_id IS NOT NULL GROUP BY 1", *args)
        table: dict[str, dict] = {}

        def row(opd_id: str) -> dict:
            return table.setdefault(opd_id, {
                "opd_id": opd_id, "received": 0, "first_response_median_hours": None,
                "first_response_p90_hours": None, "answered": 0, "answered_on_time": 0,
                "on_time_share": None, "open_breaches": 0, "rating_average": None,
                "ratings": 0})

        for r in received:
            row(r["opd_id"])["received"] = r["n"]
        for r in responses:
            x = row(r["opd_id"])
            x["first_response_median_hours"] = _round(r["median_h"])
            x["first_response_p90_hours"] = _round(r["p90_h"])
            x["answered"] = r["met"] + r["late"]
            x["answered_on_time"] = r["met"]
            due = r["met"] + r["late"] + r["open_late"]
            x["on_time_share"] = round(r["met"] / due, 4) if due else None
        for r in breaches:
            row(r["opd_id"])["open_breaches"] = r["n"]
        for r in ratings:
            x = row(r["opd_id"])
            x["rating_average"], x["ratings"] = round(r["average"], 2), r["n"]
        return [table[k] for k in sorted(table)]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
