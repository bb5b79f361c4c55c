"""notify's handlers and dispatcher with in-memory twins: who hears what, once, on which
channel, in which language; retries, fallback, quiet hours, anonymity, merges."""

import logging
from datetime import timedelta

from backbone.pii import PiiCipher
from contracts.events import (
    ComplaintDisposedV1, ComplaintPostponedV1, ComplaintResolvedV1,
)
from tests.unit.notify_world import CIPHER, NOW, Citizen, World


def header(mail, name):
    return mail.headers[name]


async def test_assignment_is_mailed_once_in_the_citizens_language():
    w = World()
    citizen = Citizen(language="en")
    assigned = citizen.disposed()
    await w.feed(citizen.submitted, assigned, citizen.contact)   # contacts come on their own topic
    await w.feed(assigned)                         # the same fact again adds nothing
    assert await w.dispatch() == 2
    assert await w.dispatch() == 0
    received, mail = sorted(w.mailer.sent, key=lambda m: m.headers["X-Lapor-Template"] != "complaint_received")
    assert received.headers["X-Lapor-Template"] == "complaint_received"
    assert mail.to == "siti@example.id" and "1000007" in mail.subject
    assert "Dinas Lingkungan Hidup" in mail.body and "Siti" in mail.body
    assert "https://lapor.test/l/1000007" in mail.body
    assert header(mail, "X-Lapor-Template") == "complaint_assigned"
    [sent] = [e for e in w.events("NotificationSentV1") if e.template == "complaint_assigned"]
    assert sent.language == "en" and sent.channel == "email" and sent.audience == "citizen"
    assert sent.complaint_id == assigned.complaint_id and sent.tracking_number == "1000007"
    assert "siti" not in sent.model_dump_json()


async def test_a_reassignment_is_news_of_its_own():
    w = World()
    citizen = Citizen()
    moved = citizen.disposed(NOW + timedelta(days=1), opd_name="Dinas PUPR", previous_opd_id="dlh")
    await w.feed(citizen.contact, citizen.disposed(), moved)
    assert await w.dispatch() == 2
    assert sorted("Dinas PUPR" in m.body for m in w.mailer.sent) == [False, True]


async def test_waits_for_the_contact_then_sends():
    w = World()
    citizen = Citizen()
    await w.feed(citizen.disposed())
    assert await w.dispatch() == 0
    await w.feed(citizen.contact)
    assert await w.dispatch() == 1 and len(w.mailer.sent) == 1


async def test_no_address_at_all_is_skipped_quietly():
    w = World()
    citizen = Citizen(email=None)
    await w.feed(citizen.submitted, citizen.contact, citizen.disposed())
    assert await w.dispatch() == 2
    assert w.mailer.sent == [] and w.uow.outbox.events == [], "nobody to tell is not a failure"
    assert {d.status for d in w.deliveries()} == {"skipped"}
    assert await w.dispatch(NOW + timedelta(hours=1)) == 0


async def test_received_with_the_tracking_number_unless_a_channel_answer_told_it():
    w = World()
    web, sms = Citizen("1000001"), Citizen("1000002", email=None, phone="+6281234567890", channel="sms")
    await w.feed(web.submitted, web.contact, sms.submitted, sms.contact)
    await w.dispatch()
    [mail] = w.mailer.sent
    assert header(mail, "X-Lapor-Template") == "complaint_received" and "1000001" in mail.body
    assert w.sms.sent == [], "the SMS reporter got the number in the answer to their SMS"


async def test_a_receipt_held_for_the_assignment_is_said_with_it_in_one_message():
    w = World(receipt_hold=timedelta(seconds=15))
    citizen = Citizen(frontend=None)
    await w.feed(citizen.submitted, citizen.contact)
    assert await w.dispatch() == 0, "the receipt waits a little for the assignment"
    w.now += timedelta(seconds=2)
    await w.feed(citizen.disposed(w.now))
    assert await w.dispatch() == 1
    [mail] = w.mailer.sent
    assert header(mail, "X-Lapor-Template") == "complaint_assigned"
    assert "diterima" in mail.subject and "Dinas Lingkungan Hidup" in mail.subject
    assert "Sampah menumpuk di TPS" in mail.body and "1000007" in mail.body
    receipt = next(d for d in w.deliveries() if d.template == "complaint_received")
    assert receipt.status == "cancelled"
    await w.drain(until=timedelta(hours=1))
    assert len(w.mailer.sent) == 1
    assert [e.template for e in w.events("NotificationSentV1")] == ["complaint_assigned"]


