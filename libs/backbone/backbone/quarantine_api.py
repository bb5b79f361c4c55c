"""Operators' view of the outbox quarantine, on every service: the rows Kafka can never take
(too large, no such topic, refused) with why, and their release once the cause is fixed.

The relay sets such a row aside so the rows behind it flow on (`backbone.relay`); without this
an operator could see the count (`lapor_outbox_quarantined_rows`) but only reach the rows with
SQL. Released rows go back to the relay at once and are published in id order among what is
pending; a row Kafka still refuses is quarantined again, with the new reason. A released
event arrives after any later events of its complaint that were published meanwhile: each
consumer applies it once (its inbox) and intake drops a decision the complaint has moved past,
but a message to the citizen may come late, which is why an operator releases by hand.

The row's payload is never shown: intake's contact records carry sealed personal data, and an
operator needs the event's type and the reason, not its body.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from backbone.staff_auth import StaffIdentity, operator_caller

# headers: a JSON list of [name, value] pairs, as the relay sends them.
_COLUMNS = ("id, event_id, topic, (SELECT h->>1 FROM jsonb_array_elements(headers) h"
            " WHERE h->>0 = 'ce_type' LIMIT 1) AS event_type, created_at, quarantined_at,"
            " quarantine_reason, octet_length(value) AS size_bytes")


class QuarantinedRow(BaseModel):
    id: int
    event_id: str
    topic: str
    event_type: str | None = Field(description="The CloudEvents type, when the row has one")
    created_at: datetime
    quarantined_at: datetime | None = Field(description="None once released")
    quarantine_reason: str | None
    size_bytes: int


class Quarantine(BaseModel):
    rows: list[QuarantinedRow]
    total: int = Field(description="Every quarantined row, not only those listed")


class Released(BaseModel):
    released: list[QuarantinedRow]


async def _operator(request: Request) -> StaffIdentity:
    return await operator_caller(request)


Operator = Annotated[StaffIdentity, Depends(_operator)]


def quarantine_router() -> APIRouter:
    router = APIRouter(prefix="/v1/outbox/quarantine", tags=["operations"])

    @router.get("", response_model=Quarantine,
                summary="Operators: outbox rows Kafka could never take, with why (oldest first)")
    async def listed(request: Request, _: Operator,
                     topic: Annotated[str | None, Query(max_length=249)] = None,
                     limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Quarantine:
        rows = await request.app.state.runtime.pool.fetch(
            f"SELECT {_COLUMNS}, count(*) OVER () AS total FROM outbox"
            " WHERE quarantined_at IS NOT NULL AND ($1::text IS NULL OR topic = $1)"
            " ORDER BY id LIMIT $2", topic, limit)
        return Quarantine(rows=[QuarantinedRow(**dict(r)) for r in rows],
                          total=rows[0]["total"] if rows else 0)

    @router.post("/{row_id}/release", response_model=Released,
                 summary="Operators: give one quarantined row back to the relay (404 if it is "
                         "not quarantined)")
    async def release_one(row_id: int, request: Request, _: Operator) -> Released:
        rows = await _release(request, "id = $1", row_id)
        if not rows:
            raise HTTPException(404, f"Outbox row {row_id} is not quarantined")
        return Released(released=rows)

    @router.post("/release", response_model=Released,
                 summary="Operators: give every quarantined row of one topic back to the relay "
                         "(after creating the topic or raising its size limit)")
    async def release_topic(request: Request, _: Operator,
                            topic: Annotated[str, Query(min_length=1, max_length=249)]) -> Released:
        return Released(released=await _release(request, "topic = $1", topic))

    return router


async def _release(request: Request, where: str, value: Any) -> list[QuarantinedRow]:
    """A database that is away raises a transient error: `backbone.problems` answers 503."""
    runtime = request.app.state.runtime
    rows = await runtime.pool.fetch(
        f"UPDATE outbox SET quarantined_at = NULL WHERE quarantined_at IS NOT NULL AND {where}"
        f" RETURNING {_COLUMNS}", value)
    if rows and runtime.relay is not None:
        runtime.relay.wake()
    return sorted((QuarantinedRow(**dict(r)) for r in rows), key=lambda r: r.id)
