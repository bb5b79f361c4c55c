import logging
import uuid
from datetime import datetime, timedelta, timezone

from backbone.pii import PiiCipher
from contracts.events import (
    CitizenContactProvidedV2, ComplaintDisposedV1, ComplaintFollowedUpV1, ComplaintMergedV1,
    ComplaintPostponedV1, ComplaintResolvedV1, NotificationSentV1,
)
from notify import handlers
from notify.adapters.deliveries import NotifyInMemoryUnitOfWork
from notify.adapters.mailer import InMemoryMailer
from notify.domain.messages import render

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
CIPHER = PiiCipher(PiiCipher.new_key())
HANDLERS = {
    CitizenContactProvidedV2: handlers.on_contact_provided,
    ComplaintDisposedV1: handlers.on_complaint_disposed,
    ComplaintFollowedUpV1: handlers.on_complaint_followed_up,
    ComplaintResolvedV1: handlers.on_complaint_resolved,
    ComplaintPostponedV1: handlers.on_complaint_postponed,
    ComplaintMergedV1: handlers.on_complaint_merged,
}


class Citizen:
    """A complaint and how to reach its reporter."""

    def __init__(self, tracking="1000007", email="siti@example.id", language="id", name="Siti"):
        self.id, self.tracking = uuid.uuid4(), tracking
        sealed = CIPHER.seal({"name": name, "email": email, "phone": None}).decode()
        self.contact = CitizenContactProvidedV2(
            complaint_id=self.id, occurred_at=NOW, tracking_number=tracking, sealed_contact=sealed,
            has_email=bool(email), language=language)

    def fact(self, model, at=NOW, **extra):
        return model(complaint_id=self.id, occurred_at=at, tracking_number=self.tracking,
                     jurisdiction="k", action="act", from_status="a", to_status="b",
                     actor_role="opd", opd_id="dlh", **extra)

    def disposed(self, at=NOW):
        return self.fact(ComplaintDisposedV1, at, opd_name="Dinas Lingkungan Hidup")

    def followed_up(self, at=NOW, note="Sampah sudah kami angkut hari ini."):
        return self.fact(ComplaintFollowedUpV1, at, note=note)

    def merged_into(self, target, at=NOW):
        return self.fact(ComplaintMergedV1, at, into_complaint_id=target.id,
                         into_tracking_number=target.tracking)


def events(email="siti@example.id", language="id"):
    citizen = Citizen(email=email, language=language)
    return citizen.contact, citizen.disposed()


async def feed(uow, *evts):
    for event in evts:
        async with uow:
            await HANDLERS[type(event)](event, uow)


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
    assert sent.complaint_id == assigned.complaint_id and sent.tracking_number == "1000007"
    assert "siti" not in sent.model_dump_json()


async def test_a_reassignment_is_news_of_its_own():
    uow, mailer = NotifyInMemoryUnitOfWork(), InMemoryMailer()
    citizen = Citizen()
    moved = citizen.fact(ComplaintDisposedV1, NOW + timedelta(days=1), opd_name="Dinas PUPR",
                         previous_opd_id="dlh")
    await feed(uow, citizen.contact, citizen.disposed(), moved)
    assert await dispatch(uow, mailer) == 2
    assert ["Dinas Lingkungan Hidup" in m.subject for m in mailer.sent] == [True, False]
    assert "Dinas PUPR" in mailer.sent[1].subject


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
    context = {"tracking_number": "1", "opd_name": "DLH", "name": None, "follower_of": None,
               "note": "Catatan petugas", "evidence": "Foto TPS bersih", "into_tracking_number": "2"}
    expected = {  # template: (words in Bahasa Indonesia, words in English)
        "complaint_assigned": ("Nomor lacak", "Tracking number"),
        "complaint_followed_up": ("tanggapan", "reply"),
        "complaint_resolved": ("Bukti penyelesaian", "Evidence"),
        "complaint_postponed": ("keterangan tambahan", "more information"),
        "complaint_merged": ("gabungkan", "merged"),
    }
    for template, words in expected.items():
        for lang, word in zip(("id", "en"), words):
            message = render(template, lang, context)
            assert word in message.body, (template, lang)
            assert "1" in message.subject and message.body.endswith("\n")
    assert "DLH" in render("complaint_assigned", "id", context).subject


async def test_each_lifecycle_message_says_what_happened_and_what_the_citizen_can_do():
    uow, mailer = NotifyInMemoryUnitOfWork(), InMemoryMailer()
    citizen, target = Citizen(), Citizen(tracking="1000003")
    later = [NOW + timedelta(hours=h) for h in range(1, 4)]
    await feed(uow, citizen.contact,
               citizen.fact(ComplaintPostponedV1, NOW, note="Mohon sebutkan nama jalannya."),
               citizen.followed_up(later[0]),
               citizen.fact(ComplaintResolvedV1, later[1], evidence="Foto TPS bersih: https://x/1"),
               citizen.merged_into(target, later[2]))
    assert await dispatch(uow, mailer) == 4
    postponed, answered, resolved, merged = [
        next(m for m in mailer.sent if word in m.subject)
        for word in ("keterangan tambahan", "Tindak lanjut", "selesai", "digabungkan")]
    assert "Mohon sebutkan nama jalannya." in postponed.body and "lengkapi" in postponed.body
    assert "Sampah sudah kami angkut hari ini." in answered.body
    assert "tanggapan" in answered.body and "konfirmasikan" in answered.body
    assert "token akses" in answered.body and "1000007" in answered.body
    assert "Foto TPS bersih: https://x/1" in resolved.body and "konfirmasikan" in resolved.body
    assert "1000003" in merged.subject and "1000003" in merged.body
    assert len({m.message_id for m in mailer.sent}) == 4
    assert {e.template for e in uow.outbox.events} == {
        "complaint_postponed", "complaint_followed_up", "complaint_resolved", "complaint_merged"}


