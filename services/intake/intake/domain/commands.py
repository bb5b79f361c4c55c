"""What citizens and front ends ask intake to do: imperatives, validated at the edge."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from contracts.events import Location


class ReporterIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, max_length=120)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9]{8,15}$",
                              description="Digits, optionally with a leading +, e.g. +6281234567890")
    nik: str | None = Field(default=None, pattern=r"^[0-9]{16}$",
                            description="Nomor Induk Kependudukan, 16 digits")


class SubmitComplaint(BaseModel):
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

    title: str = Field(min_length=5, max_length=200)
    description: str = Field(min_length=20, max_length=5000)
    category: str | None = Field(default=None, max_length=80)
    location: Location | None = None
    channel: Literal["web", "mobile", "sms", "whatsapp", "social", "open311"] = "web"
    jurisdiction: str | None = Field(default=None, max_length=80, pattern=r"^[a-z0-9-]+$")
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
    def anonymous_needs_no_identity(self) -> "SubmitComplaint":
        if self.reporter and self.anonymous and self.reporter.nik:
            raise ValueError("an anonymous report must not carry a NIK")
        return self
