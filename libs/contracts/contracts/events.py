"""Every event the services exchange: past-tense facts, pydantic models, versioned by type name.

Rules: a field is added (with a default), never renamed or repurposed; a breaking change is a
new `...V2` model with a new type. `EVENT_TYPES` maps the CloudEvents `type` to its model.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts import topics
from contracts.text import Text

TYPE_PREFIX = "id.lapor."


class Event(BaseModel):
    """Common shape: which complaint, and when the fact happened (UTC)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    event_type: ClassVar[str]

    complaint_id: UUID
    occurred_at: datetime


class Location(BaseModel):
    model_config = ConfigDict(frozen=True)

    address: Text | None = Field(default=None, max_length=500)
    kelurahan: Text | None = Field(default=None, max_length=120)
    kecamatan: Text | None = Field(default=None, max_length=120)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class ComplaintSubmittedV1(Event):
    """Intake recorded a complaint and issued its tracking number. No personal data."""

    event_type: ClassVar[str] = TYPE_PREFIX + "ComplaintSubmitted.v1"

    tracking_number: str
    jurisdiction: str
    channel: str
    title: str
    description: str
    category: str | None = None
    location: Location | None = None
    anonymous: bool = False
    confidential: bool = False
    language: Literal["id", "en"] = "id"


class CitizenContactProvidedV2(Event):
    """How to reach the citizen of a complaint, sealed: name, e-mail and phone travel only as a
    Fernet token (`sealed_contact`, a JSON object inside) that intake and notify can open, so
    the outbox row, the topic, any dead-letter copy and notify's table hold no identity in
    clear. Replaces V1, which carried them in clear. Travels on the contacts topic only."""

    event_type: ClassVar[str] = TYPE_PREFIX + "CitizenContactProvided.v2"

    tracking_number: str
    sealed_contact: str = Field(description="Fernet token of {name, email, phone}")
    has_email: bool = False
    has_phone: bool = False
    language: Literal["id", "en"] = "id"


class ComplaintAssignedV1(Event):
    """Routing disposed the complaint to an OPD."""

    event_type: ClassVar[str] = TYPE_PREFIX + "ComplaintAssigned.v1"

    tracking_number: str
    jurisdiction: str
    opd_id: str
    opd_name: str
    confidence: float = Field(ge=0, le=1)
    reason: str
    language: Literal["id", "en"] = "id"


class ComplaintSentToTriageV1(Event):
    """Routing was not sure enough: a human must verify and dispose."""

    event_type: ClassVar[str] = TYPE_PREFIX + "ComplaintSentToTriage.v1"

    tracking_number: str
    jurisdiction: str
    reason: str
    suggestions: list[str] = Field(default_factory=list)


class SlaClockStartedV1(Event):
    """A deadline clock started for a complaint (e.g. first response after disposition)."""

    event_type: ClassVar[str] = TYPE_PREFIX + "SlaClockStarted.v1"

    tracking_number: str
    clock: Literal["verification", "first_response", "auto_close", "resolution"]
    opd_id: str | None = None
    started_at: datetime
    due_at: datetime
    working_days: int
    timezone: str


class NotificationSentV1(Event):
    """Notify delivered a message to the citizen. Carries no address."""

    event_type: ClassVar[str] = TYPE_PREFIX + "NotificationSent.v1"

    tracking_number: str
    channel: Literal["email", "sms", "whatsapp", "webhook"]
    template: str
    language: Literal["id", "en"]
    about_event_id: UUID


EVENT_TYPES: dict[str, type[Event]] = {
    model.event_type: model
    for model in (
        ComplaintSubmittedV1,
        CitizenContactProvidedV2,
        ComplaintAssignedV1,
        ComplaintSentToTriageV1,
        SlaClockStartedV1,
        NotificationSentV1,
    )
}


# Where each event travels: decided here, once, so no handler can publish to the wrong topic.
TOPIC_OF: dict[type[Event], topics.Topic] = {
    ComplaintSubmittedV1: topics.INTAKE_EVENTS,
    CitizenContactProvidedV2: topics.INTAKE_CONTACTS,
    ComplaintAssignedV1: topics.ROUTING_EVENTS,
    ComplaintSentToTriageV1: topics.ROUTING_EVENTS,
    SlaClockStartedV1: topics.SLA_EVENTS,
    NotificationSentV1: topics.NOTIFY_EVENTS,
}
