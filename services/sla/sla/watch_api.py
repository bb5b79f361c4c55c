"""What operators and OPD staff watch, over HTTP: open clocks (on track, at risk, breached),
the alerts as a list and as a live Server-Sent Events stream, and per-OPD figures for a period.

Every route needs a staff token. An operator sees every jurisdiction, or only the one its token
names; OPD staff see their own OPD only (naming another is a 403). The stream accepts the token
as `?access_token=` as well (RFC 6750 section 2.3), because a browser's EventSource cannot send
an Authorization header; it is never logged (and the service runs without an access log).

The stream: one poller per process (`AlertBroadcaster`) reads new alerts, woken at once by this
process's firing loop and every `poll_interval` for what other replicas fired, and fans them out
to every connected client, each filtered by its scope. Each event's id is the alert's id, so a
client that reconnects with `Last-Event-ID` first gets what it missed, from the table.

Alert ids come from a sequence, and two workers' transactions may commit out of order: the
poller hands out alerts in id order only, waiting up to `gap_grace` seconds for a missing id
(an uncommitted transaction) before it skips it (a rolled-back one), so a client's
Last-Event-ID never jumps over an alert that appears later.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import logging
from collections import deque
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta, timezone
from time import monotonic
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from sse_starlette.sse import EventSourceResponse

from backbone.problems import ProblemError
from backbone.staff_auth import InvalidStaffToken, StaffIdentity, staff_caller
from contracts.lifecycle import Role
from sla.adapters.queries import FIGURE_COLUMNS, STATUSES, BadCursor, Scope, SlaQueries

log = logging.getLogger(__name__)
router = APIRouter(tags=["watch"])
KINDS = ("verification", "first_response", "resolution", "auto_close", "reopen_window")
ALERT_TYPES = ("warning", "breach", "escalation")
MAX_PERIOD = timedelta(days=400)
CATCH_UP_PAGE = 500
PING_SECONDS = 15
READY_TIMEOUT = 10.0


class Subscription:
    """One stream client: the alerts the broadcaster handed it, bounded. A client that falls
    more than `limit` alerts behind is switched to reading the table up to `horizon` (so it
    loses nothing and holds no more memory than the limit)."""

    def __init__(self, scope: Scope, type_: str | None, horizon: int, limit: int) -> None:
        self.scope, self.type_ = scope, type_
        self.horizon = horizon         # alerts up to this id are the table's to give
        self._items: deque[dict] = deque()
        self._limit = limit
        self._signal = asyncio.Event()
        self._behind = False
        self._closed = False

    def wants(self, alert: dict) -> bool:
        s = self.scope
        return all(value is None or alert[name] == value for name, value in (
            ("jurisdiction", s.jurisdiction), ("opd_id", s.opd_id), ("kind", s.kind),
            ("type", self.type_)))

    def offer(self, alert: dict) -> None:
        if self._behind or len(self._items) >= self._limit:
            self._items.clear()
            self._behind, self.horizon = True, alert["id"]
        else:
            self._items.append(alert)
        self._signal.set()

    def close(self) -> None:
        self._closed = True
        self._signal.set()

    async def next(self) -> dict | int | None:
        """The next alert; or an id up to which to read the table (fell behind); or None once
        the broadcaster stopped."""
        while True:
            if self._behind:
                self._behind = False
                return self.horizon
            if self._items:
                return self._items.popleft()
            if self._closed:
                return None
            self._signal.clear()
            await self._signal.wait()


class AlertBroadcaster:
    """One poller of the alerts table per process, fanning out to the stream's clients."""

    def __init__(self, poll_interval: float = 0.5, *, client_buffer: int = 1000,
                 gap_grace: float = 2.0) -> None:
        self._poll_interval = poll_interval
        self._client_buffer = client_buffer
        self._gap_grace = gap_grace
        self._clients: dict[Subscription, None] = {}
        self._wake = asyncio.Event()
        self._ready = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._queries: SlaQueries | None = None
        self._gap_since: float | None = None
        self.last_id = 0               # every alert up to here was handed out (or predates us)

    def start(self, queries: SlaQueries) -> None:
        self._queries = queries
        self._task = asyncio.create_task(self._run(), name="sla:alert-broadcaster")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        for client in list(self._clients):
            client.close()
        self._clients.clear()

    def wake(self) -> None:
        """Look now (the firing loop calls this after committing alerts)."""
        self._wake.set()

    @property
    def clients(self) -> int:
        return len(self._clients)

    async def subscribe(self, scope: Scope, type_: str | None = None) -> Subscription:
        """A client, from the newest alert handed out (waits until the poller has read where
        the table stands; TimeoutError when the database stays away)."""
        await asyncio.wait_for(self._ready.wait(), READY_TIMEOUT)
        client = Subscription(scope, type_, self.last_id, self._client_buffer)
        self._clients[client] = None
        return client

    def unsubscribe(self, client: Subscription) -> None:
        self._clients.pop(client, None)

    async def _run(self) -> None:
        assert self._queries is not None
        while True:
            self._wake.clear()        # a wake during the poll polls again at once
            try:
                await self._poll(self._queries)
            except Exception as exc:   # database away: try again next turn
                log.warning("alert stream poll failed", extra={"error": type(exc).__name__})
            interval = self._poll_interval if self._gap_since is None else \
                min(self._poll_interval, 0.1)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)

    async def _poll(self, queries: SlaQueries) -> None:
        if not self._ready.is_set():   # older alerts are the table's to give (catch-up, listing)
            self.last_id = await queries.newest_alert_id()
            self._ready.set()
        while True:
            alerts = await queries.alerts_after(self.last_id, Scope(), limit=CATCH_UP_PAGE)
            for alert in alerts:
                if alert["id"] != self.last_id + 1 and not self._gap_waited():
                    return             # an id not committed yet: hand out nothing past it
                self._gap_since = None
                self.last_id = alert["id"]
                for client in list(self._clients):
                    if client.wants(alert):
                        client.offer(alert)
            if len(alerts) < CATCH_UP_PAGE:
                return

    def _gap_waited(self) -> bool:
        now = monotonic()
        if self._gap_since is None:
            self._gap_since = now
        return now - self._gap_since >= self._gap_grace