async def test_without_an_assignment_the_receipt_goes_when_the_hold_ends():
    """Triage (an operator must read it) or a router that is away: the citizen still hears
    within the hold, and the later assignment is a message of its own."""
    w = World(receipt_hold=timedelta(seconds=15))
    citizen = Citizen()
    await w.feed(citizen.submitted, citizen.contact)
    assert await w.dispatch(NOW + timedelta(seconds=14)) == 0
    assert await w.dispatch(NOW + timedelta(seconds=15)) == 1
    [receipt] = w.mailer.sent
    assert header(receipt, "X-Lapor-Template") == "complaint_received"
    await w.feed(citizen.disposed(NOW + timedelta(hours=2)))
    assert await w.dispatch(NOW + timedelta(hours=2)) == 1
    assigned = w.mailer.sent[-1]
    assert header(assigned, "X-Lapor-Template") == "complaint_assigned"
    assert "diterima" not in assigned.subject, "the receipt was its own message"


async def test_the_assignment_that_says_the_receipt_is_not_held_by_quiet_hours():
    """At 23:00 WIB a WhatsApp assignment would wait for the morning; one that also says the
    receipt goes at once, as the receipt would have."""
    night = NOW + timedelta(hours=14)
    w = World(receipt_hold=timedelta(seconds=15))
    w.now = night
    folded = Citizen("1000001", email=None, phone="+6281234567001")
    plain = Citizen("1000002", email=None, phone="+6281234567002")
    await w.feed(folded.submitted, folded.contact, plain.contact, folded.disposed(night),
                 plain.disposed(night))
    await w.dispatch(night + timedelta(seconds=1))
    assert [m.to for m in w.whatsapp.sent] == ["+6281234567001"]
    assert "terima" in w.whatsapp.sent[0].text


async def test_a_front_end_hears_of_the_receipt_at_once_whatever_the_hold():
    from notify.domain.delivery import WebhookEndpoint
    import uuid
    w = World(receipt_hold=timedelta(seconds=15))
    async with w.uow:
        await w.uow.directory.add_webhook(WebhookEndpoint(
            uuid.uuid4(), "fe-hold", "https://fe.test/hook",
            CIPHER.seal({"secret": "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ="})))
    citizen = Citizen(frontend="fe-hold")
    await w.feed(citizen.submitted, citizen.contact)
    assert await w.dispatch() == 1 and w.mailer.sent == []
    assert [m.payload["type"] for m in w.webhook.sent] == ["complaint.received"]
    await w.feed(citizen.disposed())
    await w.dispatch()
    assert [m.payload["type"] for m in w.webhook.sent] == ["complaint.received", "complaint.assigned"]
    assert "received" not in str(w.webhook.sent[-1].payload["data"]), "the webhook's facts stay apart"
    [mail] = w.mailer.sent
    assert "diterima" in mail.subject


async def test_a_transient_failure_is_retried_with_backoff_then_succeeds():
    w = World()
    citizen = Citizen()
    await w.feed(citizen.contact, citizen.disposed())
    w.mailer.fail_times = 1
    assert await w.dispatch() == 1
    assert await w.dispatch(NOW + timedelta(seconds=2)) == 0, "not before half the first step"
    await w.drain(timedelta(minutes=2), timedelta(seconds=1))
    assert len(w.mailer.sent) == 1
    [(d, log)] = await w.uow.deliveries.of_complaint(citizen.id)
    assert [a.outcome for a in log] == ["retry", "sent"] and d.attempts == 2
    [sent] = w.events("NotificationSentV1")
    assert sent.attempts == 2 and sent.fell_back_from == []


