"""notify's outcomes in intake: what the citizen was sent (and on which channel, after which
fallback) and what could not reach them go on their timeline; staff and front-end messages do
not; the submission names the front end and passes the access token's hash, never the token."""

import hashlib
import uuid

import pytest

from contracts.events import (
    CitizenContactProvidedV2, ComplaintSubmittedV1, NotificationFailedV1, NotificationSentV1,
)
from intake import handlers
from intake.adapters.uow import IntakeInMemoryUnitOfWork
from tests.unit.test_intake_handlers import NOW, submit

pytestmark = pytest.mark.unit


async def test_sent_and_failed_messages_are_on_the_citizens_timeline_staff_ones_are_not():
    uow = IntakeInMemoryUnitOfWork()
    complaint = (await submit(uow)).complaint
    common = dict(complaint_id=complaint.id, occurred_at=NOW, tracking_number=complaint.tracking_number,
                  about_event_id=uuid.uuid4())
    for event in (
            NotificationSentV1(channel="sms", template="complaint_assigned", language="id",
                               fell_back_from=["whatsapp"], **common),
            NotificationSentV1(channel="email", template="opd_complaint_assigned", language="id",
                               audience="opd", **common),
            NotificationFailedV1(template="complaint_followed_up", delivery_id=uuid.uuid4(),
                                 channels_tried=["whatsapp", "sms"], attempts=6,
                                 error_class="exhausted", reason="sms: HTTP 503", **common)):
        async with uow:
            handler = (handlers.on_notification_failed if isinstance(event, NotificationFailedV1)
                       else handlers.on_notification_sent)
            await handler(event, uow)
    history = (await uow.complaints.get(complaint.id)).history
    told = [(h.action, h.details) for h in history if h.action.startswith("citizen_notif")]
    assert told == [
        ("citizen_notified", {"channel": "sms", "template": "complaint_assigned",
                              "fell_back_from": ["whatsapp"]}),
        ("citizen_notification_failed", {"channels": ["whatsapp", "sms"], "error_class": "exhausted",
                                         "template": "complaint_followed_up"})]
    notes = [h.note for h in history if h.action.startswith("citizen_notif")]
    assert "whatsapp" in notes[0] and "tidak dapat dikirim" in notes[1]


async def test_the_submission_names_the_front_end_and_passes_only_the_tokens_hash():
    uow = IntakeInMemoryUnitOfWork()
    receipt = await submit(uow)
    submitted = next(e for e in uow.outbox.events if isinstance(e, ComplaintSubmittedV1))
    contact = next(e for e in uow.outbox.events if isinstance(e, CitizenContactProvidedV2))
    assert submitted.frontend is None
    assert contact.access_token_hash == hashlib.sha256(receipt.access_token.encode()).hexdigest()
    assert receipt.access_token not in contact.model_dump_json()
