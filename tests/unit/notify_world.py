"""A small world for notify's unit tests: citizens and their facts, the in-memory unit of
work, in-memory transports per channel, and a dispatcher driven by an injected clock."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, time, timedelta, timezone

from backbone.pii import PiiCipher
from contracts.events import (
    CitizenContactProvidedV2, ComplaintDisposedV1, ComplaintFollowedUpV1, ComplaintMergedV1,
    ComplaintSubmittedV1,
)
from notify import handlers
from notify.adapters.channels.email import EmailTransport
from notify.adapters.channels.memory import InMemoryTransport
from notify.adapters.mailer import InMemoryMailer
from notify.adapters.uow import NotifyInMemoryUnitOfWork
from notify.compose import Composer
from notify.digest import compose_digests
from notify.dispatch import Dispatch
from notify.domain.quiet_hours import QuietHours
from notify.domain.retry import RetryPolicy
from notify.domain.templates import Templates

# 02:00 UTC = 09:00 WIB: not quiet hours.
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
CIPHER = PiiCipher(PiiCipher.new_key())
OWING = handlers.Owing(timedelta(hours=1))


class Consumer:
    """Collects the handlers Owing subscribes, as the runtime's consumer would."""

    def __init__(self) -> None:
        self.handlers = {}
        self.ahead = self.lock = None

    def on(self, event_type, handler) -> None:
        self.handlers[event_type] = handler

    def read_ahead(self, hook) -> None:
        self.ahead = hook

    def lock_ahead(self, hook) -> None:
        self.lock = hook


_CONSUMER = Consumer()
OWING.subscribe(_CONSUMER)
HANDLERS = _CONSUMER.handlers


class Citizen:
    """A complaint and how to reach its reporter."""

    def __init__(self, tracking="1000007", email="siti@example.id", language="id", name="Siti",
                 phone=None, channel="web", anonymous=False, frontend=None,
                 jurisdiction="kota-bandung", token_hash=None):
        self.id, self.tracking, self.email, self.phone = uuid.uuid4(), tracking, email, phone
        self.jurisdiction = jurisdiction
        sealed = CIPHER.seal({"name": name, "email": email, "phone": phone}).decode()
        self.contact = CitizenContactProvidedV2(
            complaint_id=self.id, occurred_at=NOW, tracking_number=tracking, sealed_contact=sealed,
            has_email=bool(email), has_phone=bool(phone), language=language,
            access_token_hash=token_hash)
        self.submitted = ComplaintSubmittedV1(
            complaint_id=self.id, occurred_at=NOW - timedelta(minutes=1), tracking_number=tracking,
            jurisdiction=jurisdiction, channel=channel, title="Sampah menumpuk di TPS",
            description="Sampah di TPS dekat pasar tidak diangkut seminggu.",
            anonymous=anonymous, language=language, frontend=frontend)

    def fact(self, model, at=NOW, **extra):
        fields = dict(complaint_id=self.id, occurred_at=at, tracking_number=self.tracking,
                      jurisdiction=self.jurisdiction, action="act", from_status="a",
                      to_status="b", actor_role="opd", opd_id="dlh")
        fields.update(extra)
        return model(**fields)

    def disposed(self, at=NOW, opd_name="Dinas Lingkungan Hidup", **extra):
        return self.fact(ComplaintDisposedV1, at, opd_name=opd_name, **extra)

    def followed_up(self, at=NOW, note="Sampah sudah kami angkut hari ini."):
        return self.fact(ComplaintFollowedUpV1, at, note=note)

    def merged_into(self, target, at=NOW):
        return self.fact(ComplaintMergedV1, at, into_complaint_id=target.id,
                         into_tracking_number=target.tracking)


class World:
    def __init__(self, channels=("email", "sms", "whatsapp", "webhook"), quiet="21:00-07:00",
                 attempts=3, receipt_hold: timedelta | None = None) -> None:
        """`receipt_hold`: handlers that hold the citizen's receipt for the assignment, on this
        world's clock (the shared ones send it at once)."""
        self.uow = NotifyInMemoryUnitOfWork()
        self.handlers = HANDLERS
        if receipt_hold is not None:
            consumer = Consumer()
            handlers.Owing(timedelta(hours=1), receipt_hold=receipt_hold,
                           clock=lambda: self.now).subscribe(consumer)
            self.handlers = consumer.handlers
        self.mailer = InMemoryMailer()
        self.transports = {"email": EmailTransport(self.mailer)}
        for name in channels:
            if name != "email":
                self.transports[name] = InMemoryTransport(name)
        self.composer = Composer(Templates(), CIPHER, status_url="https://lapor.test/l/{tracking_number}",
                                 console_url="https://konsol.test/c/{tracking_number}",
                                 rating_url=None, timezone_of=lambda j: "Asia/Jakarta",
                                 available=frozenset(self.transports))
        policy = RetryPolicy(attempts=attempts, base_seconds=5, cap_seconds=3600)
        self.policies = {c: policy for c in ("email", "sms", "whatsapp", "webhook")}
        self.quiet = QuietHours.parse(quiet) if quiet else None
        self.now = NOW

    @property
    def sms(self) -> InMemoryTransport:
        return self.transports["sms"]

    @property
    def whatsapp(self) -> InMemoryTransport:
        return self.transports["whatsapp"]

    @property
    def webhook(self) -> InMemoryTransport:
        return self.transports["webhook"]

    async def feed(self, *events) -> None:
        for event in events:
            async with self.uow:
                await self.handlers[type(event)](event, self.uow)

    async def dispatch(self, at: datetime | None = None, lease=timedelta(seconds=60)) -> int:
        if at is not None:
            self.now = at
        await compose_digests(lambda: self.uow, lambda: self.now, lambda j: "Asia/Jakarta", time(7, 0))
        return await Dispatch(lambda: self.uow, self.transports, self.composer, self.policies,
                              lambda: self.now, quiet_hours=self.quiet, batch_size=50,
                              lease=lease, rng=random.Random(7)).once()

    async def drain(self, until: timedelta = timedelta(days=2), step=timedelta(minutes=1)) -> None:
        """Dispatch round after round as time passes, until nothing is due for `until`."""
        end = self.now + until
        while self.now < end:
            await self.dispatch(self.now)
            self.now += step

    def deliveries(self):
        return list(self.uow.deliveries.deliveries.values())

    def events(self, kind=None):
        return [e for e in self.uow.outbox.events if kind is None or type(e).__name__ == kind]
