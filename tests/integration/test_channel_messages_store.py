"""intake's channel message store: the in-memory twin and PostgreSQL keep the same contract
(claim once per adapter message id, forget a claim rolled back, remember senders as hashes),
and on PostgreSQL two copies of one message handled at once make one complaint."""

import asyncio
import uuid
from datetime import datetime, timezone

import pytest

from backbone.pii import PiiCipher
from contracts.events import ChannelMessageHandledV1, ChannelMessageReceivedV1
from intake import channels, handlers
from intake.adapters.uow import IntakeInMemoryUnitOfWork, IntakePgUnitOfWork
from intake.domain.channel_messages import SenderHashes
from intake.domain.tokens import AccessTokens
from tests.integration.helpers import twin_or_postgres

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
CIPHER = PiiCipher(PiiCipher.new_key())
DEPS = channels.ChannelDeps(
    submit=handlers.SubmitDeps(clock=lambda: T0, cipher=CIPHER, tokens=AccessTokens(b"k" * 32),
                               default_jurisdiction="kota-contoh"),
    senders=SenderHashes(b"s" * 32))
ROAD = "Jalan berlubang besar di Jl. Merdeka depan SDN 3, sudah dua minggu. Mohon diperbaiki."


@pytest.fixture(params=["memory", "postgres"])
async def make_uow(request, pool, prefix):
    return await twin_or_postgres(request.param, pool, prefix, "intake", IntakeInMemoryUnitOfWork,
                                  lambda schema: IntakePgUnitOfWork(pool, CIPHER, prefix, schema))


async def test_a_message_is_claimed_once_per_adapter(make_uow):
    async with make_uow() as uow:
        assert await uow.channel_messages.claim("sms-1708", "m-1", "sms", T0)
        assert not await uow.channel_messages.claim("sms-1708", "m-1", "sms", T0), "within one"
        assert await uow.channel_messages.claim("wa-bot", "m-1", "whatsapp", T0)
        await uow.channel_messages.settle("sms-1708", "m-1", "refused", None)
    async with make_uow() as uow:
        assert not await uow.channel_messages.claim("sms-1708", "m-1", "sms", T0)
        assert await uow.channel_messages.outcome("sms-1708", "m-1") == ("refused", None)
        assert await uow.channel_messages.outcome("sms-1708", "m-2") is None


async def test_a_claim_rolled_back_is_forgotten(make_uow):
    with pytest.raises(RuntimeError):
        async with make_uow() as uow:
            assert await uow.channel_messages.claim("sms-1708", "m-9", "sms", T0)
            raise RuntimeError("the effect failed")
    async with make_uow() as uow:
        assert await uow.channel_messages.claim("sms-1708", "m-9", "sms", T0)


async def test_the_handler_remembers_the_sender_by_hash_and_the_outcome(make_uow):
    message = ChannelMessageReceivedV1(adapter="sms-1708", message_id="m-5", channel="sms",
                                       sender="+6281234567890", text=ROAD, received_at=T0)
    async with make_uow() as uow:
        await channels.on_channel_message(message, uow, DEPS)
    async with make_uow() as uow:
        outcome, complaint_id = await uow.channel_messages.outcome("sms-1708", "m-5")
        complaint = await uow.complaints.get(complaint_id)
        assert outcome == "created" and complaint.channel == "sms"
        assert complaint.reporter.phone == "+6281234567890", "the phone is the (sealed) contact"
        sender = DEPS.senders.of("sms", "+6281234567890")
        assert await uow.channel_messages.is_sender(complaint_id, sender)
        assert not await uow.channel_messages.is_sender(complaint_id, DEPS.senders.of("sms", "+62857"))


async def test_two_copies_at_once_make_one_complaint_on_postgres(pool, prefix):
    make_uow = await twin_or_postgres("postgres", pool, prefix, "intake", IntakeInMemoryUnitOfWork,
                                      lambda schema: IntakePgUnitOfWork(pool, CIPHER, prefix, schema))
    message = ChannelMessageReceivedV1(adapter="sms-1708", message_id=uuid.uuid4().hex,
                                       channel="sms", sender="+6281234567890", text=ROAD,
                                       received_at=T0)

    async def handle() -> None:
        async with make_uow() as uow:
            await channels.on_channel_message(message, uow, DEPS)

    await asyncio.gather(handle(), handle())
    schema = prefix.rstrip(".")
    async with pool.acquire() as conn:
        assert await conn.fetchval(f'SELECT count(*) FROM "{schema}".complaints') == 1
        assert await conn.fetchval(
            f"SELECT count(*) FROM \"{schema}\".outbox WHERE headers::text LIKE $1",
            f"%{ChannelMessageHandledV1.event_type}%") == 1, "one answer"
        assert await conn.fetchval(
            f"SELECT count(*) FROM \"{schema}\".outbox"
            " WHERE convert_from(value, 'UTF8') LIKE '%6281234567890%' OR convert_from(key, 'UTF8') LIKE '%6281234567890%'"
        ) == 0, "no phone in clear in the outbox"
