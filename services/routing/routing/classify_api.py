"""`POST /v1/classify`: what routing would read in a text, for front ends (suggest a category
while the citizen types) and for operators checking a decision. Public, like the taxonomy:
nothing is stored, and the answer names categories and offices, never a person."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from backbone.problems import ProblemError
from contracts import taxonomy as tx
from contracts.text import Text
from routing.domain.jurisdictions import resolve

router = APIRouter(prefix="/v1", tags=["classify"])


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={
        "example": {"title": "Jalan berlubang", "jurisdiction": "kota-bandung",
                    "description": "Mhn diperbaiki, jln berlubang besar dpn SDN 3 sdh 2 minggu"}})

    title: Text = Field(min_length=1, max_length=200)
    description: Text = Field(min_length=1, max_length=5000)
    jurisdiction: Annotated[str, Field(max_length=60, pattern=r"^[a-z0-9-]+$")] | None = None


class Named(BaseModel):
    code: str
    name: str


class Destination(BaseModel):
    opd_id: str | None = None
    opd_name: str | None = None
    not_ours: str | None = Field(default=None, description="Another government's body")


class Alternative(BaseModel):
    subcategory: Named
    confidence: float
    destination: Destination | None = None


class ClassifyResponse(BaseModel):
    title: str
    description: str
    jurisdiction: str | None
    main_category: Named
    subcategory: Named
    opd: Destination | None = Field(description="Where the jurisdiction sends it (null without one)")
    report_type: Literal["pengaduan", "aspirasi", "permintaan_informasi"]
    urgency: Literal["rendah", "sedang", "tinggi"]
    confidence: float = Field(ge=0, le=1, description="Calibrated: 0.9 means about 9 in 10 right")
    alternatives: list[Alternative]
    explanation: list[str] = Field(description="The terms that decided")
    decision: Literal["auto", "triage"]


def _named(code: str) -> Named:
    taxonomy = tx.load()
    sub = taxonomy.subcategory(code)
    if sub is not None:
        return Named(code=code, name=sub.name)
    main = taxonomy.category(code)
    return Named(code=code, name=main.name if main else code)


@router.post("/classify", response_model=ClassifyResponse,
             summary="Read a complaint's text: category, where it goes, how sure, and why")
async def classify(body: ClassifyRequest, request: Request) -> ClassifyResponse:
    state = request.app.state
    read = state.classifier.classify(body.title, body.description)
    jurisdiction = (await state.jurisdictions.current(body.jurisdiction)
                    if body.jurisdiction else None)
    if body.jurisdiction and jurisdiction is None:
        raise ProblemError(404, "unknown-jurisdiction", "No such jurisdiction",
                           f"{body.jurisdiction!r} is not configured; GET /v1/jurisdictions lists them.")

    def destination(code: str) -> Destination | None:
        if jurisdiction is None:
            return None
        found = resolve(jurisdiction, code)
        return Destination(opd_id=found.opd_id, opd_name=found.opd_name, not_ours=found.responsible)

    where = destination(read.subcategory)
    # Without a jurisdiction, only how sure the reading is decides.
    configured = where is None or bool(where.opd_id or where.not_ours)
    return ClassifyResponse(
        title=body.title, description=body.description, jurisdiction=body.jurisdiction,
        main_category=_named(read.main_category), subcategory=_named(read.subcategory),
        opd=where, report_type=read.report_type, urgency=read.urgency,
        confidence=read.confidence,
        alternatives=[Alternative(subcategory=_named(c), confidence=p, destination=destination(c))
                      for c, p in read.alternatives],
        explanation=list(read.explanation),
        decision="auto" if configured and read.confidence >= state.min_confidence else "triage")
