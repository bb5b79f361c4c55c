"""Live SLA alerts. The page lists the latest alerts this person may see (sla scopes them by the
token: an OPD its own, an operator their jurisdiction's), and every console page carries a tray
that `console.js` fills from `/alerts/stream`: sla's Server-Sent Events, opened with the
person's token and passed through byte for byte, so ids, pings and resumption are sla's own.
(A browser's EventSource cannot send the token itself, and the cookie is never handed to a
script.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from console.adapters.platform import SignInAgain, Unavailable
from console.pages.common import render
from console.session import Session, current_session

router = APIRouter()
SignedIn = Annotated[Session, Depends(current_session)]
RECENT = 50


@router.get("/alerts")
async def alerts(request: Request, session: SignedIn) -> Response:
    latest = await request.app.state.platform.alerts(session.token, limit=RECENT, newest=True)
    items = latest["items"]
    return await render(request, "alerts.html", session, title_key="alerts.title",
                        alerts=items, stream_after=items[0]["id"] if items else 0)


@router.get("/alerts/stream")
async def stream(request: Request, session: SignedIn,
                 after: Annotated[int | None, Query(ge=0)] = None) -> Response:
    """`after`: the newest alert the page already lists. A browser that has seen no event yet
    is first told where it starts (an `id:` line with no data sets EventSource's last event id
    without firing an event): the newest alert in its scope, or `after`. So when the stream
    breaks (sla restarting) the reconnect resumes there, and nothing fired meanwhile is lost."""
    platform = request.app.state.platform
    last = request.headers.get("last-event-id")
    start: int | None = None
    try:
        if not (last and last.strip().isdigit()):
            start = after if after is not None else await _newest_id(platform, session.token)
        opened = platform.alert_stream(session.token, last, start)
        chunks = await opened.__aenter__()
    except SignInAgain:
        return Response(status_code=401)
    except Unavailable:
        # `retry` tells EventSource when to come back; 204 would make it stop for good.
        return Response("retry: 3000\n\n", media_type="text/event-stream", status_code=200)
    head = b"retry: 3000\n" + (f"id: {start}\n".encode() if start is not None else b"") + b"\n"

    async def relay() -> AsyncIterator[bytes]:
        try:
            yield head
            async for chunk in chunks:
                if await request.is_disconnected():
                    return
                yield chunk
        except Exception:   # sla went away mid-stream: the browser reconnects with its last id
            return
        finally:
            await opened.__aexit__(None, None, None)

    return StreamingResponse(relay(), media_type="text/event-stream", headers={
        "Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _newest_id(platform, token: str) -> int:
    latest = await platform.alerts(token, limit=1, newest=True)
    return latest["items"][0]["id"] if latest["items"] else 0
