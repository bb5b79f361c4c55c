import uuid
from datetime import datetime, timedelta, timezone

from backbone.pii import PiiCipher
from contracts.events import CitizenContactProvidedV2, ComplaintAssignedV1, NotificationSentV1
from notify import handlers
from notify.adapters.deliveries import NotifyInMemoryUnitOfWork
from notify.adapters.mailer import InMemoryMailer
from notify.domain.messages import render

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
CIPHER = PiiCipher(PiiCipher.new_key())


def events(email="siti@example.id", language="id"):
    cid = uuid.uuid4()
    sealed = CIPHER.seal({"name": "Siti", "email": email, "phone": None}).decode()
    contact = CitizenContactProvidedV2(complaint_id=cid, occurred_at=NOW, tracking_number="1000007",
                                       sealed_contact=sealed, has_email=bool(email), language=language)
    assigned = ComplaintAssignedV1(complaint_id=cid, occurred_at=NOW, tracking_number="1000007",
                                   jurisdiction="k", opd_id="dlh", opd_name="Dinas Lingkungan Hidup",
                                   confidence=1, reason="r")
    return contact, assigned


async def feed(uow, *evts):
    for event in evts:
        async with uow:
            if isinstance(event, CitizenContactProvidedV2):
                await handlers.on_contact_provided(event, uow)
            else:
                await handlers.on_complaint_assigned(event, uow)


async def dispatch(uow, mailer, now=NOW, lease=timedelta(seconds=60)):
    return await handlers.dispatch_due(lambda: uow, mailer, CIPHER, lambda: now, max_attempts=3,
                                       limit=10, lease=lease)


async def test_assignment_is_mailed_once_in_the_citizens_language():
    uow, mailer = NotifyInMemoryUnitOfWork(), InMemoryMailer()
    contact, assigned = events(language="en")
    await feed(uow, assigned, contact)          # order across topics does not matter
    await feed(uow, assigned)                   # the same fact again adds nothing
    assert await dispatch(uow, mailer) == 1
    assert await dispatch(uow, mailer) == 0
    [mail] = mailer.sent
    assert mail.to == "siti@example.id" and "1000007" in mail.subject
    assert "Dinas Lingkungan Hidup" in mail.body and "Dear Siti" in mail.body
    [sent] = uow.outbox.events
    assert isinstance(sent, NotificationSentV1) and sent.language == "en"
    assert "siti" not in sent.model_dump_json()


async def test_waits_for_the_contact_then_sends():
    uow, mailer = NotifyInMemoryUnitOfWork(), InMemoryMailer()
    contact, assigned = events()
    await feed(uow, assigned)
    assert await dispatch(uow, mailer) == 0
    await feed(uow, contact)
    assert await dispatch(uow, mailer) == 1 and len(mailer.sent) == 1


async def test_no_email_address_is_skipped_not_retried():
    uow, mailer = NotifyInMemoryUnitOfWork(), InMemoryMailer()
    await feed(uow, *events(email=None))
    assert await dispatch(uow, mailer) == 1
    assert mailer.sent == [] and uow.outbox.events == []
    assert [d.status for d in uow.deliveries.deliveries.values()] == ["skipped"]
    assert await dispatch(uow, mailer, NOW + timedelta(hours=1)) == 0


async def test_smtp_failure_is_retried_later_then_given_up():
    uow, mailer = NotifyInMemoryUnitOfWork(), InMemoryMailer()
    await feed(uow, *events())
    mailer.fail_times = 1
    assert await dispatch(uow, mailer) == 1
    assert await dispatch(uow, mailer) == 0, "not due again yet"
    assert await dispatch(uow, mailer, NOW + timedelta(seconds=6)) == 1
    assert len(mailer.sent) == 1
    mailer2, uow2 = InMemoryMailer(), NotifyInMemoryUnitOfWork()
    await feed(uow2, *events())
    mailer2.fail_times = 99
    for step in range(3):
        await dispatch(uow2, mailer2, NOW + timedelta(hours=step))
    assert [d.status for d in uow2.deliveries.deliveries.values()] == ["failed"]


def test_templates_render_in_both_languages():
    for lang, word in (("id", "Nomor lacak"), ("en", "Tracking number")):
        message = render("complaint_assigned", lang, {"tracking_number": "1", "opd_name": "DLH", "name": None})
        assert word in message.body and "DLH" in message.subject


async def test_one_bad_delivery_in_a_batch_never_re_sends_the_others():
    """Regression: one delivery whose contact cannot be opened used to roll back the whole
    batch, so the others were e-mailed again every poll interval."""
    uow, mailer = NotifyInMemoryUnitOfWork(), InMemoryMailer()
    good = [events(email=f"warga{n}@example.id") for n in range(3)]
    bad_contact, bad_assigned = events(email="rusak@example.id")
    await feed(uow, *[e for pair in good for e in pair], bad_assigned)
    async with uow:  # sealed with a key notify does not hold
        other = PiiCipher(PiiCipher.new_key()).seal({"email": "rusak@example.id"}).decode()
        await handlers.on_contact_provided(bad_contact.model_copy(update={"sealed_contact": other}), uow)
    assert await dispatch(uow, mailer) == 4
    for later in (timedelta(minutes=5), timedelta(hours=2)):
        await dispatch(uow, mailer, NOW + later)
    assert sorted(m.to for m in mailer.sent) == [f"warga{n}@example.id" for n in range(3)]
    statuses = {d.status for d in uow.deliveries.deliveries.values()}
    assert statuses == {"sent", "failed"}
    assert len(uow.outbox.events) == 3


async def test_a_delivery_not_settled_is_sent_again_after_its_lease_with_the_same_message_id():
    """A crash between send and settle: nothing was settled, so after the lease the same
    delivery is claimed again and goes out with the same Message-ID."""
    uow, mailer = NotifyInMemoryUnitOfWork(), InMemoryMailer()
    await feed(uow, *events())
    async with uow:
        [claimed] = await uow.deliveries.claim_due(NOW, 10, timedelta(seconds=60))
    assert await dispatch(uow, mailer, NOW + timedelta(seconds=30)) == 0, "leased"
    assert await dispatch(uow, mailer, NOW + timedelta(seconds=61)) == 1
    assert [m.message_id for m in mailer.sent] == [claimed.delivery.message_id]