async def test_after_a_merge_the_duplicates_reporter_hears_everything_about_the_target_once():
    uow, mailer = NotifyInMemoryUnitOfWork(), InMemoryMailer()
    target = Citizen("1000003", email="ani@example.id", name="Ani")
    duplicate = Citizen("1000007", email="budi@example.id", language="en", name="Budi")
    before = target.disposed(NOW - timedelta(days=1))
    merge = duplicate.merged_into(target, NOW)
    answer = target.followed_up(NOW + timedelta(days=1))
    replayed = [before, merge, answer, merge.model_copy(), answer.model_copy()]
    await feed(uow, target.contact, duplicate.contact, *replayed)
    assert await dispatch(uow, mailer) == 4
    assert await dispatch(uow, mailer, NOW + timedelta(hours=2)) == 0
    to = {}
    for mail in mailer.sent:
        to.setdefault(mail.to, []).append(mail)
    assert [m.subject for m in to["ani@example.id"]] == [
        "[LAPOR] Pengaduan 1000003 telah diteruskan ke Dinas Lingkungan Hidup",
        "[LAPOR] Tindak lanjut atas pengaduan 1000003"]
    merged, followed = to["budi@example.id"]          # not told of what came before the merge
    assert merged.subject == "[LAPOR] Complaint 1000007 merged into complaint 1000003"
    assert followed.subject == "[LAPOR] Response to complaint 1000003"
    assert "Your report 1000007 was merged into complaint 1000003" in followed.body
    assert "Sampah sudah kami angkut hari ini." in followed.body
    assert "access token" not in followed.body, "they cannot act on another's complaint"
    assert followed.message_id != to["ani@example.id"][1].message_id
    told = sorted((e.tracking_number, e.template) for e in uow.outbox.events)
    assert told == [("1000003", "complaint_assigned"), ("1000003", "complaint_followed_up"),
                    ("1000007", "complaint_followed_up"), ("1000007", "complaint_merged")]
    answers = {e.about_event_id for e in uow.outbox.events if e.template == "complaint_followed_up"}
    assert len(answers) == 1, "one fact, told to two citizens"


async def test_a_merge_read_after_later_news_of_its_target_catches_the_reporter_up():
    """Different complaints travel on different partitions: the target's answer (after the
    merge) can be read before the merge. Its reporter still hears it, once; older news not."""
    uow, mailer = NotifyInMemoryUnitOfWork(), InMemoryMailer()
    target, duplicate = Citizen("1000003", "ani@example.id"), Citizen("1000007", "budi@example.id")
    merge = duplicate.merged_into(target, NOW)
    await feed(uow, target.contact, duplicate.contact, target.disposed(NOW - timedelta(days=1)),
               target.followed_up(NOW + timedelta(days=1)), merge, merge.model_copy())
    assert await dispatch(uow, mailer) == 4
    budi = sorted(m.subject for m in mailer.sent if m.to == "budi@example.id")
    assert budi == ["[LAPOR] Pengaduan 1000007 digabungkan dengan pengaduan 1000003",
                    "[LAPOR] Tindak lanjut atas pengaduan 1000003"]


async def test_merges_chain_and_a_reporter_without_email_is_skipped_alone():
    uow, mailer = NotifyInMemoryUnitOfWork(), InMemoryMailer()
    final, middle = Citizen("1000001", "ani@example.id"), Citizen("1000002", email=None)
    first = Citizen("1000003", "budi@example.id")
    await feed(uow, final.contact, middle.contact, first.contact,
               first.merged_into(middle, NOW), middle.merged_into(final, NOW + timedelta(hours=1)),
               final.followed_up(NOW + timedelta(days=1)))
    await dispatch(uow, mailer)
    budi = [m for m in mailer.sent if m.to == "budi@example.id"]
    assert len(budi) == 3, "merged, its target merged in turn, the final complaint's answer"
    assert "1000001" in budi[-1].subject and "Laporan Anda 1000003" in budi[-1].body
    assert sorted(m.to for m in mailer.sent) == ["ani@example.id"] + ["budi@example.id"] * 3
    skipped = [d for d in uow.deliveries.deliveries.values() if d.status == "skipped"]
    assert {d.recipient_id for d in skipped} == {middle.id} and len(skipped) == 2


async def test_nothing_identifying_is_logged(caplog):
    uow, mailer = NotifyInMemoryUnitOfWork(), InMemoryMailer()
    target, duplicate = Citizen("1000003", "ani@example.id", name="Ani Lestari"), \
        Citizen("1000007", "budi@example.id", name="Budi Santoso")
    with caplog.at_level(logging.DEBUG):
        await feed(uow, target.contact, duplicate.contact, duplicate.merged_into(target),
                   target.followed_up(NOW + timedelta(days=1)))
        mailer.fail_times = 1
        await dispatch(uow, mailer)
        await dispatch(uow, mailer, NOW + timedelta(minutes=5))
    assert len(mailer.sent) == 3
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for secret in ("ani@example.id", "budi@example.id", "Ani Lestari", "Budi Santoso"):
        assert secret not in logged


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
