"""Every event the services exchange: past-tense facts, pydantic models, versioned by type name.

Rules: a field is added (with a default), never renamed or repurposed; a breaking change is a
new `...V2` model with a new type. `EVENT_TYPES` maps the CloudEvents `type` to its model.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator,
)

from contracts import topics
from contracts.text import Text

TYPE_PREFIX = "id.lapor."


class Event(BaseModel):
    """Common shape: which complaint, and when the fact happened (UTC)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    event_type: ClassVar[str]

    complaint_id: UUID
    occurred_at: datetime

    @property
    def partition_key(self) -> str:
        """The record key: one complaint's events share a partition, so they keep their order."""
        return str(self.complaint_id)


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
    frontend: str | None = Field(default=None, description="The registered front end (API key "
                                 "name) that submitted it, if any: its webhooks hear of it")


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
    access_token_hash: str | None = Field(
        default=None, description="SHA-256 (hex) of the citizen's access token: notify checks "
        "it when the citizen changes how they are told (the token itself never travels)")


ReportType = Literal["pengaduan", "aspirasi", "permintaan_informasi"]
Urgency = Literal["rendah", "sedang", "tinggi"]


class Classified(BaseModel):
    """What routing's classifier read in a complaint: the taxonomy's subcategory code (its main
    category is the code's prefix), the kind of report and how urgent it is, and the words that
    decided. Optional on every routing event: decisions made by hand carry none."""

    model_config = ConfigDict(frozen=True)

    category: str | None = Field(default=None, description="Subcategory code, e.g. pupr.jalan-rusak")
    main_category: str | None = None
    report_type: ReportType | None = None
    urgency: Urgency | None = None
    explanation: list[str] = Field(default_factory=list, description="The terms that decided")


class RoutingCandidate(BaseModel):
    """One way routing could send a complaint: a subcategory and where this jurisdiction sends
    it (an OPD, or another government's body when it is not the city's)."""

    model_config = ConfigDict(frozen=True)

    category: str
    confidence: float = Field(ge=0, le=1)
    opd_id: str | None = None
    opd_name: str | None = None
    not_ours: str | None = Field(default=None, description="The responsible body, when not the city's")


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
    classified: Classified | None = None


class ComplaintSentToTriageV1(Event):
    """Routing was not sure enough: a human must verify and dispose. `suggestions` are OPD ids,
    best first; `candidates` say more about each (category, confidence, not ours)."""

    event_type: ClassVar[str] = TYPE_PREFIX + "ComplaintSentToTriage.v1"

    tracking_number: str
    jurisdiction: str
    reason: str
    suggestions: list[str] = Field(default_factory=list)
    classified: Classified | None = None
    candidates: list[RoutingCandidate] = Field(default_factory=list)
    excluded_opds: list[str] = Field(default_factory=list, description="OPDs that said bukan wewenang")


class ComplaintFoundNotOursV1(Event):
    """Routing is sure the complaint belongs to another government or a state company (police,
    immigration, the land office, PLN, BPJS, ...): `responsible` names who."""

    event_type: ClassVar[str] = TYPE_PREFIX + "ComplaintFoundNotOurs.v1"

    tracking_number: str
    jurisdiction: str
    responsible: str
    confidence: float = Field(ge=0, le=1)
    reason: str
    classified: Classified | None = None


class DuplicateCandidate(BaseModel):
    """An earlier complaint that may report the same problem: how alike the texts are
    (estimated Jaccard of their shingles, 0..1) and, when both are located, how far apart."""

    model_config = ConfigDict(frozen=True)

    complaint_id: UUID
    tracking_number: str
    similarity: float = Field(ge=0, le=1)
    distance_m: float | None = Field(default=None, ge=0)
    submitted_at: datetime


