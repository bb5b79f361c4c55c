"""routing's per-OPD feeds: each lifecycle fact from intake, filtered by `domain.opd_feed`, is
recorded for the topic of the OPD it concerns (`complaints.opd.<jurisdiction>.<opd_id>`), in the
same transaction as the inbox claim, through the outbox like every other event.

These handlers run after routing's own for the same event (`EventConsumer.also`), so the text
routing keeps is already up to date when an OPD's view is built from it.

Topics: an OPD's topic is created (with its partitions) when the OPD is configured
(`OpdFeed.create_topics`, called at start and by a configuration change that adds OPDs) and, as
a safety net, before the first record for it is staged: the relay quarantines a record whose
topic is missing. That first creation runs inside the handler's transaction; it happens once
per topic and process.

Deadlines: sla's clock facts (a first-response or resolution deadline set or moved) and alerts
(warning, breach, escalation) reach the OPD holding the complaint as `OpdDeadlineNoticeV1`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from backbone.consumer import EventConsumer
from contracts import events as ev
from contracts.topics import Topic, opd_topic
from routing.adapters.decisions import RoutingUnitOfWork
from routing.domain.complaint_text import RoutedComplaint
from routing.domain.opd_feed import (
    SLA_NOTICE_EVENTS, about_an_opd_deadline, deadline_notice, feed_of, holder_after,
    refusal_destination,
)

log = logging.getLogger(__name__)


class Topics(Protocol):
    async def ensure(self, *topics: Topic) -> None: ...


@dataclass(frozen=True)
class OpdFeed:
    topics: Topics
    # (jurisdiction, opd_id) -> its topic: the configured one when the jurisdiction file names
    # one, else `complaints.opd.<jurisdiction>.<opd_id>`.
    topic_of: Callable[[str, str], Topic] = opd_topic

    async def create_topics(self, opds: Iterable[tuple[str, str]]) -> None:
        """Every configured OPD's topic, given as (jurisdiction, opd_id) pairs: at start, and
        when a configuration change adds OPDs."""
        await self.topics.ensure(*(self.topic_of(j, o) for j, o in opds))

    async def on_submitted(self, event: ev.ComplaintSubmittedV1, uow: RoutingUnitOfWork) -> None:
        """Keep what an OPD's view needs besides the text (routing's own handler kept the text)."""
        kept = await uow.complaints.get(event.complaint_id) or RoutedComplaint(
            event.complaint_id, event.tracking_number, event.jurisdiction, event.language,
            event.title, event.description)
        await uow.complaints.keep(kept.with_view(event.category, event.location, event.anonymous,
                                                 event.confidential))

    async def on_transition(self, event: ev.ComplaintTransitionV1, uow: RoutingUnitOfWork) -> None:
        kept = await uow.complaints.get(event.complaint_id) or RoutedComplaint.without_text(
            event.complaint_id, event.tracking_number, event.jurisdiction)
        for record in feed_of(event, kept):
            await self._publish(record, record.jurisdiction, record.opd_id, uow)
        holder = holder_after(event)
        if holder != kept.with_opd:
            await uow.complaints.keep(kept.held_by(holder))

    async def on_refused(self, event: ev.OpdActionRefusedV1, uow: RoutingUnitOfWork) -> None:
        """Intake refused an OPD system's action: that OPD hears why on its own feed."""
        where = refusal_destination(event)
        if where is None:
            log.info("refused OPD action told to no OPD (token did not verify)",
                     extra={"action": event.action, "reason": event.reason})
            return
        await self._publish(event, where.jurisdiction, where.opd_id, uow)

    async def on_sla(self, event: ev.SlaClockEvent, uow: RoutingUnitOfWork) -> None:
        """sla set, moved, warned of, or saw a breach of this OPD's deadline."""
        if not about_an_opd_deadline(event):
            return
        notice = deadline_notice(event, await uow.complaints.get(event.complaint_id))
        if notice is not None:
            await self._publish(notice, notice.jurisdiction, notice.opd_id, uow)

    async def _publish(self, event: ev.Event, jurisdiction: str, opd_id: str,
                       uow: RoutingUnitOfWork) -> None:
        topic = self.topic_of(jurisdiction, opd_id)
        await self.topics.ensure(topic)
        await uow.outbox.record(event, topic)


def subscribe(consumer: EventConsumer, feed: OpdFeed) -> None:
    """After routing's own handlers (see `routing.app.subscribe`), on the same events."""
    consumer.also(ev.ComplaintSubmittedV1, feed.on_submitted)
    for model in ev.LIFECYCLE_EVENTS:
        consumer.also(model, feed.on_transition)
    consumer.also(ev.OpdActionRefusedV1, feed.on_refused)
    for model in SLA_NOTICE_EVENTS:
        consumer.on(model, feed.on_sla)
