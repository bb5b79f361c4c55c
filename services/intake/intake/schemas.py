"""intake's HTTP schemas for citizens' front ends (native JSON): what a request may carry and
what an answer shows, validated at the edge. They live beside the routes; the domain sees only
the command they are turned into (`to_command`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from contracts.events import Location
from contracts.text import Text
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
    status: str
    action: str
    actor: str
    note: str


class ComplaintView(BaseModel):
    tracking_number: str
    status: str
    title: str
    category: str | None
    channel: str
    submitted_at: datetime
    assigned_opd: Opd | None
    first_response_due_at: datetime | None
    allowed_actions: list[str]
    history: list[HistoryItem]