def _queries(request: Request) -> SlaQueries:
    return request.app.state.sla_queries


async def _staff(request: Request) -> StaffIdentity:
    return await staff_caller(request)


Queries = Annotated[SlaQueries, Depends(_queries)]
Staff = Annotated[StaffIdentity, Depends(_staff)]
Jurisdiction = Annotated[str | None, Query(max_length=60)]
OpdId = Annotated[str | None, Query(max_length=80)]


def _scoped(who: StaffIdentity, jurisdiction: str | None, opd_id: str | None
            ) -> tuple[str | None, str | None]:
    """The jurisdiction and OPD the caller may see, given what it asked for."""
    if who.role not in (Role.OPERATOR, Role.OPD):
        raise HTTPException(403, "Operators and OPD staff only")
    if who.jurisdiction is not None:
        if jurisdiction not in (None, who.jurisdiction):
            raise HTTPException(403, f"Your token is for jurisdiction {who.jurisdiction} only")
        jurisdiction = who.jurisdiction
    if who.role is Role.OPD:
        if opd_id not in (None, who.opd_id):
            raise HTTPException(403, f"Your token is for OPD {who.opd_id} only")
        opd_id = who.opd_id
    return jurisdiction, opd_id


def _bad(field: str, message: str) -> ProblemError:
    return ProblemError(400, "bad-request", "A parameter is not valid", f"{field}: {message}",
                        errors=[{"field": field, "message": message}])


def _one_of(field: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise _bad(field, f"one of {', '.join(allowed)}")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (int, float, str, bool, type(None), dict, list)):
        return value
    return str(value)


