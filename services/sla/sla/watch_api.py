"""What operators and OPD staff watch, over HTTP: open clocks (on track, at risk, breached),
the alerts as a list and as a live Server-Sent Events stream, and per-OPD figures for a period.

Every route needs a staff token. An operator sees every jurisdiction, or only the one its token
names; OPD staff see their own OPD only (naming another is a 403). The stream accepts the token
as `?access_token=` as well (RFC 6750 section 2.3), because a browser's EventSource cannot send
an Authorization header; it is never logged.

The stream: one poller per process reads new alerts (woken at once by this process's firing
loop, every `poll_interval` for the alerts other replicas fired) and fans them out to every
connected client, each filtered by its scope. Each event's id is the alert's id, so a client
that reconnects with `Last-Event-ID` gets what it missed first.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import logging
from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from sse_starlette.sse import EventSourceResponse

from backbone.problems import ProblemError
from backbone.staff_auth import InvalidStaffToken, StaffIdentity, staff_caller
from contracts.lifecycle import Role
from sla.adapters.queries import BadCursor, PgSlaQueries, Scope

log = logging.getLogger(__name__)
router = APIRouter(tags=["watch"])
KINDS = ("verification", "first_response", "resolution", "auto_close", "reopen_window")
MAX_PERIOD = timedelta(days=400)


class AlertBroadcaster:
    """One poller of the alerts table per process, fanning out to the stream's clients."""

    def __init__(self, poll_interval: float = 0.5, queue_size: int = 1000) -> None:
        self._poll_interval = poll_interval
        self._queue_size = queue_size
        self._clients: dict[asyncio.Queue, Scope] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._queries: PgSlaQueries | None = None
        self.last_id = 0
        self._primed = False

    def start(self, queries: PgSlaQueries) -> None:
        self._queries = queries
        self._task = asyncio.create_task(self._run(), name="sla:alert-broadcaster")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def wake(self) -> None:
        self._wake.set()

    def subscribe(self, scope: Scope) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(self._queue_size)
        self._clients[queue] = scope
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._clients.pop(queue, None)

    def subscribed(self, queue: asyncio.Queue) -> bool:
        return queue in self._clients

    async def _run(self) -> None:
        assert self._queries is not None
        while True:
            try:
                if not self._primed:   # from now on: older alerts are the listing's
                    self.last_id = await self._queries.newest_alert_id()
                    self._primed = True
                for alert in await self._queries.alerts_after(self.last_id, Scope(), limit=500):
                    self.last_id = alert["id"]
                    for queue, scope in list(self._clients.items()):
                        if _in_scope(alert, scope):
                            try:
                                queue.put_nowait(alert)
                            except asyncio.QueueFull:   # a client that cannot keep up reconnects
                                self.unsubscribe(queue)
            except Exception as exc:   # database away: try again next turn
                log.warning("alert stream poll failed", extra={"error": type(exc).__name__})
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_interval)
            self._wake.clear()


def _in_scope(alert: dict, scope: Scope) -> bool:
    return ((scope.jurisdiction is None or alert["jurisdiction"] == scope.jurisdiction)
            and (scope.opd_id is None or alert["opd_id"] == scope.opd_id)
            and (scope.kind is None or alert["kind"] == scope.kind))


def _queries(request: Request) -> PgSlaQueries:
    return request.app.state.sla_queries


async def _staff(request: Request) -> StaffIdentity:
    return await staff_caller(request)


Queries = Annotated[PgSlaQueries, Depends(_queries)]
Staff = Annotated[StaffIdentity, Depends(_staff)]


def _scoped(who: StaffIdentity, jurisdiction: str | None, opd_id: str | None) -> tuple[str | None, str | None]:
    """The jurisdiction and OPD the caller may see, given what it asked for."""
    if who.jurisdiction is not None:
        if jurisdiction not in (None, who.jurisdiction):
            raise HTTPException(403, f"Your token is for jurisdiction {who.jurisdiction} only")
        jurisdiction = who.jurisdiction
    if who.role is Role.OPD:
        if opd_id not in (None, who.opd_id):
            raise HTTPException(403, f"Your token is for OPD {who.opd_id} only")
        opd_id = who.opd_id
    elif who.role is not Role.OPERATOR:
        raise HTTPException(403, "Operators and OPD staff only")
    return jurisdiction, opd_id


def _bad(field: str, message: str) -> ProblemError:
    return ProblemError(400, "bad-request", "A parameter is not valid", f"{field}: {message}",
                        errors=[{"field": field, "message": message}])


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if not isinstance(value, (int, float, str, bool, type(None), dict, list)) else value


