"""From a claimed delivery and a channel to the message that goes out: open the sealed
address, pick the language, fill in the links and local times, render the template (or, for a
webhook, build the payload). Raises `SendFailed("unreachable")` when the recipient has no
address on that channel, and anything else when the delivery cannot be composed at all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from backbone.pii import PiiCipher
from notify.adapters.channels import Outbound
from notify.domain.catalog import KINDS
from notify.domain.delivery import Delivery, DueDelivery
from notify.domain.local_time import local_date_text, local_text
from notify.domain.preferences import citizen_chain, language_of
from notify.domain.retry import SendFailed
from notify.domain.templates import Templates
from notify.domain.webhook_payloads import payload


class Composer:
    def __init__(self, templates: Templates, cipher: PiiCipher, *, status_url: str,
                 console_url: str, rating_url: str | None, timezone_of: Callable[[str | None], str],
                 available: frozenset[str]) -> None:
        self._templates, self._cipher = templates, cipher
        self._status_url, self._console_url = status_url, console_url
        self._rating_url = rating_url or status_url
        self._tz = timezone_of
        self.available = available

    def chain(self, item: DueDelivery) -> tuple[str, ...]:
        d = item.delivery
        if d.audience == "citizen":
            return citizen_chain(item.contact, item.profile, self.available) if item.contact else ()
        if d.audience == "frontend":
            ok = item.endpoint is not None and item.endpoint.active and "webhook" in self.available
            return ("webhook",) if ok else ()
        ok = item.staff is not None and item.staff.active and item.staff.channel in self.available
        return (item.staff.channel,) if ok else ()

    def language(self, item: DueDelivery) -> str:
        if item.contact is not None:
            return language_of(item.contact)
        if item.staff is not None:
            return item.staff.language if item.staff.language in ("id", "en") else "id"
        return "id"

    def timezone(self, item: DueDelivery) -> str:
        d = item.delivery
        return self._tz(d.jurisdiction or (item.profile.jurisdiction if item.profile else None)
                        or (item.staff.jurisdiction if item.staff else None))

    def compose(self, item: DueDelivery, channel: str) -> Outbound:
        d = item.delivery
        if d.audience == "frontend":
            return self._webhook(item)
        language = self.language(item)
        context = self._context(item, language)
        if d.audience == "citizen":
            contact = self._cipher.open(item.contact.sealed)
            to = contact.get("email") if channel == "email" else contact.get("phone")
            anonymous = item.profile.anonymous if item.profile else True
            context["name"] = contact.get("name") if channel == "email" and not anonymous else None
            context["follower_of"] = item.contact.tracking_number if d.to_follower else None
        else:
            to = self._cipher.open(item.staff.sealed_address).get("address")
        if not to:
            raise SendFailed("unreachable", f"no {channel} address")
        message = self._templates.render(d.template, channel, language, context, d.jurisdiction)
        return Outbound(
            delivery_id=d.id, message_id=d.message_id, channel=channel, to=to,
            subject=message.subject, text=message.body, complaint_id=d.complaint_id,
            tracking_number=context["tracking_number"], template=d.template, language=language,
            headers={"X-Lapor-Tracking-Number": context["tracking_number"],
                     "X-Lapor-Delivery-Id": str(d.id), "X-Lapor-Template": d.template})

    def _context(self, item: DueDelivery, language: str) -> dict[str, Any]:
        d = item.delivery
        tz = self.timezone(item)
        tracking = d.tracking_number or (item.contact.tracking_number if item.contact else "")
        own = item.contact.tracking_number if item.contact else tracking
        # Every field the kind's templates may name exists; the fact fills what it knows.
        context: dict[str, Any] = {**dict.fromkeys(KINDS[d.template].fields), **d.context}
        context.update(tracking_number=tracking, jurisdiction=d.jurisdiction or "")
        if d.audience == "citizen":
            context["status_url"] = self._status_url.format(tracking_number=own)
            if d.template == "rating_requested":
                context["rating_url"] = self._rating_url.format(tracking_number=own)
        else:
            context["status_url"] = self._console_url.format(tracking_number=tracking)
        if "due_at" in d.context:
            due = d.context.get("due_at")
            context["due_at_local"] = (local_text(datetime.fromisoformat(due), tz, language)
                                       if due else None)
        if d.template == "operator_digest":
            context["items"] = [{**i, "due_at_local": local_text(datetime.fromisoformat(i["due_at"]),
                                                                 tz, language) if i.get("due_at") else None}
                                for i in d.context.get("items", [])]
            context["date"] = local_date_text(datetime.fromisoformat(d.context["day_start"]), tz, language)
        return context

    def _webhook(self, item: DueDelivery) -> Outbound:
        d, endpoint = item.delivery, item.endpoint
        secret = self._cipher.open(endpoint.sealed_secret)["secret"]
        tracking = d.tracking_number or (item.profile.tracking_number if item.profile else "")
        body = payload(d.template, d.fact_at, str(d.complaint_id), tracking,
                       self._status_url.format(tracking_number=tracking), d.context)
        return Outbound(delivery_id=d.id, message_id=d.message_id, channel="webhook",
                        to=endpoint.url, text="", payload=body, secret=secret,
                        complaint_id=d.complaint_id, tracking_number=tracking, template=d.template)


def can_wait(delivery: Delivery) -> bool:
    """Whether quiet hours may hold it: by its kind, except that a message which also says the
    receipt (`received`) goes at once, as the receipt would have."""
    kind = KINDS.get(delivery.template)
    return bool(kind and kind.can_wait and not delivery.context.get("received"))