async def test_a_channel_that_stays_down_falls_back_to_the_next():
    w = World()
    citizen = Citizen(phone="+6281234567890", channel="whatsapp")   # WhatsApp, then SMS, then e-mail
    await w.feed(citizen.submitted, citizen.contact, citizen.disposed())
    w.whatsapp.always = "transient"
    await w.drain(timedelta(hours=3))
    assert w.whatsapp.sent == [] and len(w.sms.sent) == 1
    assert w.sms.sent[0].template == "complaint_assigned" and "1000007" in w.sms.sent[0].text
    [sent] = w.events("NotificationSentV1")
    assert sent.channel == "sms" and sent.fell_back_from == ["whatsapp"] and sent.attempts == 4
    assert w.mailer.sent == [], "one message: SMS took it, e-mail is not tried"


async def test_a_permanent_refusal_falls_back_at_once_and_the_last_failure_is_dead_lettered():
    w = World()
    citizen = Citizen(phone="+6281234567890", channel="whatsapp")
    await w.feed(citizen.submitted, citizen.contact, citizen.disposed())
    w.whatsapp.fail_with("permanent", detail="HTTP 400 (21211)")
    w.sms.always = "permanent"
    w.mailer.fail_times = 99
    assert await w.dispatch() == 1
    assert w.deliveries()[0].channel == "sms", "no wait after a 4xx"
    await w.drain(timedelta(days=1), timedelta(minutes=10))
    [d] = w.deliveries()
    assert d.status == "failed" and d.channels == ("whatsapp", "sms", "email")
    [failed] = w.events("NotificationFailedV1")
    [dead] = w.events("DeliveryDeadLetteredV1")
    assert failed.channels_tried == ["whatsapp", "sms", "email"] and failed.error_class == "exhausted"
    assert dead.delivery_id == d.id and dead.reason.startswith("email")
    assert "6281234567890" not in failed.model_dump_json() + dead.model_dump_json()


async def test_quiet_hours_hold_what_can_wait_on_sms_until_morning_local_time():
    w = World()
    citizen = Citizen(email=None, phone="+6281234567890", channel="sms")
    night = NOW.replace(hour=15)                 # 22:00 WIB
    await w.feed(citizen.submitted, citizen.contact, citizen.disposed(night))
    assert await w.dispatch(night) == 1
    assert w.sms.sent == []
    [d] = w.deliveries()
    assert d.next_attempt_at == NOW.replace(hour=0) + timedelta(days=1), "07:00 WIB next day"
    assert await w.dispatch(NOW.replace(hour=23, minute=59)) == 0
    assert await w.dispatch(NOW.replace(hour=0) + timedelta(days=1)) == 1
    assert len(w.sms.sent) == 1 and d.attempts == 0


async def test_email_is_never_held_by_quiet_hours():
    w = World()
    night = NOW.replace(hour=15)
    mail_citizen = Citizen("1000001")
    await w.feed(mail_citizen.contact, mail_citizen.disposed(night))
    await w.dispatch(night)
    assert len(w.mailer.sent) == 1


async def test_anonymous_reporters_hear_only_on_the_channel_they_gave():
    w = World()
    citizen = Citizen(email="anon@example.id", phone="+6281234567890", channel="whatsapp",
                      anonymous=True, name="Rahasia")
    await w.feed(citizen.submitted, citizen.contact, citizen.disposed())
    w.whatsapp.always = "permanent"
    await w.drain(timedelta(hours=1))
    assert w.sms.sent == [] and w.mailer.sent == [], "no other address learns of the case"
    [d] = w.deliveries()
    assert d.channels == ("whatsapp",) and d.status == "failed"


async def test_anonymous_email_reporter_is_not_named():
    w = World()
    citizen = Citizen(anonymous=True, name="Rahasia Sekali")
    await w.feed(citizen.submitted, citizen.contact, citizen.disposed())
    await w.dispatch()
    assert all("Rahasia Sekali" not in m.body for m in w.mailer.sent) and len(w.mailer.sent) == 2


