"""intake's HTTP schemas for citizens' front ends (native JSON): what a request may carry and
what an answer shows, validated at the edge. They live beside the routes; the domain sees only
the command they are turned into (`to_command`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from contracts.events import ArchiveReason, Location
from contracts.lifecycle import Action
from contracts.text import Text
from intake.domain.actions import TakeAction
from intake.domain.commands import SubmitComplaint
from intake.domain.complaint import Reporter


class ReporterIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text | None = Field(default=None, max_length=120)
    email: EmailStr | None = None
    phone: Text | None = Field(
        default=None, pattern=r"^\+?[0-9]{8,15}$",
        description="Digits, optionally with a leading +, e.g. +6281234567890")
    nik: Text | None = Field(default=None, pattern=r"^[0-9]{16}$",
                             description="Nomor Induk Kependudukan, 16 digits")


class SubmitComplaintRequest(BaseModel):
    """A citizen's new complaint, as a front end sends it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={
        "example": {
            "title": "Jalan berlubang di Jl. Merdeka",
            "description": "Mohon diperbaiki, jalan berlubang besar di depan SDN 3 "
                           "sudah dua minggu dan membahayakan pengendara motor.",
            "location": {"address": "Jl. Merdeka No. 10", "kecamatan": "Sumur Bandung"},
            "reporter": {"name": "Siti Rahayu", "email": "siti@example.id"},
        }
    })

    title: Text = Field(min_length=5, max_length=200)
    description: Text = Field(min_length=20, max_length=5000)
    category: Text | None = Field(default=None, max_length=80)
    location: Location | None = None
    channel: Literal["web", "mobile", "sms", "whatsapp", "social", "open311"] = "web"
    jurisdiction: Text | None = Field(default=None, max_length=80, pattern=r"^[a-z0-9-]+$")
    anonymous: bool = False
    confidential: bool = False
    language: Literal["id", "en"] = "id"
    reporter: ReporterIn | None = None

    @field_validator("title", "description")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @model_validator(mode="after")
    def anonymous_needs_no_identity(self) -> "SubmitComplaintRequest":
        if self.reporter and self.anonymous and self.reporter.nik:
            raise ValueError("an anonymous report must not carry a NIK")
        return self

    def to_command(self) -> SubmitComplaint:
        return SubmitComplaint(
            title=self.title, description=self.description, category=self.category,
            location=self.location, channel=self.channel, jurisdiction=self.jurisdiction,
            anonymous=self.anonymous, confidential=self.confidential, language=self.language,
            reporter=Reporter(**self.reporter.model_dump()) if self.reporter else None,
        )


# ---- actions: one body per action, told apart by `action` (the contracts' Action values)