class DuplicateCandidatesFoundV1(Event):
    """Routing found earlier complaints that may report the same problem as this one (similar
    text, same category, same place, within the time window). A proposal for operators, who
    merge (intake's `merge`) or dismiss; nothing changes the complaint by itself. No personal
    data: ids, tracking numbers and scores only."""

    event_type: ClassVar[str] = TYPE_PREFIX + "DuplicateCandidatesFound.v1"

    tracking_number: str
    jurisdiction: str
    candidates: list[DuplicateCandidate] = Field(min_length=1)


ActorRole = Literal["citizen", "opd", "operator", "system"]
ArchiveReason = Literal["unclear", "too_general", "not_public_service", "spam", "duplicate"]


class ComplaintTransitionV1(Event):
    """What every lifecycle fact recorded by intake carries, so sla and notify can act on any of
    them without asking: which complaint, in which jurisdiction, with which OPD, who acted in
    which role, from which status to which, and the public note. Never personal data: the actor
    is a staff subject or a service name, never a citizen; notes are what the actor wrote for
    the complaint's timeline. Concrete facts below add what is theirs."""

    tracking_number: str
    jurisdiction: str
    action: str
    from_status: str
    to_status: str
    actor_role: ActorRole
    actor: str | None = Field(default=None, description="Staff subject or service; None for a citizen")
    opd_id: str | None = Field(default=None, description="The OPD the complaint is with after this")
    note: str | None = None


class ComplaintDisposedV1(ComplaintTransitionV1):
    """The complaint is now with an OPD: routing's assignment applied, or an operator disposed or
    reassigned it by hand. sla starts the OPD's first-response clock on it; notify tells the
    citizen."""

    event_type: ClassVar[str] = TYPE_PREFIX + "ComplaintDisposed.v1"

    opd_id: str
    opd_name: str
    previous_opd_id: str | None = None
    confidence: float | None = Field(default=None, ge=0, le=1)
    reason: str | None = None
    language: Literal["id", "en"] = "id"
    category: str | None = Field(default=None, description="Subcategory code, when known: "
                                 "sla picks the deadline policy by it")
    report_type: ReportType | None = Field(default=None, description="From routing's reading")


class ComplaintAcceptedV1(ComplaintTransitionV1):
    event_type: ClassVar[str] = TYPE_PREFIX + "ComplaintAccepted.v1"


class ComplaintFollowedUpV1(ComplaintTransitionV1):
    """The OPD responded (tindak lanjut); `note` is its answer to the citizen."""

    event_type: ClassVar[str] = TYPE_PREFIX + "ComplaintFollowedUp.v1"


class CitizenRepliedV1(ComplaintTransitionV1):
    """The citizen answered a follow-up; the thread is back with the OPD."""

    event_type: ClassVar[str] = TYPE_PREFIX + "CitizenReplied.v1"


class ComplaintPostponedV1(ComplaintTransitionV1):
    """An operator asked the citizen for more information (`note`); the clock waits."""

    event_type: ClassVar[str] = TYPE_PREFIX + "ComplaintPostponed.v1"


class ComplaintInformationAddedV1(ComplaintTransitionV1):
    """The citizen added what was asked (`note`); routing routes the complaint again."""

    event_type: ClassVar[str] = TYPE_PREFIX + "ComplaintInformationAdded.v1"


class ComplaintResumedV1(ComplaintTransitionV1):
    """An operator resumed a postponed complaint without waiting; routing routes it again."""

    event_type: ClassVar[str] = TYPE_PREFIX + "ComplaintResumed.v1"


class ComplaintRejectedNotAuthorityV1(ComplaintTransitionV1):
    """The OPD said "bukan wewenang". `opd_id` is None (with no one now); `rejected_by` lists every
    OPD that has rejected this complaint, so routing never sends it back to any of them."""

    event_type: ClassVar[str] = TYPE_PREFIX + "ComplaintRejectedNotAuthority.v1"

    rejecting_opd_id: str
    reason: str
    rejected_by: list[str] = Field(default_factory=list)
    suggested_opd_id: str | None = None


class ComplaintArchivedV1(ComplaintTransitionV1):
    event_type: ClassVar[str] = TYPE_PREFIX + "ComplaintArchived.v1"

    reason: ArchiveReason