async def test_every_lifecycle_step_is_told():
    w = World()
    citizen = Citizen()
    later = [NOW + timedelta(hours=h) for h in range(1, 8)]
    from contracts.events import (ComplaintArchivedV1, ComplaintClosedV1,
                                  ComplaintMarkedNotOursV1, SlaWarningIssuedV1)
    other, third = Citizen("1000008", "lain@example.id"), Citizen("1000009", "ketiga@example.id")
    await w.feed(
        citizen.submitted, citizen.contact, other.submitted, other.contact, third.contact,
        citizen.fact(ComplaintPostponedV1, NOW, note="Mohon sebutkan nama jalannya."),
        citizen.disposed(later[0]), citizen.followed_up(later[1]),
        citizen.fact(ComplaintResolvedV1, later[2], evidence="Foto TPS bersih: https://x/1"),
        SlaWarningIssuedV1(complaint_id=citizen.id, occurred_at=later[3], tracking_number="1000007",
                           clock="auto_close", due_at=later[3] + timedelta(days=2),
                           threshold="elapsed:0.8", elapsed_share=0.8, working_seconds_left=7200),
        citizen.fact(ComplaintClosedV1, later[4], action="auto_close"),
        other.fact(ComplaintArchivedV1, later[0], reason="spam", note="Iklan."),
        third.fact(ComplaintMarkedNotOursV1, later[0], responsible="PT PLN (Persero)"))
    await w.drain(timedelta(hours=8))
    templates = sorted(m.headers["X-Lapor-Template"] for m in w.mailer.sent if m.to == citizen.email)
    assert templates == sorted(["complaint_received", "complaint_postponed", "complaint_assigned",
                                "complaint_followed_up", "complaint_resolved", "auto_close_coming",
                                "complaint_closed", "rating_requested"])
    bodies = {m.headers["X-Lapor-Template"]: m.body for m in w.mailer.sent if m.to == citizen.email}
    assert "Mohon sebutkan nama jalannya." in bodies["complaint_postponed"]
    assert "Sampah sudah kami angkut hari ini." in bodies["complaint_followed_up"]
    assert "Foto TPS bersih: https://x/1" in bodies["complaint_resolved"]
    assert "2026" in bodies["auto_close_coming"], "the auto-close time, in local words"
    others = {(m.headers["X-Lapor-Tracking-Number"], m.headers["X-Lapor-Template"]) for m in w.mailer.sent
              if m.to != citizen.email}
    assert ("1000008", "complaint_archived") in others and ("1000009", "complaint_not_ours") in others
    assert len({m.message_id for m in w.mailer.sent}) == len(w.mailer.sent)


async def test_the_rating_request_waits_and_is_dropped_once_the_citizen_rated():
    from contracts.events import ComplaintClosedV1, ComplaintRatedV1
    w = World()
    rated, silent = Citizen("1000001", "a@example.id"), Citizen("1000002", "b@example.id")
    await w.feed(rated.contact, silent.contact,
                 rated.fact(ComplaintClosedV1, NOW, action="close"),
                 silent.fact(ComplaintClosedV1, NOW, action="close"))
    await w.dispatch()
    assert {m.headers["X-Lapor-Template"] for m in w.mailer.sent} == {"complaint_closed"}
    await w.feed(rated.fact(ComplaintRatedV1, NOW + timedelta(minutes=10), rating=5))
    await w.dispatch(NOW + timedelta(minutes=61))
    asked = [m.to for m in w.mailer.sent if m.headers["X-Lapor-Template"] == "rating_requested"]
    assert asked == ["b@example.id"]