Note = Annotated[Text, Field(min_length=1, max_length=5000)]
ShortText = Annotated[Text, Field(min_length=3, max_length=1000)]
OpdId = Annotated[str, Field(min_length=2, max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")]


class _ActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    def to_command(self) -> TakeAction:
        fields = self.model_dump(exclude={"action"}, exclude_none=True)
        return TakeAction(action=Action(self.action), **fields)  # type: ignore[attr-defined]


class AcceptBody(_ActionBody):
    """OPD: take the complaint up."""
    action: Literal["accept"]
    note: Note | None = None


class RespondBody(_ActionBody):
    """OPD: a follow-up (tindak lanjut): the answer the citizen reads."""
    action: Literal["respond"]
    note: Note


class RejectNotAuthorityBody(_ActionBody):
    """OPD: "bukan wewenang"; it goes back to routing, never to this OPD again."""
    action: Literal["reject_not_authority"]
    reason: ShortText
    suggested_opd_id: OpdId | None = None


class ResolveBody(_ActionBody):
    """OPD: done, with evidence (what was done, where to see it); the citizen confirms."""
    action: Literal["resolve"]
    evidence: ShortText
    note: Note | None = None


class CitizenReplyBody(_ActionBody):
    """Citizen: answer the OPD's follow-up."""
    action: Literal["citizen_reply"]
    note: Note


class ProvideInfoBody(_ActionBody):
    """Citizen: add what the operator asked for; the complaint is routed again."""
    action: Literal["provide_info"]
    note: Note


class CloseBody(_ActionBody):
    """Citizen: the matter is settled."""
    action: Literal["close"]
    note: Note | None = None


class RateBody(_ActionBody):
    """Citizen: how the complaint was handled, 1 (bad) to 5 (very good), once per closing."""
    action: Literal["rate"]
    rating: int = Field(ge=1, le=5)
    comment: Annotated[Text, Field(max_length=1000)] | None = None


class ReopenBody(_ActionBody):
    """Citizen: not settled after all, within the reopen window."""
    action: Literal["reopen"]
    reason: ShortText


class AssignBody(_ActionBody):
    """Operator: verify and dispose to an OPD by hand (or `reassign` one already disposed)."""
    action: Literal["assign", "reassign"]
    opd_id: OpdId
    opd_name: Annotated[Text, Field(max_length=200)] | None = None
    note: Note | None = None


class PostponeBody(_ActionBody):
    """Operator: ask the citizen for more information (`note` is the question)."""
    action: Literal["postpone"]
    note: Note


class ResumeBody(_ActionBody):
    """Operator: resume a postponed complaint without waiting for the citizen."""
    action: Literal["resume"]
    note: Note | None = None


class ArchiveBody(_ActionBody):
    """Operator: archive with a reason from the fixed list."""
    action: Literal["archive"]
    reason: ArchiveReason
    note: Note | None = None


class MarkNotOursBody(_ActionBody):
    """Operator: for another government or a state company, naming who is responsible."""
    action: Literal["mark_not_ours"]
    responsible: Annotated[Text, Field(min_length=2, max_length=200)]
    note: Note | None = None


class MergeBody(_ActionBody):
    """Operator: this complaint duplicates another; both reporters follow the other one."""
    action: Literal["merge"]
    into: str = Field(pattern=r"^[0-9]{1,20}$", description="Tracking number of the surviving complaint")
    note: Note | None = None


ActionRequest = Annotated[Union[
    AcceptBody, RespondBody, RejectNotAuthorityBody, ResolveBody, CitizenReplyBody,
    ProvideInfoBody, CloseBody, RateBody, ReopenBody, AssignBody, PostponeBody, ResumeBody,
    ArchiveBody, MarkNotOursBody, MergeBody,
], Field(discriminator="action")]


class Problem(BaseModel):
    """RFC 9457 problem details: every error intake answers, as application/problem+json."""
    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[dict] | None = Field(default=None, description="422: each invalid field")
    current_status: str | None = Field(default=None, description="409: the complaint's status")
    allowed_actions: list[str] | None = Field(default=None, description="409: what the caller may do now")


class ComplaintReceipt(BaseModel):
    complaint_id: str
    tracking_number: str
    access_token: str
    status: str
    submitted_at: datetime
    status_url: str


class Opd(BaseModel):
    id: str
    name: str


class HistoryItem(BaseModel):
    at: datetime
    action: str
    from_status: str | None = None
    status: str = Field(description="The status after this entry")
    actor_role: str = Field(description="citizen, opd, operator or system")
    actor: str = Field(description="The staff member or service; 'citizen' for the reporter")
    note: str
    details: dict = Field(default_factory=dict)


class ReporterView(BaseModel):
    """Shown to staff only when the report is not anonymous."""
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    nik: str | None = None


class MergedInto(BaseModel):
    """A merged duplicate follows the surviving complaint: its status and timeline."""
    tracking_number: str
    status: str
    assigned_opd: Opd | None
    history: list[HistoryItem]


class AttachmentView(BaseModel):
    """A file attached to a complaint: its sniffed type, never the name it was sent with."""
    id: str
    content_type: str = Field(description="The type found in the content, not the one declared")
    size: int = Field(description="Bytes, after metadata was stripped")
    uploaded_at: datetime
    uploaded_by_role: str = Field(description="citizen, opd or operator")
    url: str


class ComplaintView(BaseModel):
    tracking_number: str
    status: str
    title: str
    description: str
    category: str | None
    channel: str
    jurisdiction: str
    location: Location | None = None
    anonymous: bool
    confidential: bool
    submitted_at: datetime
    assigned_opd: Opd | None
    first_response_due_at: datetime | None
    due_at: datetime | None = Field(default=None, description="The deadline the OPD must meet now")
    overdue: bool = False
    rejected_by: list[str] = Field(default_factory=list)
    reopen_until: datetime | None = None
    rating: int | None = None
    rating_comment: str | None = None
    merged_into: MergedInto | None = None
    reporter: ReporterView | None = Field(default=None, description="Staff only; never for anonim reports")
    allowed_actions: list[str] = Field(description="What the caller may do now")
    history: list[HistoryItem]
    attachments: list["AttachmentView"] = Field(
        default_factory=list, description="Photos, PDF and videos; download each at its url")


class ComplaintSummary(BaseModel):
    tracking_number: str
    status: str
    title: str
    category: str | None
    jurisdiction: str
    assigned_opd: Opd | None
    submitted_at: datetime
    due_at: datetime | None
    overdue: bool
    anonymous: bool
    url: str


class ComplaintPage(BaseModel):
    items: list[ComplaintSummary]
    page: int
    page_size: int
    has_more: bool
    next: str | None = Field(default=None, description="The next page's URL, when there is one")
