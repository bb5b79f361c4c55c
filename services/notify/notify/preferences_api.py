"""How a citizen wants to hear about their complaint, changed by the citizen with the tracking
number and the secret access token they got when they reported (the same token intake
accepts; notify checks it against the hash intake passed along, and never sees the token
otherwise). Unknown tracking number and wrong token get the same 404.

Addresses are never shown back in full, only masked. Anonymous reporters keep the one channel
they gave: they may change the language and quiet hours, not where they are told.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Header, HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from contracts.events import e164
from notify import citizen_access
from notify.adapters.contacts import with_preferences
from notify.masking import mask
from notify.domain.preferences import CITIZEN_CHANNELS, Preferences, citizen_chain, reachable
from notify.domain.quiet_hours import QuietHours

router = APIRouter(prefix="/v1/complaints", tags=["notification preferences"])
TrackingNumber = Annotated[str, Path(pattern=r"^[1-9][0-9]{0,19}$")]
_PROBLEM = {"content": {"application/problem+json": {}}}
_ERRORS = {401: {"description": "No access token", **_PROBLEM},
           404: {"description": "Unknown tracking number or wrong access token", **_PROBLEM},
           422: {"description": "Not a valid choice", **_PROBLEM}}
Channel = Literal["email", "sms", "whatsapp"]


class PreferencesView(BaseModel):
    tracking_number: str
    anonymous: bool
    email: str | None = Field(description="Masked")
    phone: str | None = Field(description="Masked")
    channels: list[str] = Field(description="The order messages are tried in, from now on")
    chosen_channels: list[str] | None = Field(description="What the citizen chose; null: the default order")
    language: Literal["id", "en"]
    quiet_hours: str | None = Field(description="'21:00-07:00', 'off', or null for the city's")


class PreferencesChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    channels: list[Channel] | None = Field(default=None, min_length=1, max_length=3)
    language: Literal["id", "en"] | None = None
    quiet_hours: str | None = Field(default=None, max_length=11,
                                    description="'HH:MM-HH:MM' local, or 'off'")
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=20, description="E.164, e.g. +6281234567890")

    @field_validator("channels")
    @classmethod
    def _distinct(cls, value):
        if value is not None and len(set(value)) != len(value):
            raise ValueError("each channel at most once")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value):
        if value is not None and value != "off":
            QuietHours.parse(value)
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value):
        return e164(value) if value is not None else None


async def _authorised(request: Request, tracking_number: str, authorization: str | None):
    return citizen_access.check(await citizen_access.find(request, tracking_number),
                                citizen_access.bearer(authorization))


def _view(request: Request, tracking_number: str, contact, profile) -> PreferencesView:
    opened = request.app.state.cipher.open(contact.sealed)
    prefs = Preferences.from_json(contact.preferences)
    available = request.app.state.composer.available
    return PreferencesView(
        tracking_number=tracking_number, anonymous=profile.anonymous if profile else True,
        email=mask("email", opened.get("email")), phone=mask("sms", opened.get("phone")),
        channels=list(citizen_chain(contact, profile, available)),
        chosen_channels=list(prefs.channels) if prefs.channels is not None else None,
        language=prefs.language or (contact.language if contact.language in ("id", "en") else "id"),
        quiet_hours=prefs.quiet_hours)


@router.get("/{tracking_number}/notification-preferences", response_model=PreferencesView,
            responses=_ERRORS, summary="How the citizen is told (with their access token)")
async def get_preferences(tracking_number: TrackingNumber, request: Request,
                          authorization: Annotated[str | None, Header()] = None) -> PreferencesView:
    _, contact, _, profile = await _authorised(request, tracking_number, authorization)
    return _view(request, tracking_number, contact, profile)


@router.put("/{tracking_number}/notification-preferences", response_model=PreferencesView,
            responses=_ERRORS, summary="Change how the citizen is told (with their access token)")
async def put_preferences(tracking_number: TrackingNumber, change: PreferencesChange,
                          request: Request,
                          authorization: Annotated[str | None, Header()] = None) -> PreferencesView:
    complaint_id, contact, _, profile = await _authorised(request, tracking_number, authorization)
    anonymous = profile.anonymous if profile else True
    if anonymous and (change.channels is not None or change.email or change.phone):
        raise HTTPException(422, "An anonymous report is told only on the channel it was given; "
                                 "the language and quiet hours can be changed")
    cipher = request.app.state.cipher
    opened = cipher.open(contact.sealed)
    sealed = None
    if change.email or change.phone:
        opened = {**opened, **({"email": change.email} if change.email else {}),
                  **({"phone": change.phone} if change.phone else {})}
        sealed = cipher.seal(opened)
    current = Preferences.from_json(contact.preferences)
    prefs = Preferences(
        channels=tuple(change.channels) if change.channels is not None else current.channels,
        language=change.language or current.language,
        quiet_hours=change.quiet_hours if change.quiet_hours is not None else current.quiet_hours)
    updated = with_preferences(contact, prefs.to_json(), sealed=sealed,
                               has_email=bool(opened.get("email")), has_phone=bool(opened.get("phone")))
    if prefs.channels is not None:
        missing = [c for c in prefs.channels if c in CITIZEN_CHANNELS and c not in reachable(updated)]
        if missing:
            raise HTTPException(422, f"No address for {', '.join(missing)}: give one with the change")
    async with request.app.state.runtime.unit_of_work() as uow:
        await uow.contacts.update(complaint_id, updated, datetime.now(timezone.utc))
    return _view(request, tracking_number, updated, profile)