async def test_after_a_merge_the_duplicates_reporter_hears_everything_about_the_target_once():
    w = World()
    target = Citizen("1000003", email="ani@example.id", name="Ani")
    duplicate = Citizen("1000007", email="budi@example.id", language="en", name="Budi")
    before = target.disposed(NOW - timedelta(days=1))
    merge = duplicate.merged_into(target, NOW)
    answer = target.followed_up(NOW + timedelta(days=1))
    replayed = [before, merge, answer, merge.model_copy(), answer.model_copy()]
    await w.feed(target.contact, duplicate.contact, *replayed)
    assert await w.dispatch() == 4
    assert await w.dispatch(NOW + timedelta(hours=2)) == 0
    to = {}
    for mail in w.mailer.sent:
        to.setdefault(mail.to, []).append(mail.headers["X-Lapor-Template"])
    assert sorted(to["ani@example.id"]) == ["complaint_assigned", "complaint_followed_up"]
    assert sorted(to["budi@example.id"]) == ["complaint_followed_up", "complaint_merged"]
    followed = next(m for m in w.mailer.sent if m.to == "budi@example.id"
                    and m.headers["X-Lapor-Template"] == "complaint_followed_up")
    assert "1000007" in followed.body and "1000003" in followed.body
    assert "Sampah sudah kami angkut hari ini." in followed.body
    told = sorted((e.tracking_number, e.template) for e in w.events("NotificationSentV1"))
    assert told == [("1000003", "complaint_assigned"), ("1000003", "complaint_followed_up"),
                    ("1000007", "complaint_followed_up"), ("1000007", "complaint_merged")]


async def test_a_merge_read_after_later_news_of_its_target_catches_the_reporter_up():
    w = World()
    target, duplicate = Citizen("1000003", "ani@example.id"), Citizen("1000007", "budi@example.id")
    merge = duplicate.merged_into(target, NOW)
    await w.feed(target.contact, duplicate.contact, target.disposed(NOW - timedelta(days=1)),
                 target.followed_up(NOW + timedelta(days=1)), merge, merge.model_copy())
    assert await w.dispatch() == 4
    budi = sorted(m.headers["X-Lapor-Template"] for m in w.mailer.sent if m.to == "budi@example.id")
    assert budi == ["complaint_followed_up", "complaint_merged"]


async def test_nothing_identifying_is_logged(caplog):
    w = World()
    target = Citizen("1000003", "ani@example.id", name="Ani Lestari", phone="+6281111111111")
    duplicate = Citizen("1000007", "budi@example.id", name="Budi Santoso")
    with caplog.at_level(logging.DEBUG):
        await w.feed(target.contact, duplicate.contact, duplicate.merged_into(target),
                     target.followed_up(NOW + timedelta(days=1)))
        w.mailer.fail_times = 1
        await w.drain(timedelta(minutes=5), timedelta(seconds=30))
    assert len(w.mailer.sent) == 3
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for secret in ("ani@example.id", "budi@example.id", "Ani Lestari", "Budi Santoso", "6281111111111"):
        assert secret not in logged


async def test_one_bad_delivery_in_a_batch_never_re_sends_the_others():
    w = World()
    good = [Citizen(f"10000{n}", email=f"warga{n}@example.id") for n in range(3)]
    bad = Citizen("1000099", email="rusak@example.id")
    for c in good:
        await w.feed(c.contact, c.disposed())
    await w.feed(bad.disposed())
    other = PiiCipher(PiiCipher.new_key()).seal({"email": "rusak@example.id"}).decode()
    await w.feed(bad.contact.model_copy(update={"sealed_contact": other}))
    assert await w.dispatch() == 4
    await w.drain(timedelta(hours=2), timedelta(minutes=5))
    assert sorted(m.to for m in w.mailer.sent) == [f"warga{n}@example.id" for n in range(3)]
    assert {d.status for d in w.deliveries()} == {"sent", "failed"}
    [failed] = w.events("NotificationFailedV1")
    assert failed.error_class == "uncomposable"


async def test_a_delivery_not_settled_is_sent_again_after_its_lease_with_the_same_message_id():
    w = World()
    citizen = Citizen()
    await w.feed(citizen.contact, citizen.disposed())
    async with w.uow:
        [claimed] = await w.uow.deliveries.claim_due(NOW, 10, timedelta(seconds=60))
    assert await w.dispatch(NOW + timedelta(seconds=30)) == 0, "leased"
    assert await w.dispatch(NOW + timedelta(seconds=61)) == 1
    assert [m.message_id for m in w.mailer.sent] == [claimed.delivery.message_id]


