import uuid
from datetime import datetime, timedelta, timezone

import pytest

from backbone.consumer import PermanentError
from contracts.events import (
    CitizenContactProvidedV2, ComplaintAssignedV1, ComplaintDisposedV1, ComplaintSubmittedV1,
    SlaClockStartedV1,
)
from contracts.lifecycle import Status
from intake import handlers
from intake.adapters.uow import IntakeInMemoryUnitOfWork
from intake.domain.commands import SubmitComplaint
from intake.schemas import SubmitComplaintRequest
from intake.domain.tokens import AccessTokens
from backbone.pii import PiiCipher

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def command(**overrides) -> SubmitComplaint:
    data = {"title": "Jalan berlubang", "description": "Jalan berlubang besar di depan sekolah, bahaya.",
            "reporter": {"name": "Siti", "email": "siti@example.id", "nik": "3273010101900001"}}
    return SubmitComplaintRequest.model_validate(data | overrides).to_command()


CIPHER = PiiCipher(PiiCipher.new_key())
DEPS = handlers.SubmitDeps(clock=lambda: NOW, cipher=CIPHER, tokens=AccessTokens(b"s" * 32),
                           default_jurisdiction="kota-contoh")


async def submit(uow, cmd=None, key=None):
    async with uow:
        return await handlers.submit_complaint(cmd or command(), uow, DEPS, key)


async def test_submit_records_complaint_and_events_without_personal_data_on_the_lifecycle_topic():
    uow = IntakeInMemoryUnitOfWork()
    receipt = await submit(uow)
    complaint = await uow.complaints.get(receipt.complaint.id)
    assert complaint.status is Status.SUBMITTED and complaint.tracking_number == "1000001"
    submitted, contact = uow.outbox.events
    assert isinstance(submitted, ComplaintSubmittedV1) and isinstance(contact, CitizenContactProvidedV2)
    assert "siti" not in submitted.model_dump_json().lower()
    assert "siti" not in contact.model_dump_json().lower(), "identity travels sealed"
    assert CIPHER.open(contact.sealed_contact.encode()) == {
        "name": "Siti", "email": "siti@example.id", "phone": None}, "never the NIK"
    assert contact.has_email and not contact.has_phone
    topics = [record.topic for record, _ in uow.outbox.committed]
    assert topics == ["complaints.intake.events", "complaints.intake.contacts"]


async def test_token_is_returned_once_and_only_its_hash_is_kept():
    uow = IntakeInMemoryUnitOfWork()
    receipt = await submit(uow)
    stored = await uow.complaints.get(receipt.complaint.id)
    assert len(receipt.access_token) >= 32
    assert stored.access_token_hash == handlers.hash_token(receipt.access_token)
    assert receipt.access_token not in stored.access_token_hash


async def test_tracking_numbers_are_sequential():
    uow = IntakeInMemoryUnitOfWork()
    numbers = [(await submit(uow)).complaint.tracking_number for _ in range(3)]
    assert numbers == ["1000001", "1000002", "1000003"]


async def test_assignment_deadline_and_history():
    uow = IntakeInMemoryUnitOfWork()
    complaint = (await submit(uow)).complaint
    assigned = ComplaintAssignedV1(complaint_id=complaint.id, occurred_at=NOW + timedelta(seconds=1),
                                   tracking_number=complaint.tracking_number, jurisdiction="kota-contoh",
                                   opd_id="dinas-pupr", opd_name="Dinas PUPR", confidence=1, reason="r")
    clock = SlaClockStartedV1(complaint_id=complaint.id, occurred_at=NOW + timedelta(seconds=2),
                              tracking_number=complaint.tracking_number, clock="first_response",
                              opd_id="dinas-pupr", started_at=NOW, due_at=NOW + timedelta(days=7), working_days=5,
                              timezone="Asia/Jakarta")
    async with uow:
        await handlers.on_complaint_assigned(assigned, uow)
    async with uow:
        await handlers.on_sla_clock_started(clock, uow)
    stored = await uow.complaints.get(complaint.id)
    assert stored.status is Status.DISPOSED and stored.assigned_opd_id == "dinas-pupr"
    assert stored.first_response_due_at == NOW + timedelta(days=7)
    assert [h.action for h in stored.history] == ["submit", "assign", "deadline_set"]
    disposed = uow.outbox.events[-1]
    assert isinstance(disposed, ComplaintDisposedV1), "intake tells everyone the complaint is with an OPD"
    assert (disposed.opd_id, disposed.actor_role, disposed.actor, disposed.from_status) == (
        "dinas-pupr", "system", "routing", "submitted")


async def test_a_clock_of_an_opd_the_complaint_left_is_ignored():
    uow = IntakeInMemoryUnitOfWork()
    complaint = (await submit(uow)).complaint
    async with uow:
        await handlers.on_complaint_assigned(ComplaintAssignedV1(
            complaint_id=complaint.id, occurred_at=NOW, tracking_number=complaint.tracking_number,
            jurisdiction="kota-contoh", opd_id="dlh", opd_name="DLH", confidence=1, reason="r"), uow)
        await handlers.on_sla_clock_started(SlaClockStartedV1(
            complaint_id=complaint.id, occurred_at=NOW, tracking_number=complaint.tracking_number,
            clock="first_response", opd_id="dinas-pupr", started_at=NOW,
            due_at=NOW + timedelta(days=7), working_days=5, timezone="Asia/Jakarta"), uow)
    assert (await uow.complaints.get(complaint.id)).due_at is None