class ComplaintMarkedNotOursV1(ComplaintTransitionV1):
    """For another government or a state company; `responsible` names who is."""

    event_type: ClassVar[str] = TYPE_PREFIX + "ComplaintMarkedNotOurs.v1"

    responsible: str | None = None


class ComplaintMergedV1(ComplaintTransitionV1):
    """A duplicate merged into another complaint: its reporter follows that one from now on."""

    event_type: ClassVar[str] = TYPE_PREFIX + "ComplaintMerged.v1"

    into_complaint_id: UUID
    into_tracking_number: str


class ComplaintResolvedV1(ComplaintTransitionV1):
    """The OPD says the matter is resolved; `evidence` says how (what was done, where to see it)."""

    event_type: ClassVar[str] = TYPE_PREFIX + "ComplaintResolved.v1"

    evidence: str


class ComplaintClosedV1(ComplaintTransitionV1):
    """Closed by the citizen (actor_role citizen) or after their silence (actor_role system).
    sla starts the reopen window on it."""

    event_type: ClassVar[str] = TYPE_PREFIX + "ComplaintClosed.v1"


class ComplaintReopenedV1(ComplaintTransitionV1):
    """The citizen reopened a closed complaint, with a reason; it is back with its OPD."""

    event_type: ClassVar[str] = TYPE_PREFIX + "ComplaintReopened.v1"

    reason: str


class ComplaintRatedV1(ComplaintTransitionV1):
    """The citizen's satisfaction with the handling, 1 to 5 (feeds the city's service index)."""

    event_type: ClassVar[str] = TYPE_PREFIX + "ComplaintRated.v1"

    rating: int = Field(ge=1, le=5)
    comment: str | None = None


LIFECYCLE_EVENTS: tuple[type[ComplaintTransitionV1], ...] = (
    ComplaintDisposedV1, ComplaintAcceptedV1, ComplaintFollowedUpV1, CitizenRepliedV1,
    ComplaintPostponedV1, ComplaintInformationAddedV1, ComplaintResumedV1,
    ComplaintRejectedNotAuthorityV1, ComplaintArchivedV1, ComplaintMarkedNotOursV1,
    ComplaintMergedV1, ComplaintResolvedV1, ComplaintClosedV1, ComplaintReopenedV1,
    ComplaintRatedV1,
)


ClockKind = Literal["verification", "first_response", "resolution", "auto_close", "reopen_window"]
AlertLevel = Literal["opd_admin", "opd_head", "coordinator", "inspektorat"]


class SlaClockEvent(Event):
    """What every fact about one deadline clock carries. A clock is one start of a deadline
    (`clock_id`, stable across replays); `clock` says which deadline:

    - verification: the citizen's wait for a disposition, from submission (3 working days);
    - first_response: the OPD's own, from its disposition to its first follow-up (5);
    - resolution: the citizen's wait for the matter to be settled, from the first disposition,
      through every OPD that holds it (tiers 2, 5, 14, 60);
    - auto_close: the citizen's silence after the last follow-up (10), then the complaint closes;
    - reopen_window: how long a closed complaint may be reopened (10).
    No personal data: ids, OPDs and times only."""

    tracking_number: str
    clock: ClockKind
    clock_id: UUID | None = None
    jurisdiction: str | None = None
    opd_id: str | None = None
    due_at: datetime | None = None


class SlaClockStartedV1(SlaClockEvent):
    """A deadline clock started: `due_at` is when it falls due, under policy `policy_version`."""

    event_type: ClassVar[str] = TYPE_PREFIX + "SlaClockStarted.v1"

    started_at: datetime
    due_at: datetime
    working_days: int
    timezone: str
    policy_version: int | None = None


class SlaClockPausedV1(SlaClockEvent):
    """The clock waits (for the citizen, or the complaint is elsewhere); `remaining_working_seconds`
    is what is left of its working time, kept for when it resumes."""

    event_type: ClassVar[str] = TYPE_PREFIX + "SlaClockPaused.v1"

    remaining_working_seconds: float
    reason: str


