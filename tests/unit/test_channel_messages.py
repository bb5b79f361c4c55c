"""Channel messages in intake: reading informal texts (tracking numbers, titles), deciding what a
message does, and the handler with in-memory twins (new complaint, reply, added information,
refusals, a repeated adapter message id, another sender)."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from backbone.pii import PiiCipher
from contracts.envelope import EnvelopeError, from_record, to_record, wrap
from contracts.events import (
    ChannelMessageHandledV1, ChannelMessageReceivedV1, CitizenContactProvidedV2,
    CitizenRepliedV1, ComplaintInformationAddedV1, ComplaintSubmittedV1,
)
from contracts.lifecycle import Action, Role, Status
from intake import channels, handlers
from intake.adapters.uow import IntakeInMemoryUnitOfWork
from intake.domain.actions import TakeAction
from intake.domain.actors import Actor
from intake.domain.channel_messages import (
    SenderHashes, derive_title, describe, find_reference, follow_up, national_phone,
    new_complaint_refusal,
)
from intake.domain.tokens import AccessTokens
from intake.schemas import SubmitComplaintRequest

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
CIPHER = PiiCipher(PiiCipher.new_key())
SUBMIT = handlers.SubmitDeps(clock=lambda: NOW, cipher=CIPHER, tokens=AccessTokens(b"s" * 32),
                             default_jurisdiction="kota-contoh")
SECRET = b"k" * 32
DEPS = channels.ChannelDeps(submit=SUBMIT, senders=SenderHashes(SECRET))
SITI, BUDI = "+6281234567890", "+6285700011122"
ROAD = "Jalan berlubang besar di Jl. Merdeka depan SDN 3, sudah dua minggu. Mohon diperbaiki."


# ---- reading texts


@pytest.mark.parametrize("text, number, note", [
    ("#1000123 lubang makin besar", "1000123", "lubang makin besar"),
    ("no 1000123 jalan masih rusak", "1000123", "jalan masih rusak"),
    ("No. 1000123: masih rusak", "1000123", "masih rusak"),
    ("laporan 1000123: sampah belum diangkut", "1000123", "sampah belum diangkut"),
    ("Laporan no. 1000123 gimana?", "1000123", "gimana?"),
    ("1000123 jalannya masih rusak", "1000123", "jalannya masih rusak"),
    ("Nomor lacak 1000123, mohon dicek", "1000123", "mohon dicek"),
    ("Re: 1000124 ok", "1000124", "ok"),
    ("mhn cek pengaduan #1000125 sdh 2 minggu", "1000125", "mhn cek sdh 2 minggu"),
])
def test_tracking_numbers_in_informal_texts(text, number, note):
    found = find_reference(text)
    assert found is not None and (found.tracking_number, found.note) == (number, note)


@pytest.mark.parametrize("text", [
    "Jalan rusak di depan rumah no 12, biaya tambal Rp 1500000 katanya",  # an address, an amount
    "hubungi saya di 081234567890",                     # a national phone number
    "NIK saya 3273010101900001 tidak terbaca",          # a NIK is no tracking number
    "sudah 1000123 kali saya lapor",                    # a bare number inside the text
    "no hp 085700011122 mohon dihubungi",
])
def test_numbers_that_are_not_tracking_numbers(text):
    assert find_reference(text) is None


@pytest.mark.parametrize("text, title", [
    (ROAD, "Jalan berlubang besar di Jl. Merdeka depan SDN 3, sudah dua minggu"),
    ("Yth. Bapak/Ibu, lampu jalan mati di Gg. Mawar sejak Senin. Gelap sekali.",
     "Yth. Bapak/Ibu, lampu jalan mati di Gg. Mawar sejak Senin"),
    ("Pungli 3.5 juta di kelurahan? Tolong ditindak", "Pungli 3.5 juta di kelurahan?"),
    ("mhn dibantu lampu jalan mati", "mhn dibantu lampu jalan mati"),
])
def test_titles_from_the_first_sentence(text, title):
    assert derive_title(text) == title


def test_a_long_title_is_cut_at_a_word():
    title = derive_title("sampah " * 40)
    assert 5 <= len(title) <= 80 and title.endswith("…") and not title.endswith(" …")


def test_media_are_kept_as_links():
    assert describe("Foto terlampir", ["https://cdn.example/a.jpg"]) == (
        "Foto terlampir\n\nLampiran dari kanal:\n- https://cdn.example/a.jpg")


def test_decisions_by_status_and_sender():
    assert follow_up(Status.FOLLOWED_UP, True, "masih rusak").action is Action.CITIZEN_REPLY
    assert follow_up(Status.RESOLVED, True, "belum beres").action is Action.CITIZEN_REPLY
    assert follow_up(Status.POSTPONED, True, "di Jl. Kenanga").action is Action.PROVIDE_INFO
    assert follow_up(Status.DISPOSED, True, "kapan?").refusal == "not_awaiting_reply"
    assert follow_up(Status.FOLLOWED_UP, True, "").refusal == "empty_reply"
    assert follow_up(Status.FOLLOWED_UP, False, "masih rusak").refusal == "not_found"
    assert follow_up(None, True, "masih rusak").refusal == "not_found"
    assert new_complaint_refusal("jalan rusak").refusal == "too_short"
    assert new_complaint_refusal("x" * 5001).refusal == "too_long"
    assert new_complaint_refusal(ROAD) is None


def test_sender_hashes_are_keyed_and_phone_is_one_person_over_sms_and_whatsapp():
    hashes = SenderHashes(SECRET)
    assert hashes.of("sms", SITI) == hashes.of("whatsapp", SITI) != hashes.of("sms", BUDI)
    assert hashes.of("x", "@Siti") == hashes.of("x", "@siti") != hashes.of("instagram", "@siti")
    assert hashes.of("sms", SITI) != SenderHashes(b"o" * 32).of("sms", SITI)
    assert SITI[1:] not in hashes.of("sms", SITI)
    assert national_phone("0812-3456-7890") == SITI


# ---- the contract


def received(text: str, message_id: str | None = None, sender: str = SITI, channel: str = "sms",
             **extra) -> ChannelMessageReceivedV1:
    return ChannelMessageReceivedV1(
        adapter="sms-1708", message_id=message_id or uuid.uuid4().hex, channel=channel,
        sender=sender, text=text, received_at=NOW - timedelta(seconds=5), **extra)


def test_inbound_contract_round_trips_keyed_by_sender_and_normalises_phones():
    message = received(ROAD, sender="62 812-3456-7890",
                       media=[{"url": "https://cdn.example/a.jpg", "content_type": "image/jpeg"}])
    assert message.sender == SITI and message.occurred_at == message.received_at
    key, value, headers = to_record(wrap(message, "/adapters/sms-1708"))
    assert key == SITI.encode()
    assert from_record(key, value, headers).event == message


@pytest.mark.parametrize("change", [
    {"sender": "081234567890"},                    # national form: the country is a guess
    {"received_at": "2026-11-23T09:00:00"},        # no time zone
    {"channel": "pigeon"},
    {"adapter": "SMS Gateway!"},
    {"text": "a\x00b"},
    {"media": [{"url": "file:///etc/passwd"}]},
])
def test_malformed_inbound_messages_are_refused_by_the_contract(change):
    data = {"adapter": "sms-1708", "message_id": "m-1", "channel": "sms", "sender": SITI,
            "text": ROAD, "received_at": "2026-11-23T09:00:00+07:00"} | change
    with pytest.raises(ValidationError):
        ChannelMessageReceivedV1.model_validate(data)


def test_a_missing_field_reads_as_an_envelope_error_naming_the_field():
    good = received(ROAD)
    key, value, headers = to_record(wrap(good, "/adapters/sms-1708"))
    body = value.replace(b'"message_id"', b'"mesage_id"')
    with pytest.raises(EnvelopeError, match="message_id: Field required") as caught:
        from_record(key, body, headers)
    assert SITI not in str(caught.value)


# ---- the handler


async def handle(uow, message):
    async with uow:
        await channels.on_channel_message(message, uow, DEPS)


def answers(uow) -> list[ChannelMessageHandledV1]:
    return [e for e in uow.outbox.events if isinstance(e, ChannelMessageHandledV1)]


async def test_an_sms_becomes_a_complaint_with_the_phone_as_sealed_contact():
    uow = IntakeInMemoryUnitOfWork()
    await handle(uow, received(ROAD, media=[{"url": "https://cdn.example/a.jpg"}]))
    submitted = next(e for e in uow.outbox.events if isinstance(e, ComplaintSubmittedV1))
    contact = next(e for e in uow.outbox.events if isinstance(e, CitizenContactProvidedV2))
    (answer,) = answers(uow)
    assert submitted.channel == "sms" and submitted.title.startswith("Jalan berlubang")
    assert "https://cdn.example/a.jpg" in submitted.description
    assert contact.has_phone and CIPHER.open(contact.sealed_contact.encode())["phone"] == SITI
    assert (answer.outcome, answer.tracking_number) == ("created", submitted.tracking_number)
    assert answer.complaint_id == submitted.complaint_id and answer.in_reply_to
    assert CIPHER.open(answer.sealed_sender.encode()) == {"channel": "sms", "address": SITI}
    record = next(r for r, env in uow.outbox.committed if env.event is answer)
    assert record.topic == "complaints.intake.contacts"
    assert SITI.encode() not in record.value + record.key, "no phone in clear on the topic"
    assert SITI[1:] not in str(uow.channel_messages.senders.rows), "senders kept hashed"


async def test_a_social_message_becomes_a_social_complaint_without_contact():
    uow = IntakeInMemoryUnitOfWork()
    await handle(uow, received(ROAD, channel="instagram", sender="@siti.rahayu"))
    submitted = next(e for e in uow.outbox.events if isinstance(e, ComplaintSubmittedV1))
    contact = next(e for e in uow.outbox.events if isinstance(e, CitizenContactProvidedV2))
    assert submitted.channel == "social" and not (contact.has_phone or contact.has_email)


async def created(uow, sender: str = SITI) -> str:
    await handle(uow, received(ROAD, sender=sender))
    return answers(uow)[-1].tracking_number


OPD = Actor(role=Role.OPD, subject="staff-1", opd_id="dinas-pupr")
OPERATOR = Actor(role=Role.OPERATOR, subject="operator-1")
ACTOR_OF = {Action.ASSIGN: Actor.system("routing"), Action.ACCEPT: OPD, Action.RESPOND: OPD,
            Action.POSTPONE: OPERATOR}


async def move(uow, tracking_number: str, *steps: TakeAction) -> None:
    """Drive a complaint as routing, the OPD and operators would."""
    async with uow:
        complaint = await uow.complaints.get_by_tracking_number(tracking_number)
        for step in steps:
            complaint.take(step, ACTOR_OF[step.action], NOW)
        await uow.complaints.save(complaint)


ASSIGN = TakeAction(Action.ASSIGN, opd_id="dinas-pupr", opd_name="Dinas PUPR")


async def test_a_second_sms_naming_the_number_replies_after_the_opd_responded():
    uow = IntakeInMemoryUnitOfWork()
    tn = await created(uow)
    await move(uow, tn, ASSIGN, TakeAction(Action.ACCEPT),
               TakeAction(Action.RESPOND, note="Tim meninjau hari Senin."))
    await handle(uow, received(f"#{tn} lubangnya makin besar, mohon dipercepat", sender=SITI))
    reply = next(e for e in uow.outbox.events if isinstance(e, CitizenRepliedV1))
    assert (reply.note, reply.actor_role, reply.actor) == (
        "lubangnya makin besar, mohon dipercepat", "citizen", None)
    assert (answers(uow)[-1].outcome, answers(uow)[-1].tracking_number) == ("replied", tn)
    complaint = await uow.complaints.get_by_tracking_number(tn)
    assert complaint.status is Status.CITIZEN_REPLIED
    assert complaint.history[-1].action == "citizen_reply"


async def test_over_whatsapp_the_same_phone_adds_information_when_postponed():
    uow = IntakeInMemoryUnitOfWork()
    tn = await created(uow)
    await move(uow, tn, TakeAction(Action.POSTPONE, note="Di mana lokasinya?"))
    await handle(uow, received(f"no {tn}: di depan SDN 3 Jl. Merdeka", channel="whatsapp"))
    assert any(isinstance(e, ComplaintInformationAddedV1) for e in uow.outbox.events)
    assert answers(uow)[-1].outcome == "info_added"


async def test_another_sender_or_an_unknown_number_gets_not_found_and_nothing_changes():
    uow = IntakeInMemoryUnitOfWork()
    tn = await created(uow)
    await move(uow, tn, ASSIGN, TakeAction(Action.ACCEPT), TakeAction(Action.RESPOND, note="Ok."))
    before = len(uow.outbox.events)
    await handle(uow, received(f"#{tn} ini laporan saya juga", sender=BUDI))
    await handle(uow, received("#9999999 masih rusak"))
    stranger, unknown = answers(uow)[-2:]
    assert (stranger.outcome, stranger.reason, stranger.complaint_id) == ("refused", "not_found", None)
    assert (unknown.reason, unknown.detail) == (stranger.reason, stranger.detail), "same answer"
    assert len(uow.outbox.events) == before + 2, "only the two answers"
    assert (await uow.complaints.get_by_tracking_number(tn)).status is Status.FOLLOWED_UP


async def test_a_web_reporters_phone_may_answer_by_sms():
    uow = IntakeInMemoryUnitOfWork()
    async with uow:
        receipt = await handlers.submit_complaint(SubmitComplaintRequest.model_validate({
            "title": "Jalan berlubang", "description": ROAD,
            "reporter": {"name": "Siti", "phone": "081234567890"}}).to_command(), uow, SUBMIT)
    tn = receipt.complaint.tracking_number
    await move(uow, tn, ASSIGN, TakeAction(Action.ACCEPT), TakeAction(Action.RESPOND, note="Ok."))
    await handle(uow, received(f"#{tn} terima kasih, tapi masih ada lubang"))
    assert answers(uow)[-1].outcome == "replied"


async def test_refusals_too_short_empty_reply_and_not_awaiting():
    uow = IntakeInMemoryUnitOfWork()
    await handle(uow, received("jalan rusak"))
    assert (answers(uow)[-1].outcome, answers(uow)[-1].reason) == ("refused", "too_short")
    assert not any(isinstance(e, ComplaintSubmittedV1) for e in uow.outbox.events)
    tn = await created(uow)
    await handle(uow, received(f"#{tn} kapan diperbaiki?"))
    assert (answers(uow)[-1].reason, answers(uow)[-1].tracking_number) == ("not_awaiting_reply", tn)
    await move(uow, tn, ASSIGN, TakeAction(Action.ACCEPT), TakeAction(Action.RESPOND, note="Ok."))
    await handle(uow, received(f"#{tn}"))
    assert answers(uow)[-1].reason == "empty_reply"


async def test_a_repeated_adapter_message_id_changes_nothing_and_answers_nothing():
    uow = IntakeInMemoryUnitOfWork()
    await handle(uow, received(ROAD, message_id="sms-42"))
    events = list(uow.outbox.events)
    await handle(uow, received("Teks lain yang cukup panjang untuk pengaduan baru.", message_id="sms-42"))
    assert uow.outbox.events == events
    assert len([c for c in uow.complaints.values()]) == 1
    # Another adapter may use the same id for its own message.
    await handle(uow, ChannelMessageReceivedV1(
        adapter="wa-bot", message_id="sms-42", channel="whatsapp", sender=BUDI, text=ROAD,
        received_at=NOW))
    assert len([c for c in uow.complaints.values()]) == 2


async def test_a_failed_transaction_forgets_the_claim():
    uow = IntakeInMemoryUnitOfWork()
    message = received(ROAD, message_id="sms-7")
    with pytest.raises(RuntimeError):
        async with uow:
            await channels.on_channel_message(message, uow, DEPS)
            raise RuntimeError("the database went away before commit")
    await handle(uow, message)
    assert answers(uow)[-1].outcome == "created"