async def test_a_front_end_hears_of_its_own_complaints_by_webhook_without_identity():
    from notify.domain.delivery import WebhookEndpoint
    import uuid
    w = World()
    hook = WebhookEndpoint(uuid.uuid4(), "fixmystreet-kota", "https://fe.test/hook",
                           CIPHER.seal({"secret": "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ="}))
    async with w.uow:
        await w.uow.directory.add_webhook(hook)
    mine = Citizen("1000001", name="Siti Rahayu", frontend="fixmystreet-kota")
    theirs = Citizen("1000002", frontend=None)
    await w.feed(mine.submitted, mine.contact, theirs.submitted, theirs.contact,
                 mine.disposed(), theirs.disposed())
    await w.dispatch()
    assert [m.payload["type"] for m in w.webhook.sent] == ["complaint.received", "complaint.assigned"] \
        or sorted(m.payload["type"] for m in w.webhook.sent) == ["complaint.assigned", "complaint.received"]
    for m in w.webhook.sent:
        assert m.to == "https://fe.test/hook" and m.payload["data"]["tracking_number"] == "1000001"
        assert "Siti" not in str(m.payload) and "siti@" not in str(m.payload)
        assert m.secret.startswith("whsec_")
    assert {e.audience for e in w.events("NotificationSentV1")} == {"citizen", "frontend"}


async def test_opd_staff_and_operators_hear_their_part_and_a_digest_folds_the_day():
    import uuid
    from contracts.events import SlaBreachedV1, SlaEscalatedV1, SlaWarningIssuedV1
    from notify.domain.delivery import StaffAddress
    w = World()

    def address(role, channel, to, opd=None, digest=False):
        return StaffAddress(uuid.uuid4(), "kota-bandung", role, opd, channel,
                            CIPHER.seal({"address": to}), digest=digest)
    dlh = address("opd_staff", "email", "dlh@bandung.test", "dlh")
    head = address("opd_head", "whatsapp", "+6281200000001", "dlh")
    operator = address("operator", "email", "op@bandung.test")
    digest = address("operator", "email", "kepala@bandung.test", digest=True)
    other_opd = address("opd_staff", "email", "pupr@bandung.test", "dinas-pupr")
    async with w.uow:
        for a in (dlh, head, operator, digest, other_opd):
            await w.uow.directory.add_staff(a)
    citizen = Citizen()
    due = NOW + timedelta(days=3)
    alert = dict(complaint_id=citizen.id, tracking_number="1000007", clock="first_response",
                 jurisdiction="kota-bandung", opd_id="dlh", due_at=due)
    await w.feed(citizen.submitted, citizen.contact, citizen.disposed(),
                 SlaWarningIssuedV1(occurred_at=NOW + timedelta(days=2), threshold="hours_left:4",
                                    elapsed_share=0.9, working_seconds_left=14400, **alert),
                 SlaBreachedV1(occurred_at=due, **alert),
                 SlaEscalatedV1(occurred_at=due + timedelta(hours=1), level="opd_head", step=2, **alert))
    await w.drain(timedelta(days=5), timedelta(hours=1))
    by = {}
    for m in w.mailer.sent:
        by.setdefault(m.to, []).append(m.headers["X-Lapor-Template"])
    assert sorted(by["dlh@bandung.test"]) == ["opd_complaint_assigned", "opd_deadline_warning"]
    assert sorted(by["op@bandung.test"]) == ["operator_sla_breached", "operator_sla_escalated"]
    assert by["kepala@bandung.test"] == ["operator_digest"], "one message for the day"
    assert "pupr@bandung.test" not in by
    assert [m.template for m in w.whatsapp.sent] == ["operator_sla_escalated"], "the OPD head"
    digest_mail = next(m for m in w.mailer.sent if m.to == "kepala@bandung.test")
    assert "1000007" in digest_mail.body
