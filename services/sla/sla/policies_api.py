"""HTTP API of SLA policies: what deadlines a jurisdiction keeps (public, so front ends and
citizens can see the promises), a preview of the terms a complaint would get, and operators'
changes with their history.

A change replaces a jurisdiction's whole document (validated as the files are), needs a note,
and becomes a new version in force for clocks started from then on: a running clock keeps the
version it started with. `based_on_version` guards against overwriting someone else's change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from backbone.staff_auth import StaffIdentity, operator_caller, require_jurisdiction
from sla.domain.policy import KINDS, PolicySpec
from sla.policy_registry import DEFAULT, PolicyRegistry, PolicyVersion, StaleVersion

router = APIRouter(prefix="/v1/policies", tags=["policies"])
JurisdictionId = Annotated[str, Path(pattern=r"^(\*|[a-z0-9]+(?:-[a-z0-9]+)*)$", max_length=60)]
_PROBLEM = {"content": {"application/problem+json": {}}}
_STAFF = {401: {"description": "No valid staff token", **_PROBLEM},
          403: {"description": "Not an operator of this jurisdiction", **_PROBLEM}}


class PolicyView(BaseModel):
    jurisdiction: str
    version: int
    source: str
    changed_by: str | None = None
    changed_at: datetime | None = None
    note: str | None = None
    policy: dict = Field(description="The document as stored (a jurisdiction names only what "
                                     "differs from the national default '*')")
    effective: dict | None = Field(default=None, description="The default with this document on top")


class PolicyChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy: PolicySpec
    note: str = Field(min_length=3, max_length=500, description="Why: kept in the history")
    based_on_version: int | None = Field(default=None, ge=0)


class Terms(BaseModel):
    kind: str
    working_days: int
    tier: str | None
    policy_version: int
    warnings: list[dict]
    escalation: list[dict]


def _registry(request: Request) -> PolicyRegistry:
    return request.app.state.policies


async def _operator(request: Request) -> StaffIdentity:
    return await operator_caller(request)


Registry = Annotated[PolicyRegistry, Depends(_registry)]
Operator = Annotated[StaffIdentity, Depends(_operator)]


def _view(found: PolicyVersion, registry: PolicyRegistry | None = None) -> PolicyView:
    effective = None
    if registry is not None and found.jurisdiction != DEFAULT:
        effective = registry.effective(found.jurisdiction)[0].model_dump(mode="json", exclude_none=True)
    return PolicyView(jurisdiction=found.jurisdiction, version=found.version, source=found.source,
                      changed_by=found.actor, changed_at=found.created_at, note=found.note,
                      policy=found.spec.model_dump(mode="json", exclude_none=True),
                      effective=effective)


@router.get("", response_model=list[PolicyView], response_model_exclude_none=True,
            summary="Every policy document in force (public)")
async def list_policies(registry: Registry) -> list[PolicyView]:
    return [_view(v) for v in await registry.all()]


@router.get("/{jurisdiction}", response_model=PolicyView, response_model_exclude_none=True,
            summary="A jurisdiction's policy in force, with the effective result (public)")
async def get_policy(jurisdiction: JurisdictionId, registry: Registry) -> PolicyView:
    found = await registry.current(jurisdiction)
    if found is None:
        default = await registry.current(DEFAULT)
        assert default is not None
        return PolicyView(jurisdiction=jurisdiction, version=default.version, source="default",
                          policy={}, note="no policy of its own: the national default applies",
                          effective=default.spec.model_dump(mode="json", exclude_none=True))
    return _view(found, registry)


@router.get("/{jurisdiction}/terms", response_model=Terms,
            summary="The terms a clock would get for such a complaint (public preview)")
async def preview_terms(
    jurisdiction: JurisdictionId, registry: Registry,
    kind: Annotated[str, Query(description="One of " + ", ".join(KINDS))],
    category: Annotated[str | None, Query(max_length=80)] = None,
    report_type: Annotated[str | None, Query(max_length=40)] = None,
    opd: Annotated[str | None, Query(max_length=80)] = None,
) -> Terms:
    if kind not in KINDS:
        raise HTTPException(400, f"kind must be one of {', '.join(KINDS)}")
    terms = await registry.terms(jurisdiction, kind, category=category, report_type=report_type,
                                 opd=opd)
    plan = terms.plan.to_json()
    return Terms(kind=kind, working_days=terms.working_days, tier=terms.tier,
                 policy_version=terms.version, warnings=plan["warnings"],
                 escalation=plan["escalation"])


@router.put("/{jurisdiction}", response_model=PolicyView, response_model_exclude_none=True,
            responses={**_STAFF, 409: {"description": "Changed since `based_on_version`", **_PROBLEM}},
            summary="Replace a jurisdiction's policy (operators): a new version")
async def put_policy(jurisdiction: JurisdictionId, change: PolicyChange, registry: Registry,
                     who: Operator) -> PolicyView:
    require_jurisdiction(who, jurisdiction)
    if change.policy.jurisdiction != jurisdiction:
        raise HTTPException(422, f"The policy's jurisdiction must be {jurisdiction!r}, as in the path")
    try:
        saved = await registry.change(change.policy, actor=who.subject, note=change.note,
                                      expected_version=change.based_on_version)
    except StaleVersion as exc:
        raise HTTPException(409, str(exc)) from None
    return _view(saved, registry)


@router.get("/{jurisdiction}/history", response_model=list[PolicyView],
            response_model_exclude_none=True, responses=_STAFF,
            summary="Every version of a jurisdiction's policy, newest first (operators)")
async def policy_history(jurisdiction: JurisdictionId, registry: Registry,
                         who: Operator) -> list[PolicyView]:
    require_jurisdiction(who, jurisdiction)
    return [_view(v) for v in await registry.history(jurisdiction)]
