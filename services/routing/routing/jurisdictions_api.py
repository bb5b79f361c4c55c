"""HTTP API of jurisdictions: the public list and configurations (front ends and the other
services learn ids, names, time zones and OPD contacts here), and the operators' changes with
their audit history.

Operators only (a staff JWT with role operator) change a configuration or read its history;
an operator whose token names a jurisdiction acts on that one alone. A change replaces the
whole configuration, is validated as the files are, needs a reason, and becomes a new version
in force at once (see `jurisdiction_registry`). `based_on_version` guards against overwriting
a change someone else saved since the caller read the configuration (409).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from backbone.staff_auth import StaffIdentity, operator_caller, require_jurisdiction
from routing.adapters.jurisdictions import StaleVersion, StoredVersion
from routing.domain.jurisdictions import Jurisdiction
from routing.jurisdiction_registry import JurisdictionRegistry
from backbone.problems import ProblemError

router = APIRouter(prefix="/v1/jurisdictions", tags=["jurisdictions"])
JurisdictionId = Annotated[str, Path(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=60)]
_PROBLEM = {"content": {"application/problem+json": {}}}
_STAFF = {401: {"description": "No valid staff token", **_PROBLEM},
          403: {"description": "Not an operator of this jurisdiction", **_PROBLEM}}
_MISSING = {404: {"description": "No such jurisdiction or version", **_PROBLEM}}


class JurisdictionSummary(BaseModel):
    id: str
    name: str
    timezone: str = Field(description="IANA time zone name, e.g. Asia/Makassar")


class JurisdictionChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    config: Jurisdiction = Field(description="The whole configuration (its `version` is ignored)")
    reason: str = Field(min_length=3, max_length=500, description="Why: kept in the history")
    based_on_version: int | None = Field(
        default=None, ge=0, description="The version the change was made on (0: a new "
                                        "jurisdiction); another version current answers 409")


class VersionInfo(BaseModel):
    version: int
    source: str = Field(description="file (a configuration file at start) or api (an operator)")
    changed_by: str
    changed_at: datetime
    reason: str


class VersionDetail(VersionInfo):
    config: dict


def registry(request: Request) -> JurisdictionRegistry:
    return request.app.state.jurisdictions


async def operator(request: Request) -> StaffIdentity:
    return await operator_caller(request)


Registry = Annotated[JurisdictionRegistry, Depends(registry)]
Operator = Annotated[StaffIdentity, Depends(operator)]


@router.get("", response_model=list[JurisdictionSummary],
            summary="Every jurisdiction on this installation (public)")
async def list_jurisdictions(jurisdictions: Registry) -> list[JurisdictionSummary]:
    return [JurisdictionSummary(id=j.id, name=j.name, timezone=j.timezone)
            for j in await jurisdictions.all()]


@router.get("/{jurisdiction_id}", response_model=Jurisdiction,
            response_model_exclude_none=True, responses=_MISSING,
            summary="A jurisdiction's configuration in force (public: office contacts only)")
async def get_jurisdiction(jurisdiction_id: JurisdictionId, jurisdictions: Registry) -> Jurisdiction:
    found = await jurisdictions.current(jurisdiction_id)
    if found is None:
        raise HTTPException(404, f"No jurisdiction {jurisdiction_id}")
    return found


@router.put("/{jurisdiction_id}", response_model=Jurisdiction,
            response_model_exclude_none=True, responses={**_STAFF, 409: {
            "description": "Changed by someone else since `based_on_version`", **_PROBLEM}},
            summary="Replace a jurisdiction's configuration (operators): a new version")
async def put_jurisdiction(jurisdiction_id: JurisdictionId, change: JurisdictionChange,
                           jurisdictions: Registry, who: Operator) -> Jurisdiction:
    require_jurisdiction(who, jurisdiction_id)
    if change.config.id != jurisdiction_id:
        raise ProblemError(422, "validation-error", "Your request is not valid",
                           "The configuration's id must be the one in the path.",
                           errors=[{"field": "config.id", "message": f"must be {jurisdiction_id}",
                                    "code": "value_error"}])
    try:
        return await jurisdictions.change(change.config, changed_by=who.subject,
                                          reason=change.reason,
                                          expected_version=change.based_on_version)
    except StaleVersion as exc:
        raise ProblemError(409, "conflict", "The configuration changed meanwhile",
                           f"Version {exc.current} is current: read it, apply your change "
                           "again and send it with based_on_version set to it.",
                           current_version=exc.current) from None


@router.get("/{jurisdiction_id}/history", response_model=list[VersionInfo],
            responses={**_STAFF, **_MISSING},
            summary="Every version, newest first: who, when, why, from a file or the API")
async def history(jurisdiction_id: JurisdictionId, request: Request, who: Operator) -> list[VersionInfo]:
    require_jurisdiction(who, jurisdiction_id)
    async with request.app.state.runtime.unit_of_work() as uow:
        versions = await uow.jurisdictions.history(jurisdiction_id)
    if not versions:
        raise HTTPException(404, f"No jurisdiction {jurisdiction_id}")
    return [VersionInfo(**_info(v)) for v in versions]


@router.get("/{jurisdiction_id}/versions/{version}", response_model=VersionDetail,
            responses={**_STAFF, **_MISSING}, summary="One version as it was saved")
async def version(jurisdiction_id: JurisdictionId, version: Annotated[int, Path(ge=1)],
                  request: Request, who: Operator) -> VersionDetail:
    require_jurisdiction(who, jurisdiction_id)
    async with request.app.state.runtime.unit_of_work() as uow:
        found = await uow.jurisdictions.version(jurisdiction_id, version)
    if found is None:
        raise HTTPException(404, f"No version {version} of jurisdiction {jurisdiction_id}")
    return VersionDetail(**_info(found), config=found.config)


def _info(v: StoredVersion) -> dict:
    return {"version": v.version, "source": v.source, "changed_by": v.changed_by,
            "changed_at": v.changed_at, "reason": v.reason}