class SlaClockResumedV1(SlaClockEvent):
    """The clock runs again with what it had left: `due_at` is the deadline moved by the pause."""

    event_type: ClassVar[str] = TYPE_PREFIX + "SlaClockResumed.v1"

    due_at: datetime
    previous_due_at: datetime | None = None
    reason: str


class SlaClockStoppedV1(SlaClockEvent):
    """The clock ended: `met` (what it waited for happened in time), `late` (after the breach),
    `withdrawn` (no longer this clock's business: reassigned, rejected, merged, archived, ...),
    `expired` (a reopen window ran out). `working_seconds_used` is the working time it ran."""

    event_type: ClassVar[str] = TYPE_PREFIX + "SlaClockStopped.v1"

    outcome: Literal["met", "late", "withdrawn", "expired"]
    reason: str
    working_seconds_used: float | None = None


class SlaAlert(SlaClockEvent):
    """What operators watch, on the alerts topic: a clock at risk, breached or escalated."""

    due_at: datetime


class SlaWarningIssuedV1(SlaAlert):
    """A clock is at risk: `threshold` names the policy's warning (e.g. `elapsed:0.8`,
    `hours_left:4`). Issued once per threshold, only in working time, never at night."""

    event_type: ClassVar[str] = TYPE_PREFIX + "SlaWarningIssued.v1"

    threshold: str
    elapsed_share: float = Field(ge=0)
    working_seconds_left: float


class SlaBreachedV1(SlaAlert):
    """A clock passed its deadline with what it waited for not done."""

    event_type: ClassVar[str] = TYPE_PREFIX + "SlaBreached.v1"


class SlaEscalatedV1(SlaAlert):
    """A breached clock climbed the ladder: `level` is who must act now (OPD admin, OPD head,
    the coordinator, Inspektorat); `step` counts from 1."""

    event_type: ClassVar[str] = TYPE_PREFIX + "SlaEscalated.v1"

    level: AlertLevel
    step: int = Field(ge=1)


class SlaAutoCloseDueV1(SlaClockEvent):
    """The citizen stayed silent for the policy's working days after the last follow-up: intake
    closes the complaint (the lifecycle's auto_close), if it still waits for the citizen."""

    event_type: ClassVar[str] = TYPE_PREFIX + "SlaAutoCloseDue.v1"

    due_at: datetime


SLA_CLOCK_EVENTS: tuple[type[SlaClockEvent], ...] = (
    SlaClockStartedV1, SlaClockPausedV1, SlaClockResumedV1, SlaClockStoppedV1, SlaAutoCloseDueV1,
)
SLA_ALERT_EVENTS: tuple[type[SlaAlert], ...] = (SlaWarningIssuedV1, SlaBreachedV1, SlaEscalatedV1)


NotifyChannel = Literal["email", "sms", "whatsapp", "webhook"]
NotifyAudience = Literal["citizen", "frontend", "opd", "operator"]


class NotificationSentV1(Event):
    """Notify delivered a message (to the citizen unless `audience` says otherwise). Carries no
    address. For a citizen it is about the complaint whose citizen was written to."""

    event_type: ClassVar[str] = TYPE_PREFIX + "NotificationSent.v1"

    tracking_number: str
    channel: NotifyChannel
    template: str
    language: Literal["id", "en"]
    about_event_id: UUID
    audience: NotifyAudience = "citizen"
    delivery_id: UUID | None = None
    attempts: int = Field(default=1, ge=1, description="Attempts it took, on every channel")
    fell_back_from: list[NotifyChannel] = Field(
        default_factory=list, description="Channels tried first that failed for good")
    transport: str | None = Field(default=None, description="smtp, gateway, twilio, topic, http")