@router.get("/v1/clocks", summary="Open deadline clocks, most urgent first (staff)")
async def list_clocks(
    who: Staff, queries: Queries, jurisdiction: Jurisdiction = None, opd_id: OpdId = None,
    kind: Annotated[str | None, Query(max_length=30)] = None,
    status: Annotated[str | None, Query(
        max_length=20, description="open (default), on_track, at_risk or breached")] = None,
    due_before: Annotated[datetime | None, Query(description="Exclusive, with offset")] = None,
    due_after: Annotated[datetime | None, Query(description="Inclusive, with offset")] = None,
    tracking_number: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> dict:
    jurisdiction, opd_id = _scoped(who, jurisdiction, opd_id)
    _one_of("kind", kind, KINDS)
    _one_of("status", status, ("open", *STATUSES))
    for name, value in (("due_before", due_before), ("due_after", due_after)):
        if value is not None and value.tzinfo is None:
            raise _bad(name, "give the offset (e.g. +07:00 or Z)")
    scope = Scope(jurisdiction, opd_id, kind, status, due_before, due_after, tracking_number)
    try:
        items, next_cursor = await queries.open_clocks(scope, limit, cursor)
    except BadCursor:
        raise _bad("cursor", "not a cursor this listing gave out") from None
    return {"items": [{k: _plain(v) for k, v in item.items()} for item in items],
            "next_cursor": next_cursor, "counts": await queries.counts(scope)}


@router.get("/v1/alerts", summary="Alerts after an id, oldest first (staff)")
async def list_alerts(
    who: Staff, queries: Queries, after: Annotated[int, Query(ge=0)] = 0,
    jurisdiction: Jurisdiction = None, opd_id: OpdId = None,
    kind: Annotated[str | None, Query(max_length=30)] = None,
    type: Annotated[str | None, Query(max_length=20,
                                      description="warning, breach or escalation")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    order: Annotated[str, Query(pattern="^(oldest|newest)$", description=(
        "oldest: after `after`, oldest first (to follow); newest: the latest `limit`, newest "
        "first (a screen's recent list)"))] = "oldest",
) -> dict:
    jurisdiction, opd_id = _scoped(who, jurisdiction, opd_id)
    _one_of("kind", kind, KINDS)
    _one_of("type", type, ALERT_TYPES)
    newest = order == "newest"
    rows = await queries.alerts_after(after, Scope(jurisdiction, opd_id, kind), limit, type,
                                      newest_first=newest)
    last_id = (rows[0] if newest else rows[-1])["id"] if rows else after
    return {"items": [_alert(r) for r in rows], "last_id": last_id}


def _alert(row: dict) -> dict:
    """The event's own JSON, with the alert's id, type and level (warnings: threshold)."""
    return {**row["payload"], "id": row["id"], "type": row["type"], "level": row["level"],
            "threshold": row["threshold"]}


def _event(row: dict) -> dict:
    return {"event": row["type"], "id": str(row["id"]), "data": json.dumps(_alert(row), default=str)}


async def _stream_caller(request: Request, access_token: str | None) -> StaffIdentity:
    """The header, or else the query parameter (EventSource cannot send headers)."""
    if request.headers.get("authorization") or not access_token:
        return await staff_caller(request)
    try:
        return await request.app.state.staff_tokens.verify(access_token)
    except InvalidStaffToken as exc:
        raise HTTPException(401, str(exc), headers={
            "WWW-Authenticate": 'Bearer error="invalid_token"'}) from None


@router.get("/v1/alerts/stream", summary="Live alerts as Server-Sent Events (staff)")
async def stream_alerts(
    request: Request, queries: Queries, jurisdiction: Jurisdiction = None, opd_id: OpdId = None,
    kind: Annotated[str | None, Query(max_length=30)] = None,
    type: Annotated[str | None, Query(max_length=20)] = None,
    after: Annotated[int | None, Query(ge=0, description="Or the Last-Event-ID header")] = None,
    access_token: Annotated[str | None, Query(max_length=8192,
                                              description="RFC 6750 2.3, for EventSource")] = None,
) -> EventSourceResponse:
    who = await _stream_caller(request, access_token)
    jurisdiction, opd_id = _scoped(who, jurisdiction, opd_id)
    _one_of("kind", kind, KINDS)
    _one_of("type", type, ALERT_TYPES)
    start = after
    last_event = request.headers.get("last-event-id")
    if last_event:
        if not last_event.strip().isdigit():
            raise _bad("Last-Event-ID", "the id of an event this stream sent")
        start = int(last_event)
    scope = Scope(jurisdiction, opd_id, kind)
    broadcaster: AlertBroadcaster = request.app.state.alert_broadcaster
    try:
        client = await broadcaster.subscribe(scope, type)
    except asyncio.TimeoutError:
        raise HTTPException(503, "The alert stream is not ready yet",
                            headers={"Retry-After": "2"}) from None

    async def table(sent: int, upto: int) -> AsyncIterator[dict]:
        while sent < upto:
            rows = [r for r in await queries.alerts_after(sent, scope, CATCH_UP_PAGE, type)
                    if r["id"] <= upto]
            for row in rows:
                yield row
            if not rows:
                return
            sent = rows[-1]["id"]

    async def events() -> AsyncIterator[dict]:
        sent = client.horizon if start is None else start
        try:
            while True:
                upto = client.horizon
                if sent < upto:               # resumed, or fell behind: what the table holds
                    async for row in table(sent, upto):
                        sent = row["id"]
                        yield _event(row)
                    sent = max(sent, upto)
                item = await client.next()
                if item is None:
                    return                     # shutting down: the client reconnects elsewhere
                if isinstance(item, dict) and item["id"] > sent:
                    sent = item["id"]
                    yield _event(item)
        finally:
            broadcaster.unsubscribe(client)

    return EventSourceResponse(events(), ping=PING_SECONDS,
                               headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/v1/figures/opds", summary="Per-OPD figures over a period, JSON or CSV (staff)")
async def opd_figures(
    request: Request, who: Staff, queries: Queries, jurisdiction: Jurisdiction = None,
    from_: Annotated[date | None, Query(alias="from", description="First day (local)")] = None,
    to: Annotated[date | None, Query(description="Day after the last (exclusive)")] = None,
    opd_id: OpdId = None,
    format: Annotated[str | None, Query(max_length=10, description="json or csv")] = None,
) -> Any:
    jurisdiction, opd_id = _scoped(who, jurisdiction, opd_id)
    if jurisdiction is None:
        raise _bad("jurisdiction", "say which jurisdiction")
    _one_of("format", format, ("json", "csv"))
    to = to or datetime.now(timezone.utc).date() + timedelta(days=1)
    from_ = from_ or to - timedelta(days=30)
    if from_ >= to:
        raise _bad("from", "a day before `to` (which is exclusive)")
    if to - from_ > MAX_PERIOD:
        raise _bad("from", f"at most {MAX_PERIOD.days} days before `to`")
    cal = await request.app.state.calendars.calendar(jurisdiction)   # days are local days
    start = datetime.combine(from_, time(0), tzinfo=cal.zone)
    end = datetime.combine(to, time(0), tzinfo=cal.zone)
    rows = await queries.figures(jurisdiction, start, end, opd_id)
    wants_csv = format == "csv" or (format is None and "text/csv" in request.headers.get("accept", ""))
    if wants_csv:
        out = io.StringIO()
        writer = csv.DictWriter(out, FIGURE_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        name = f"sla-{jurisdiction}-{from_}-{to}.csv"
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return {"jurisdiction": jurisdiction, "from": from_.isoformat(), "to": to.isoformat(),
            "timezone": cal.timezone, "opds": rows}
