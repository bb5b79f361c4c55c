"""Operators' daily digest: breaches and escalations held for an operator who chose a digest
are folded, once a day at `digest_time` local, into one message per operator. The digest of a
(recipient, day) is recorded once (the `digests` table), so two replicas or a restart never
send it twice; its delivery then goes out like any other."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta, timezone
from itertools import groupby
from zoneinfo import ZoneInfo

from notify.domain.delivery import Delivery

_DIGESTS = uuid.UUID("3b1f8a52-9c0e-4d7b-8f61-2a5c7e9d4b10")
NO_COMPLAINT = uuid.UUID(int=0)


def last_cutoff(now: datetime, tz: str, at: time) -> datetime:
    """The latest digest time (local `at`) not after `now`, in UTC."""
    local = now.astimezone(ZoneInfo(tz))
    cut = local.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    if cut > local:
        cut -= timedelta(days=1)
    return cut.astimezone(timezone.utc)


def digest_for(recipient_id: uuid.UUID, jurisdiction: str | None, cutoff: datetime, tz: str,
               items: list[Delivery]) -> Delivery:
    day = cutoff.astimezone(ZoneInfo(tz)).date()
    digest_id = uuid.uuid5(_DIGESTS, f"{recipient_id}:{day.isoformat()}")
    return Delivery(
        id=digest_id, complaint_id=NO_COMPLAINT, recipient_id=recipient_id,
        about_event_id=digest_id, fact_at=cutoff, channel="pending", template="operator_digest",
        context={"day_start": (cutoff - timedelta(days=1)).isoformat(), "items": [
            {"kind": "breach" if i.template == "operator_sla_breached" else "escalation",
             "tracking_number": i.tracking_number, "opd_name": i.context.get("opd_name")
             or i.context.get("opd_id"), "clock": i.context.get("clock"),
             "due_at": i.context.get("due_at"), "level": i.context.get("level")}
            for i in items]},
        audience="operator", jurisdiction=jurisdiction, next_attempt_at=cutoff)


async def compose_digests(uow_factory: Callable, clock: Callable[[], datetime],
                          timezone_of: Callable[[str | None], str], at: time) -> int:
    """Fold what is held from before each recipient's last cutoff; returns digests made."""
    now = clock()
    made = 0
    async with uow_factory() as uow:
        held = await uow.deliveries.held(now)
        for recipient_id, group in groupby(held, key=lambda d: d.recipient_id):
            items = list(group)
            tz = timezone_of(items[0].jurisdiction)
            cutoff = last_cutoff(now, tz, at)
            due = [i for i in items if i.fact_at < cutoff]
            if not due:
                continue
            digest = digest_for(recipient_id, items[0].jurisdiction, cutoff, tz, due)
            if await uow.deliveries.digested(recipient_id, digest.fact_at.astimezone(ZoneInfo(tz)).date(),
                                             digest, [i.id for i in due]):
                made += 1
    return made