class NotificationFailedV1(Event):
    """Notify gave a message up for good: every channel it could use failed permanently or
    kept failing past its retries, or there was no way to reach the recipient. No address."""

    event_type: ClassVar[str] = TYPE_PREFIX + "NotificationFailed.v1"

    tracking_number: str
    template: str
    audience: NotifyAudience = "citizen"
    delivery_id: UUID
    about_event_id: UUID
    channels_tried: list[NotifyChannel] = Field(default_factory=list)
    attempts: int = Field(ge=0)
    error_class: Literal["permanent", "exhausted", "unreachable", "uncomposable"]
    reason: str = Field(description="The last error, for operators; never an address")


class DeliveryDeadLetteredV1(NotificationFailedV1):
    """The same failure on notify's delivery dead-letter topic, where operators look for what
    to replay (`POST /v1/deliveries/{delivery_id}/retry` on notify)."""

    event_type: ClassVar[str] = TYPE_PREFIX + "DeliveryDeadLettered.v1"


# ---- channels: SMS, WhatsApp and social media, through adapters outside the platform

Channel = Literal["sms", "whatsapp", "telegram", "facebook", "instagram", "x", "tiktok",
                  "other_social"]
PHONE_CHANNELS: frozenset[str] = frozenset({"sms", "whatsapp"})
ChannelOutcome = Literal["created", "replied", "info_added", "refused"]
# Why intake could not act on a message; notify words each for the citizen.
ChannelRefusal = Literal["too_short", "too_long", "empty_reply", "not_found",
                         "not_awaiting_reply"]
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_ADAPTER = r"^[a-z0-9][a-z0-9._-]{0,63}$"


def e164(address: str) -> str:
    """A phone address as E.164 ('+6281234567890'); separators and a missing '+' are forgiven,
    a national number ('0812...') is not: its country cannot be known for sure."""
    compact = re.sub(r"[\s().-]", "", address)
    if compact and compact[0].isdigit() and compact[0] != "0":
        compact = "+" + compact
    if not _E164.match(compact):
        raise ValueError("a phone address in E.164 form is expected, e.g. +6281234567890")
    return compact


class ChannelEvent(Event):
    """What channel messages share: a citizen's message is not (yet) about one complaint, so the
    complaint id is optional, and each chooses its record key (the sender, not a complaint)."""

    complaint_id: UUID | None = None  # type: ignore[assignment]

    @property
    def partition_key(self) -> str:
        raise NotImplementedError


