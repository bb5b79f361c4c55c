"""API keys for Open311 front ends (FixMyStreet, a city's app, ...), issued by operators.

A key is random (`secrets.token_urlsafe`), shown once in the answer to its creation and kept
only as its SHA-256; listing never shows one. Revoking is immediate: the next POST with it is
a 403. Operators only (a staff JWT with role operator); anyone else gets 403, no token 401.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from contracts.lifecycle import Role
from contracts.text import Text
from intake.adapters.open311 import ApiKey
from intake.auth import current_caller
from intake.handlers import Caller
from intake.open311.mapping import api_key_digest
from intake.schemas import Problem

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"])
_PROBLEM = {"content": {"application/problem+json": {
    "schema": {"$ref": "#/components/schemas/Problem"}}}, "model": Problem}
_ERRORS = {401: {"description": "No staff token", **_PROBLEM},
           403: {"description": "Operators only", **_PROBLEM}}


class NewApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Text = Field(min_length=2, max_length=80, description="The front end, e.g. fixmystreet-kota")


class ApiKeyView(BaseModel):
    id: uuid.UUID
    name: str
    created_at: datetime
    revoked_at: datetime | None = None


class IssuedApiKey(ApiKeyView):
    api_key: str = Field(description="Shown this once; send it as `api_key` in Open311 POSTs")


def new_key(name: str, at: datetime) -> tuple[ApiKey, str]:
    """A fresh key for `name` and its secret (the caller shows the secret once)."""
    secret = secrets.token_urlsafe(32)
    return ApiKey(id=uuid.uuid4(), name=name, key_sha256=api_key_digest(secret),
                  created_at=at), secret


async def operator(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
    if caller.actor.role is not Role.OPERATOR:
        raise HTTPException(403, "Only operators manage API keys")
    return caller


Operator = Annotated[Caller, Depends(operator)]


def _view(key: ApiKey) -> dict:
    return {"id": key.id, "name": key.name, "created_at": key.created_at,
            "revoked_at": key.revoked_at}


@router.post("", status_code=201, response_model=IssuedApiKey, responses=_ERRORS,
             summary="Issue an API key to an Open311 front end (shown once)")
async def create(body: NewApiKey, request: Request, _: Operator) -> IssuedApiKey:
    state = request.app.state
    key, secret = new_key(body.name, state.clock())
    async with state.runtime.unit_of_work() as uow:
        await uow.open311.add_key(key)
    return IssuedApiKey(**_view(key), api_key=secret)


@router.get("", response_model=list[ApiKeyView], responses=_ERRORS,
            summary="The API keys issued (never the keys themselves)")
async def list_keys(request: Request, _: Operator) -> list[ApiKeyView]:
    async with request.app.state.runtime.unit_of_work() as uow:
        return [ApiKeyView(**_view(k)) for k in await uow.open311.list_keys()]


@router.delete("/{key_id}", status_code=204, responses={
    **_ERRORS, 404: {"description": "No such key", **_PROBLEM}}, summary="Revoke an API key")
async def revoke(key_id: Annotated[uuid.UUID, Path()], request: Request, _: Operator) -> Response:
    state = request.app.state
    async with state.runtime.unit_of_work() as uow:
        if not await uow.open311.revoke_key(key_id, state.clock()):
            raise HTTPException(404, "No such API key")
    return Response(status_code=204)