async def test_a_stale_routing_decision_is_dropped_not_applied_twice():
    """An operator may dispose by hand while routing decides: routing's late word changes
    nothing (and is not dead-lettered: retrying it could never help)."""
    uow = IntakeInMemoryUnitOfWork()
    complaint = (await submit(uow)).complaint
    event = ComplaintAssignedV1(complaint_id=complaint.id, occurred_at=NOW, tracking_number="1",
                                jurisdiction="k", opd_id="dlh", opd_name="DLH", confidence=1, reason="r")
    async with uow:
        await handlers.on_complaint_assigned(event, uow)
    published = len(uow.outbox.events)
    async with uow:
        await handlers.on_complaint_assigned(event.model_copy(update={"opd_id": "dinkes"}), uow)
    stored = await uow.complaints.get(complaint.id)
    assert stored.assigned_opd_id == "dlh" and len(uow.outbox.events) == published
    assert [h.action for h in stored.history] == ["submit", "assign"]


async def test_event_for_unknown_complaint_is_permanent():
    uow = IntakeInMemoryUnitOfWork()
    event = ComplaintAssignedV1(complaint_id=uuid.uuid4(), occurred_at=NOW, tracking_number="1",
                                jurisdiction="k", opd_id="dlh", opd_name="DLH", confidence=1, reason="r")
    with pytest.raises(PermanentError):
        async with uow:
            await handlers.on_complaint_assigned(event, uow)


@pytest.mark.parametrize("overrides", [
    {"title": "abc"},
    {"description": "terlalu pendek"},
    {"reporter": {"nik": "123"}},
    {"reporter": {"email": "not-an-email"}},
    {"channel": "pigeon"},
    {"unknown_field": 1},
    {"anonymous": True, "reporter": {"nik": "3273010101900001"}},
])
def test_invalid_commands_are_refused(overrides):
    with pytest.raises(ValueError):
        command(**overrides)


async def test_a_retry_with_the_same_idempotency_key_returns_the_first_receipt():
    uow = IntakeInMemoryUnitOfWork()
    first = await submit(uow, key="retry-key-1")
    again = await submit(uow, key="retry-key-1")
    assert again.replayed and not first.replayed
    assert again.complaint.tracking_number == first.complaint.tracking_number
    assert again.access_token == first.access_token
    assert again.complaint.access_token_hash == handlers.hash_token(again.access_token)
    assert len(uow.outbox.committed) == 2, "the retry recorded no new events"
    stored = repr(uow.complaints.idempotency.rows)
    assert first.access_token not in stored and "retry-key-1" not in stored, \
        "neither the token nor the raw client key is kept"
    with pytest.raises(handlers.IdempotencyKeyReused):
        await submit(uow, command(title="Lain sekali"), key="retry-key-1")
    other = await submit(uow, key="retry-key-2")
    assert other.access_token != first.access_token


def test_deadlines_read_in_local_indonesian_time():
    from zoneinfo import ZoneInfo

    from intake.domain.complaint import local_time_id

    due = datetime(2026, 11, 27, 23, 59, 59, tzinfo=ZoneInfo("Asia/Jakarta"))
    assert local_time_id(due) == "27 November 2026 pukul 23.59 WIB"
    assert local_time_id(due.astimezone(ZoneInfo("Asia/Makassar"))) == "28 November 2026 pukul 00.59 WITA"


async def test_routing_fills_a_missing_category_and_never_overrides_the_citizens():
    from contracts.events import Classified
    uow = IntakeInMemoryUnitOfWork()
    unknown = (await submit(uow)).complaint
    chosen = (await submit(uow, command(category="pupr.drainase"))).complaint
    for complaint in (unknown, chosen):
        async with uow:
            await handlers.on_complaint_assigned(ComplaintAssignedV1(
                complaint_id=complaint.id, occurred_at=NOW, tracking_number=complaint.tracking_number,
                jurisdiction="kota-contoh", opd_id="dinas-pupr", opd_name="Dinas PUPR",
                confidence=0.97, reason="model", classified=Classified(
                    category="pupr.jalan-rusak", main_category="pupr", urgency="sedang")), uow)
    assert (await uow.complaints.get(unknown.id)).category == "pupr.jalan-rusak"
    assert (await uow.complaints.get(chosen.id)).category == "pupr.drainase"


async def test_a_complaint_routing_finds_not_ours_is_closed_naming_who_is_responsible():
    from contracts.events import ComplaintFoundNotOursV1, ComplaintMarkedNotOursV1
    uow = IntakeInMemoryUnitOfWork()
    complaint = (await submit(uow)).complaint
    async with uow:
        await handlers.on_complaint_found_not_ours(ComplaintFoundNotOursV1(
            complaint_id=complaint.id, occurred_at=NOW, tracking_number=complaint.tracking_number,
            jurisdiction="kota-contoh", responsible="PLN UP3 Bandung", confidence=0.98,
            reason="energi.listrik-padam is not the city's"), uow)
    stored = await uow.complaints.get(complaint.id)
    assert stored.status is Status.NOT_OURS
    marked = [e for e in uow.outbox.events if isinstance(e, ComplaintMarkedNotOursV1)]
    assert [(e.responsible, e.actor_role) for e in marked] == [("PLN UP3 Bandung", "system")]
