"""Operators' HTTP API for who else hears: OPD staff, OPD heads, operators and the Inspektorat
(an address on one channel each, with a language and, for operators, a daily digest), and
front ends' webhook endpoints (a URL per front end, named as its API key in intake; the secret
is shown once, at registration). Addresses are sealed at rest and masked in answers. An
operator whose token names a jurisdiction manages that jurisdiction's addresses only."""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from backbone.staff_auth import StaffIdentity, operator_caller, require_jurisdiction
from contracts.events import e164
from notify.domain.delivery import StaffAddress, WebhookEndpoint
from notify.masking import mask

router = APIRouter(prefix="/v1", tags=["recipients"])


async def operator(request: Request) -> StaffIdentity:
    """An operator's verified token (401 without one, 403 for anyone else)."""
    return await operator_caller(request)


Operator = Annotated[StaffIdentity, Depends(operator)]
_PROBLEM = {"content": {"application/problem+json": {}}}
_ERRORS = {401: {"description": "No valid staff token", **_PROBLEM},
           403: {"description": "Operators (of this jurisdiction) only", **_PROBLEM}}
_SLUG = r"^[a-z0-9][a-z0-9-]{0,79}$"


class NewStaffAddress(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    jurisdiction: str = Field(pattern=_SLUG)
    role: Literal["opd_staff", "opd_head", "operator", "inspektorat"]
    opd_id: str | None = Field(default=None, pattern=_SLUG)
    channel: Literal["email", "sms", "whatsapp"]
    address: str = Field(min_length=3, max_length=254)
    language: Literal["id", "en"] = "id"
    digest: bool = Field(default=False, description="Operators: one message a day instead of one per alert")
    label: str | None = Field(default=None, max_length=120)

    @model_validator(mode="after")
    def _consistent(self) -> "NewStaffAddress":
        if self.role in ("opd_staff", "opd_head") and not self.opd_id:
            raise ValueError("an OPD role needs opd_id")
        if self.role in ("operator", "inspektorat") and self.opd_id:
            raise ValueError("operators and the Inspektorat belong to no OPD")
        if self.digest and self.role != "operator":
            raise ValueError("only operators can choose a digest")
        if self.channel == "email":
            if "@" not in self.address or " " in self.address:
                raise ValueError("not an e-mail address")
        else:
            self.address = e164(self.address)
        return self


class StaffAddressView(BaseModel):
    id: uuid.UUID
    jurisdiction: str
    role: str
    opd_id: str | None
    channel: str
    address: str = Field(description="Masked")
    language: str
    digest: bool
    label: str | None


class NewWebhook(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    frontend: str = Field(min_length=2, max_length=80, description="The front end's API key name in intake")
    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://\S+$")
    description: str | None = Field(default=None, max_length=200)


class WebhookView(BaseModel):
    id: uuid.UUID
    frontend: str
    url: str
    description: str | None


class IssuedWebhook(WebhookView):
    secret: str = Field(description="whsec_...: shown this once; verify `webhook-signature` with it")


def _staff_view(request: Request, a: StaffAddress) -> StaffAddressView:
    address = request.app.state.cipher.open(a.sealed_address).get("address", "")
    return StaffAddressView(id=a.id, jurisdiction=a.jurisdiction, role=a.role, opd_id=a.opd_id,
                            channel=a.channel, address=mask(a.channel, address) or "",
                            language=a.language, digest=a.digest, label=a.label)


@router.post("/staff-addresses", status_code=201, response_model=StaffAddressView,
             responses=_ERRORS, tags=["recipients"], summary="Register a staff address")
async def add_staff(body: NewStaffAddress, request: Request, who: Operator) -> StaffAddressView:
    require_jurisdiction(who, body.jurisdiction)
    address = StaffAddress(
        id=uuid.uuid4(), jurisdiction=body.jurisdiction, role=body.role, opd_id=body.opd_id,
        channel=body.channel, sealed_address=request.app.state.cipher.seal({"address": body.address}),
        language=body.language, digest=body.digest, label=body.label)
    async with request.app.state.runtime.unit_of_work() as uow:
        await uow.directory.add_staff(address)
    return _staff_view(request, address)


@router.get("/staff-addresses", response_model=list[StaffAddressView], responses=_ERRORS,
            summary="Staff addresses (masked)")
async def list_staff(request: Request, who: Operator,
                     jurisdiction: Annotated[str | None, Query(pattern=_SLUG)] = None
                     ) -> list[StaffAddressView]:
    if who.jurisdiction is not None:
        jurisdiction = who.jurisdiction
    async with request.app.state.runtime.unit_of_work() as uow:
        found = await uow.directory.staff(jurisdiction)
    return [_staff_view(request, a) for a in found]


@router.delete("/staff-addresses/{address_id}", status_code=204, responses=_ERRORS,
               summary="Stop writing to a staff address")
async def remove_staff(address_id: Annotated[uuid.UUID, Path()], request: Request,
                       who: Operator) -> Response:
    async with request.app.state.runtime.unit_of_work() as uow:
        found = {a.id: a for a in await uow.directory.staff(who.jurisdiction)}
        if address_id not in found or not await uow.directory.remove_staff(address_id):
            raise HTTPException(404, "No such staff address")
    return Response(status_code=204)


@router.post("/webhooks", status_code=201, response_model=IssuedWebhook, responses=_ERRORS,
             tags=["webhooks"], summary="Register a front end's webhook endpoint")
async def add_webhook(body: NewWebhook, request: Request, who: Operator) -> IssuedWebhook:
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    endpoint = WebhookEndpoint(id=uuid.uuid4(), frontend=body.frontend, url=body.url,
                               sealed_secret=request.app.state.cipher.seal({"secret": secret}),
                               description=body.description)
    async with request.app.state.runtime.unit_of_work() as uow:
        await uow.directory.add_webhook(endpoint)
    return IssuedWebhook(id=endpoint.id, frontend=endpoint.frontend, url=endpoint.url,
                         description=endpoint.description, secret=secret)


@router.get("/webhooks", response_model=list[WebhookView], responses=_ERRORS, tags=["webhooks"],
            summary="Registered webhook endpoints (no secrets)")
async def list_webhooks(request: Request, who: Operator) -> list[WebhookView]:
    async with request.app.state.runtime.unit_of_work() as uow:
        found = await uow.directory.webhooks()
    return [WebhookView(id=e.id, frontend=e.frontend, url=e.url, description=e.description)
            for e in found]


@router.delete("/webhooks/{endpoint_id}", status_code=204, responses=_ERRORS, tags=["webhooks"],
               summary="Stop calling a webhook endpoint")
async def remove_webhook(endpoint_id: Annotated[uuid.UUID, Path()], request: Request,
                         who: Operator) -> Response:
    async with request.app.state.runtime.unit_of_work() as uow:
        if not await uow.directory.remove_webhook(endpoint_id):
            raise HTTPException(404, "No such webhook endpoint")
    return Response(status_code=204)
