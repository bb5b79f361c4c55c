"""notify's answers to channel messages: wording in Bahasa Indonesia and English, within one
SMS, and the outbound command recorded in the outbox with the recipient opened from the seal."""

import uuid
from datetime import datetime, timezone

import pytest

from backbone.consumer import ConsumedRecord, EventConsumer, Outcome
from backbone.pii import PiiCipher
from contracts.envelope import to_record, wrap
from contracts.events import ChannelMessageHandledV1, SendChannelMessageV1
from notify import handlers
from notify.adapters.uow import NotifyInMemoryUnitOfWork
from notify.domain.channel_texts import (
    SMS_LIMIT, answer_id, fit_sms, gsm7, render_answer, sms_length,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
CIPHER = PiiCipher(PiiCipher.new_key())
SITI = "+6281234567890"
LONGEST = "123456789012"
REASONS = ("too_short", "too_long", "empty_reply", "not_found", "not_awaiting_reply")


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("outcome, reason", [
    ("created", None), ("replied", None), ("info_added", None),
    *(("refused", reason) for reason in REASONS),
])
def test_every_answer_fits_one_gsm7_sms(outcome, reason, language):
    text = render_answer(outcome, language, {"tracking_number": LONGEST, "reason": reason})
    assert gsm7(text) == text and "\n" not in text
    assert sms_length(text) <= SMS_LIMIT, (len(text), text)
    assert not text.endswith("..."), "the template itself fits: nothing was cut"
    if outcome != "refused" or reason in ("empty_reply", "not_found", "not_awaiting_reply"):
        assert LONGEST in text


def test_answers_in_each_language():
    ctx = {"tracking_number": "1000123", "reason": None}
    assert render_answer("created", "id", ctx).startswith(
        "LAPOR: Pengaduan Anda diterima dengan nomor 1000123.")
    assert "#1000123" in render_answer("created", "id", ctx)
    assert render_answer("created", "en", ctx).startswith(
        "LAPOR: Your complaint was received as number 1000123.")
    assert render_answer("created", "jv", ctx) == render_answer("created", "id", ctx)
    too_short = render_answer("refused", "id", {"tracking_number": None, "reason": "too_short"})
    assert "terlalu singkat" in too_short
    assert "No complaint 1 was found" in render_answer(
        "refused", "en", {"tracking_number": "1", "reason": "not_found"})


def test_texts_are_held_to_one_sms():
    assert gsm7("“Jalan” rusak… – ok ✓") == '"Jalan" rusak... - ok '
    assert sms_length("{[]}") == 8
    cut = fit_sms("kata " * 60)
    assert sms_length(cut) <= SMS_LIMIT and cut.endswith("...")


def handled(outcome="created", tracking_number="1000123", reason=None, message_id="sms-42"):
    return ChannelMessageHandledV1(
        complaint_id=uuid.uuid4() if outcome != "refused" else None, occurred_at=NOW,
        adapter="sms-1708", channel="sms", in_reply_to=message_id, outcome=outcome,
        tracking_number=tracking_number, reason=reason, language="id",
        sealed_sender=CIPHER.seal({"channel": "sms", "address": SITI}).decode(),
        sender_ref="ab" * 32)


async def test_the_answer_goes_to_the_outbound_topic_for_the_adapter():
    uow = NotifyInMemoryUnitOfWork()
    async with uow:
        await handlers.channel_answers(CIPHER)(handled(), uow)
    ((record, envelope),) = uow.outbox.committed
    command = envelope.event
    assert isinstance(command, SendChannelMessageV1)
    assert record.topic == "complaints.channels.outbound" and record.key == b"ab" * 32
    assert (command.recipient, command.adapter, command.channel, command.in_reply_to) == (
        SITI, "sms-1708", "sms", "sms-42")
    assert command.tracking_number == "1000123" and "1000123" in command.text
    assert command.template == "channel_created"
    assert command.message_id == answer_id("sms-1708", "sms-42"), "stable: adapters dedupe on it"


async def test_a_redelivered_fact_answers_once():
    uow = NotifyInMemoryUnitOfWork()
    consumer = EventConsumer("notify", lambda: uow, dead_letters=None, dead_letter_topic="dlq")
    consumer.on(ChannelMessageHandledV1, handlers.channel_answers(CIPHER))
    key, value, headers = to_record(wrap(handled("refused", "9999999", "not_found"), "/intake"))
    record = ConsumedRecord("complaints.intake.contacts", 0, 7, key, value, headers)
    assert await consumer.process(record) is Outcome.APPLIED
    assert await consumer.process(record) is Outcome.DUPLICATE
    (command,) = uow.outbox.events
    assert "9999999 tidak ditemukan" in command.text and command.complaint_id is None
