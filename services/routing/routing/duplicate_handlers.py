"""Duplicate candidates, as events arrive: a submitted complaint is compared with the recent
ones of its jurisdiction that share an LSH band with it (`domain.duplicates`), the pairs that
pass the rule are kept for operators and told as `DuplicateCandidatesFoundV1` through the outbox,
in the same transaction as routing's own handling of the event; intake's `ComplaintMerged`
marks the pair merged.

Entry points: `detect_duplicates` (the lead calls it from `Router.on_complaint_submitted` with the
classifier's category) and `mark_merged`. `subscribe` runs the latter after routing's own
handlers (`EventConsumer.also`).

Replays: a complaint already kept is never compared again, so a redelivered or replayed
submission tells nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from backbone.consumer import EventConsumer
from contracts import taxonomy as tx
from contracts.events import (
    ComplaintMergedV1, ComplaintSubmittedV1, DuplicateCandidate, DuplicateCandidatesFoundV1,
)
from routing.adapters.decisions import RoutingUnitOfWork
from routing.adapters.duplicates import Indexed, Pair
from routing.domain.duplicates import DuplicateRules, compare, fingerprint, vicinity

Clock = Callable[[], datetime]


class DuplicateSettings(Protocol):
    duplicate_jaccard: float
    duplicate_radius_m: float
    duplicate_window_days: float
    duplicate_max_compared: int
    duplicate_max_candidates: int


def rules_of(settings: DuplicateSettings) -> DuplicateRules:
    return DuplicateRules(jaccard=settings.duplicate_jaccard, radius_m=settings.duplicate_radius_m,
                          window_days=settings.duplicate_window_days)


def main_category(code: str | None) -> str | None:
    """The taxonomy's main category of `code` (a subcategory or a main code); None for free
    text or nothing: a category routing does not know cannot rule a pair in or out."""
    if not code:
        return None
    taxonomy = tx.load()
    found = taxonomy.subcategory(code)
    if found is not None:
        return found.main_code
    return code if taxonomy.category(code) is not None else None


async def detect_duplicates(event: ComplaintSubmittedV1, uow: RoutingUnitOfWork,
                            settings: DuplicateSettings, clock: Clock,
                            category: str | None = None) -> None:
    """Keep the complaint's fingerprint and tell the earlier complaints it may duplicate.
    `category`: the best one known (the classifier's subcategory or main code); without it,
    the submitted one."""
    rules = rules_of(settings)
    where = event.location
    new = fingerprint(event.title, event.description, event.occurred_at,
                      main_category(category or event.category),
                      where.lat if where else None, where.lon if where else None,
                      where.kecamatan if where else None)
    this = Indexed(event.complaint_id, event.tracking_number, event.jurisdiction, new)
    earlier = await uow.duplicates.keep_and_find(
        this, event.occurred_at - timedelta(days=rules.window_days),
        limit=settings.duplicate_max_compared, near=vicinity(new, rules))
    if earlier is None:
        return              # compared when it was first kept: a replay tells nothing again
    now = clock()
    pairs = [_pair(this, old, match.similarity, match.distance_m, now)
             for old in earlier if (match := compare(new, old.fingerprint, rules)) is not None]
    # The most similar, then the newest: what an operator needs to merge a copy, not every copy.
    pairs.sort(key=lambda p: (-p.similarity, -p.candidate_submitted_at.timestamp()))
    stored = await uow.duplicates.add(pairs[:settings.duplicate_max_candidates])
    for complaint_id in dict.fromkeys(p.complaint_id for p in stored):
        found = sorted((p for p in stored if p.complaint_id == complaint_id),
                       key=lambda p: -p.similarity)
        await uow.outbox.record(DuplicateCandidatesFoundV1(
            complaint_id=complaint_id, occurred_at=now, tracking_number=found[0].tracking_number,
            jurisdiction=event.jurisdiction,
            candidates=[DuplicateCandidate(complaint_id=p.candidate_id,
                                           tracking_number=p.candidate_tracking_number,
                                           similarity=p.similarity, distance_m=p.distance_m,
                                           submitted_at=p.candidate_submitted_at)
                        for p in found]))


def _pair(this: Indexed, other: Indexed, similarity: float, distance_m: float | None,
          now: datetime) -> Pair:
    """The later-submitted of the two is the complaint, the earlier its candidate, whichever
    routing read first: two submissions on different partitions reach it in either order."""
    later, earlier = ((other, this) if other.fingerprint.submitted_at > this.fingerprint.submitted_at
                      else (this, other))
    return Pair(this.jurisdiction, later.complaint_id, later.tracking_number,
                earlier.complaint_id, earlier.tracking_number, earlier.fingerprint.submitted_at,
                similarity, distance_m, now)


async def mark_merged(event: ComplaintMergedV1, uow: RoutingUnitOfWork) -> None:
    """An operator merged the complaint into another: a pair of the two is settled."""
    await uow.duplicates.merged(event.complaint_id, event.into_complaint_id,
                                event.actor or "operator", event.occurred_at)


def subscribe(consumer: EventConsumer) -> None:
    """After routing's own handlers: a merge settles the pair. (New complaints reach
    `detect_duplicates` through the Router, with what the classifier read.)"""
    consumer.also(ComplaintMergedV1, mark_merged)
