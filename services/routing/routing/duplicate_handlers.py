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
from routing.adapters.duplicates import Indexed, Lookup, Pair
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
    the submitted one. Done for the unit of work's whole batch at once, just before its commit
    (`DuplicateBatch`): one statement for all its new complaints, not one each, which had set
    routing's pace (4 ms awaited per complaint under load)."""
    uow.before_commit("duplicates", lambda: DuplicateBatch(uow, settings, clock)).add(
        event, category)


class DuplicateBatch:
    """A unit of work's new complaints, compared at its end: kept and searched in one round trip
    (`keep_and_find_many`, each finding the batch's earlier ones too, as if handled one by
    one), the pairs stored in one, and told per complaint in submission order."""

    def __init__(self, uow: RoutingUnitOfWork, settings: DuplicateSettings, clock: Clock) -> None:
        self._uow, self._settings, self._clock = uow, settings, clock
        self._rules = rules_of(settings)
        self._items: list[tuple[ComplaintSubmittedV1, Lookup]] = []

    def add(self, event: ComplaintSubmittedV1, category: str | None) -> None:
        where = event.location
        new = fingerprint(event.title, event.description, event.occurred_at,
                          main_category(category or event.category),
                          where.lat if where else None, where.lon if where else None,
                          where.kecamatan if where else None)
        self._items.append((event, Lookup(
            Indexed(event.complaint_id, event.tracking_number, event.jurisdiction, new),
            event.occurred_at - timedelta(days=self._rules.window_days),
            self._settings.duplicate_max_compared, vicinity(new, self._rules))))

    async def run(self) -> None:
        items, self._items = self._items, []
        if not items:
            return
        found = await self._uow.duplicates.keep_and_find_many([lk for _, lk in items])
        now = self._clock()
        chosen: list[tuple[ComplaintSubmittedV1, list[Pair]]] = []
        for (event, lookup), earlier in zip(items, found):
            if earlier is None:
                continue        # compared when it was first kept: a replay tells nothing again
            this, new = lookup.item, lookup.item.fingerprint
            pairs = [_pair(this, old, match.similarity, match.distance_m, now)
                     for old in earlier
                     if (match := compare(new, old.fingerprint, self._rules)) is not None]
            # The most similar, then the newest: what an operator needs to merge a copy.
            pairs.sort(key=lambda p: (-p.similarity, -p.candidate_submitted_at.timestamp()))
            chosen.append((event, pairs[:self._settings.duplicate_max_candidates]))
        stored = await self._uow.duplicates.add([p for _, pairs in chosen for p in pairs])
        kept = {(p.complaint_id, p.candidate_id): p for p in stored}
        for event, pairs in chosen:
            mine = [kept[k] for p in pairs if (k := (p.complaint_id, p.candidate_id)) in kept]
            for complaint_id in dict.fromkeys(p.complaint_id for p in mine):
                told = sorted((p for p in mine if p.complaint_id == complaint_id),
                              key=lambda p: -p.similarity)
                await self._uow.outbox.record(DuplicateCandidatesFoundV1(
                    complaint_id=complaint_id, occurred_at=now,
                    tracking_number=told[0].tracking_number, jurisdiction=event.jurisdiction,
                    candidates=[DuplicateCandidate(complaint_id=p.candidate_id,
                                                   tracking_number=p.candidate_tracking_number,
                                                   similarity=p.similarity, distance_m=p.distance_m,
                                                   submitted_at=p.candidate_submitted_at)
                                for p in told]))


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