@router.get("/v1/clocks", summary="Open deadline clocks, most urgent first (staff)")
async def list_clocks(
    who: Staff, queries: Queries,
    jurisdiction: Annotated[str | None, Query(max_length=60)] = None,
    opd_id: Annotated[str | None, Query(max_length=80)] = None,
    kind: Annotated[str | None, Query(max_length=30)] = None,
    status: Annotated[str | None, Query(description="on_track, at_risk or breached")] = None,
    due_before: datetime | None = None, due_after: datetime | None = None,
    tracking_number: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict:
    jurisdiction, opd_id = _scoped(who, jurisdiction, opd_id)
    if kind is not None and kind not in KINDS:
        raise _bad("kind", f"one of {', '.join(KINDS)}")
    if status is not None and status not in ("on_track", "at_risk", "breached"):
        raise _bad("status", "on_track, at_risk or breached")
    for name, value in (("due_before", due_before), ("due_after", due_after)):
        if value is not None and value.tzinfo is None:
            raise _bad(name, "give the offset (e.g. +07:00 or Z)")
    scope = Scope(jurisdiction, opd_id, kind, status, due_before, due_after, tracking_number)
    try:
        items, next_cursor = await queries.open_clocks(scope, limit, cursor)
    except BadCursor:
        raise _bad("cursor", "not a cursor this listing gave out") from None
    return {"items": [{k: _json(v) for k, v in item.items()} for item in items],
            "next_cursor": next_cursor, "counts": await queries.counts(scope)}


@router.get("/v1/alerts", summary="Alerts after an id, oldest first (staff)")
async def list_alerts(
    who: Staff, queries: Queries, after: Annotated[int, Query(ge=0)] = 0,
    jurisdiction: Annotated[str | None, Query(max_length=60)] = None,
    opd_id: Annotated[str | None, Query(max_length=80)] = None,
    type: Annotated[str | None, Query(description="warning, breach or escalation")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict:
    jurisdiction, opd_id = _scoped(who, jurisdiction, opd_id)
    if type is not None and type not in ("warning", "breach", "escalation"):
        raise _bad("type", "warning, breach or escalation")
    rows = await queries.alerts_after(after, Scope(jurisdiction, opd_id), limit, type)
    return {"items": [_alert(r) for r in rows], "last_id": rows[-1]["id"] if rows else after}


def _alert(row: dict) -> dict:
    return {"id": row["id"], "type": row["type"], "level": row["level"],
            "threshold": row["threshold"], **row["payload"]}


@router.get("/v1/alerts/stream", summary="Live alerts as Server-Sent Events (staff)")
async def stream_alerts(
    request: Request, queries: Queries,
    jurisdiction: Annotated[str | None, Query(max_length=60)] = None,
    opd_id: Annotated[str | None, Query(max_length=80)] = None,
    after: Annotated[int | None, Query(ge=0)] = None,
    access_token: Annotated[str | None, Query(max_length=8192)] = None,
) -> EventSourceResponse:
    if access_token and not request.headers.get("authorization"):
        try:
            who = await request.app.state.staff_tokens.verify(access_token)
        except InvalidStaffToken as exc:
            raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
    else:
        who = await staff_caller(request)
    jurisdiction, opd_id = _scoped(who, jurisdiction, opd_id)
    scope = Scope(jurisdiction, opd_id)
    broadcaster: AlertBroadcaster = request.app.state.alert_broadcaster
    last_event = request.headers.get("last-event-id")
    start = after
    if last_event is not None:
        try:
            start = int(last_event)
        except ValueError:
            raise _bad("Last-Event-ID", "the id of an event this stream sent") from None
    queue = broadcaster.subscribe(scope)      # before the catch-up, so nothing falls between

    async def events():
        sent = start if start is not None else broadcaster.last_id
        try:
            if start is not None:
                while True:
                    missed = await queries.alerts_after(sent, scope, 500)
                    for row in missed:
                        sent = row["id"]
                        yield _event(row)
                    if len(missed) < 500:
                        break
            while True:
                try:
                    row = await asyncio.wait_for(queue.get(), 5)
                except asyncio.TimeoutError:
                    if not broadcaster.subscribed(queue) and queue.empty():
                        return   # dropped for falling behind: the client resumes by Last-Event-ID
                    continue
                if row["id"] > sent:
                    sent = row["id"]
                    yield _event(row)
        finally:
            broadcaster.unsubscribe(queue)

    return EventSourceResponse(events(), ping=15, headers={"Cache-Control": "no-store"})


def _event(row: dict) -> dict:
    return {"event": row["type"], "id": str(row["id"]), "data": json.dumps(_alert(row))}


@router.get("/v1/figures/opds", summary="Per-OPD figures over a period, JSON or CSV (staff)")
async def opd_figures(
    request: Request, who: Staff, queries: Queries,
    jurisdiction: Annotated[str | None, Query(max_length=60)] = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Annotated[date | None, Query(description="Exclusive")] = None,
    opd_id: Annotated[str | None, Query(max_length=80)] = None,
    format: Annotated[str | None, Query(pattern="^(json|csv)$")] = None,
) -> Any:
    jurisdiction, opd_id = _scoped(who, jurisdiction, opd_id)
    if jurisdiction is None:
        raise _bad("jurisdiction", "say which jurisdiction")
    to = to or datetime.now(timezone.utc).date() + timedelta(days=1)
    from_ = from_ or to - timedelta(days=30)
    if from_ >= to or to - from_ > MAX_PERIOD:
        raise _bad("from", f"before `to`, at most {MAX_PERIOD.days} days earlier")
    cal = await request.app.state.calendars.calendar(jurisdiction)
    start = datetime.combine(from_, time(0), tzinfo=cal.zone)
    end = datetime.combine(to, time(0), tzinfo=cal.zone)
    rows = await queries.figures(jurisdiction, start, end, opd_id)
    wants_csv = format == "csv" or (format is None and "text/csv" in request.headers.get("accept", ""))
    if wants_csv:
        out = io.StringIO()
        columns = ["opd_id", "received", "first_response_median_hours", "first_response_p90_hours",
                   "answered", "answered_on_time", "on_time_share", "open_breaches",
                   "rating_average", "ratings"]
        writer = csv.DictWriter(out, columns)
        writer.writeheader()
        writer.writerows(rows)
        name = f"sla-{jurisdiction}-{from_}-{to}.csv"
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return {"jurisdiction": jurisdiction, "from": from_.isoformat(), "to": to.isoformat(),
            "timezone": cal.timezone, "opds": rows}