class MediaReference(BaseModel):
    """A photo or file the citizen sent, as a link the adapter serves; intake never fetches it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    url: Text = Field(min_length=8, max_length=2000, pattern=r"^https?://\S+$")
    content_type: Text | None = Field(default=None, max_length=100)


class ChannelMessageReceivedV1(ChannelEvent):
    """An adapter received a citizen's message (SMS, WhatsApp, social media) and hands it over.
    Published by adapters outside the platform on `complaints.channels.inbound`, keyed by
    `sender`; `occurred_at` defaults to `received_at`. Personal data: the topic is read by
    intake only. `(adapter, message_id)` identifies the message: a repeat changes nothing."""

    event_type: ClassVar[str] = TYPE_PREFIX + "ChannelMessageReceived.v1"

    adapter: str = Field(pattern=_ADAPTER, description="The adapter's name, e.g. 'sms-1708'")
    message_id: Text = Field(min_length=1, max_length=200,
                             description="The adapter's own id of the message")
    channel: Channel
    sender: Text = Field(min_length=1, max_length=200,
                         description="E.164 phone for sms/whatsapp, else the handle or user id")
    text: Text = Field(default="", max_length=10000)
    media: list[MediaReference] = Field(default_factory=list, max_length=10)
    received_at: AwareDatetime
    language: Literal["id", "en"] = "id"
    jurisdiction: str | None = Field(default=None, max_length=80, pattern=r"^[a-z0-9-]+$",
                                     description="When the adapter serves one city")

    @model_validator(mode="before")
    @classmethod
    def _occurred_when_received(cls, data: Any) -> Any:
        if isinstance(data, dict) and "occurred_at" not in data and "received_at" in data:
            return {**data, "occurred_at": data["received_at"]}
        return data

    @field_validator("sender")
    @classmethod
    def _phone_senders_in_e164(cls, sender: str, info: ValidationInfo) -> str:
        return e164(sender) if info.data.get("channel") in PHONE_CHANNELS else sender

    @property
    def partition_key(self) -> str:
        return self.sender


class ChannelMessageHandledV1(ChannelEvent):
    """Intake's answer to a channel message: a complaint created, a reply or added information
    recorded, or why it could not act (`reason`, with `detail` for operators). The sender's
    address travels only sealed (Fernet, like CitizenContactProvided.v2's contact: a JSON object
    {channel, address}); `sender_ref` is a keyed hash of it, the record key, so one sender's
    answers keep their order. On the contacts topic: read by notify only."""

    event_type: ClassVar[str] = TYPE_PREFIX + "ChannelMessageHandled.v1"

    adapter: str
    channel: Channel
    in_reply_to: str = Field(description="The adapter's message id this answers")
    outcome: ChannelOutcome
    tracking_number: str | None = None
    reason: ChannelRefusal | None = None
    detail: str | None = Field(default=None, description="Why, for operators; never personal data")
    language: Literal["id", "en"] = "id"
    sealed_sender: str = Field(description="Fernet token of {channel, address}")
    sender_ref: str = Field(description="Keyed hash of the sender's address (not reversible)")

    @property
    def partition_key(self) -> str:
        return self.sender_ref


class SendChannelMessageV1(ChannelEvent):
    """A command to a channel adapter: send `text` to `recipient` (in clear: the adapter must
    reach them, so `complaints.channels.outbound` is readable by adapters only). `message_id`
    is stable across redeliveries, so an adapter sends each once. Keyed by `recipient_ref`."""

    event_type: ClassVar[str] = TYPE_PREFIX + "SendChannelMessage.v1"

    message_id: str = Field(description="Stable id of this outbound message: dedupe on it")
    adapter: str
    channel: Channel
    recipient: str
    recipient_ref: str = Field(description="Keyed hash of the recipient, the record key")
    text: str
    in_reply_to: str | None = Field(default=None, description="The adapter's inbound message id")
    tracking_number: str | None = None
    template: str
    language: Literal["id", "en"] = "id"

    @property
    def partition_key(self) -> str:
        return self.recipient_ref


CHANNEL_EVENTS: tuple[type[ChannelEvent], ...] = (
    ChannelMessageReceivedV1, ChannelMessageHandledV1, SendChannelMessageV1,
)


# ---- OPD systems: per-OPD feeds (routing) and the actions topic (intake)

OpdAction = Literal["accept", "respond", "reject_not_authority", "resolve"]
OpdRefusal = Literal["invalid_token", "not_opd", "not_found", "transition_not_allowed",
                     "action_refused"]
_OPD_ID = r"^[a-z0-9][a-z0-9-]*$"


class OpdLocation(BaseModel):
    """Where, as the OPD may see it: for an anonim report only the kecamatan and kelurahan (a
    street address or coordinates can name the reporter's house); in full otherwise."""

    model_config = ConfigDict(frozen=True)

    kecamatan: str | None = None
    kelurahan: str | None = None
    address: str | None = None
    lat: float | None = None
    lon: float | None = None


class OpdFeedEvent(Event):
    """What every record on an OPD's own topic carries. Never a reporter's name, NIK, phone or
    e-mail: routing never holds them, and masks any a citizen wrote into the text. No fixed
    topic: routing records each on `topics.opd_topic(jurisdiction, opd_id)`."""

    tracking_number: str
    jurisdiction: str
    opd_id: str = Field(description="The OPD this record is for (the topic's OPD)")


class OpdComplaintAssignedV1(OpdFeedEvent):
    """A complaint is now this OPD's (disposed by routing or an operator): the complaint as
    the OPD may see it. Start work on it."""

    event_type: ClassVar[str] = TYPE_PREFIX + "OpdComplaintAssigned.v1"

    opd_name: str
    title: str
    description: str = Field(description="As submitted; contacts written into it are masked")
    added_information: list[str] = Field(default_factory=list,
                                         description="What the citizen added when asked, oldest first")
    category: str | None = Field(default=None, description="Subcategory code, e.g. pupr.jalan-rusak")
    location: OpdLocation | None = None
    anonymous: bool = False
    confidential: bool = Field(default=False, description="Rahasia: never publish the report")
    language: Literal["id", "en"] = "id"
    note: str | None = Field(default=None, description="The disposition note")
    reason: str | None = Field(default=None, description="Why it was routed here")
    first_response_due_at: datetime | None = Field(
        default=None, description="When the first response is due, when already known")


class OpdComplaintUpdatedV1(OpdFeedEvent):
    """A later fact about a complaint this OPD holds: its own steps echoed (accept, respond,
    resolve), a citizen's reply, closure (by the citizen or after silence), reopening and the
    rating. The fields of the lifecycle fact it comes from, without who the citizen is."""

    event_type: ClassVar[str] = TYPE_PREFIX + "OpdComplaintUpdated.v1"

    action: str
    from_status: str
    to_status: str
    actor_role: ActorRole
    note: str | None = None
    evidence: str | None = None
    reason: str | None = Field(default=None, description="Why it was reopened")
    rating: int | None = Field(default=None, ge=1, le=5)
    comment: str | None = None
    due_at: datetime | None = Field(default=None, description="A deadline set (SLA), when known")


class OpdComplaintWithdrawnV1(OpdFeedEvent):
    """The complaint is no longer this OPD's: stop work on it. `reason` says why:
    `reassigned` (to another OPD; which one is not told), `rejected` (this OPD said bukan
    wewenang), `merged` (a duplicate of another complaint), `archived`, `not_ours`, `other`."""

    event_type: ClassVar[str] = TYPE_PREFIX + "OpdComplaintWithdrawn.v1"

    action: str
    to_status: str
    reason: Literal["reassigned", "rejected", "merged", "archived", "not_ours", "other"]
    into_tracking_number: str | None = Field(default=None, description="For a merge: the survivor")


class OpdDeadlineNoticeV1(OpdFeedEvent):
    """What sla says about this OPD's deadlines on a complaint it holds: a deadline set
    (`deadline_set`: its first response or the resolution target), moved (`deadline_moved`,
    after waiting for the citizen), at risk (`warning`, with `threshold`), missed (`breach`) or
    escalated (`escalation`, with `level`: who must act now)."""

    event_type: ClassVar[str] = TYPE_PREFIX + "OpdDeadlineNotice.v1"

    notice: Literal["deadline_set", "deadline_moved", "warning", "breach", "escalation"]
    clock: ClockKind
    due_at: datetime
    threshold: str | None = None
    level: AlertLevel | None = None
    step: int | None = None


class TakeOpdActionV1(Event):
    """A command from an OPD system outside the platform, on `complaints.opd.actions`: take
    `action` on the complaint, as the OPD named by `token`, a JWT the city's identity provider
    signed for the OPD system's service account (role opd, its OPD id in the opd claim). Nothing
    in the record itself says who sends it; intake verifies the token exactly as it verifies
    staff on HTTP. `request_id` is the OPD system's own id, echoed in a refusal."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    event_type: ClassVar[str] = TYPE_PREFIX + "TakeOpdAction.v1"

    request_id: Text = Field(min_length=1, max_length=200)
    tracking_number: str = Field(pattern=r"^[1-9][0-9]{0,19}$")
    jurisdiction: str | None = Field(default=None, max_length=80, pattern=r"^[a-z0-9-]+$",
                                     description="Your feed's jurisdiction: where a refusal is "
                                                 "told when the complaint is not found")
    action: OpdAction
    note: Text | None = Field(default=None, min_length=1, max_length=5000)
    reason: Text | None = Field(default=None, min_length=3, max_length=1000)
    suggested_opd_id: str | None = Field(default=None, min_length=2, max_length=80, pattern=_OPD_ID)
    evidence: Text | None = Field(default=None, min_length=3, max_length=1000)
    token: str = Field(min_length=1, max_length=8192, repr=False,
                       description="The OPD system's signed JWT; never stored or forwarded")

    @model_validator(mode="after")
    def _fields_of_the_action(self) -> "TakeOpdActionV1":
        needed = {"respond": "note", "reject_not_authority": "reason", "resolve": "evidence"}
        field = needed.get(self.action)
        if field is not None and not getattr(self, field):
            raise ValueError(f"{self.action} needs {field}")
        return self


class OpdActionRefusedV1(Event):
    """Intake did not apply an OPD system's action (TakeOpdAction.v1). `opd_id` is the OPD the
    verified token names (None when the token did not verify: then no OPD is told); routing
    forwards the refusal to that OPD's feed. `not_found` says the same for a complaint that
    does not exist and one that is not this OPD's. Never carries the token."""

    event_type: ClassVar[str] = TYPE_PREFIX + "OpdActionRefused.v1"

    request_id: str
    tracking_number: str
    jurisdiction: str | None = None
    opd_id: str | None = None
    action: str
    reason: OpdRefusal
    detail: str | None = Field(default=None, description="Why, in words; never personal data")
    current_status: str | None = Field(default=None, description="When the OPD may see the complaint")


OPD_FEED_EVENTS: tuple[type[OpdFeedEvent], ...] = (
    OpdComplaintAssignedV1, OpdComplaintUpdatedV1, OpdComplaintWithdrawnV1, OpdDeadlineNoticeV1,
)


EVENT_TYPES: dict[str, type[Event]] = {
    model.event_type: model
    for model in (
        ComplaintSubmittedV1,
        CitizenContactProvidedV2,
        ComplaintAssignedV1,
        ComplaintSentToTriageV1, ComplaintFoundNotOursV1,
        DuplicateCandidatesFoundV1,
        *SLA_CLOCK_EVENTS,
        *SLA_ALERT_EVENTS,
        NotificationSentV1, NotificationFailedV1, DeliveryDeadLetteredV1,
        *LIFECYCLE_EVENTS,
        *CHANNEL_EVENTS,
        *OPD_FEED_EVENTS,
        TakeOpdActionV1,
        OpdActionRefusedV1,
    )
}


# Where each event travels: decided here, once, so no handler can publish to the wrong topic.
TOPIC_OF: dict[type[Event], topics.Topic] = {
    ComplaintSubmittedV1: topics.INTAKE_EVENTS,
    CitizenContactProvidedV2: topics.INTAKE_CONTACTS,
    ComplaintAssignedV1: topics.ROUTING_EVENTS,
    ComplaintSentToTriageV1: topics.ROUTING_EVENTS,
    ComplaintFoundNotOursV1: topics.ROUTING_EVENTS,
    DuplicateCandidatesFoundV1: topics.ROUTING_EVENTS,
    **{model: topics.SLA_EVENTS for model in SLA_CLOCK_EVENTS},
    **{model: topics.SLA_ALERTS for model in SLA_ALERT_EVENTS},
    NotificationSentV1: topics.NOTIFY_EVENTS,
    NotificationFailedV1: topics.NOTIFY_EVENTS,
    DeliveryDeadLetteredV1: topics.NOTIFY_DEAD_LETTERS,
    **{model: topics.INTAKE_EVENTS for model in LIFECYCLE_EVENTS},
    ChannelMessageReceivedV1: topics.CHANNELS_INBOUND,
    ChannelMessageHandledV1: topics.INTAKE_CONTACTS,
    SendChannelMessageV1: topics.CHANNELS_OUTBOUND,
    TakeOpdActionV1: topics.OPD_ACTIONS,
    OpdActionRefusedV1: topics.INTAKE_EVENTS,
    # OPD_FEED_EVENTS have no fixed topic: each goes to its OPD's (`topics.opd_topic`).
}
