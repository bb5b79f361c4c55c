"""intake's handler for the actions OPD systems send on `complaints.opd.actions`.

Who sends a record is never read from the record's fields: each carries the OPD system's
service-account JWT, signed by the city's identity provider, and intake verifies it exactly as
it verifies staff on HTTP (`app.state.staff_tokens`: signature, expiry, audience, issuer; role
opd and the OPD id from their claims). An OPD cannot act as another without the provider's
signing key. A token that names a jurisdiction also limits its OPD to that jurisdiction's
complaints (OPD ids repeat from city to city).

The action then goes through the HTTP API's own door (`handlers.take_action`: visible to that
OPD, allowed for its role, by the status and by the complaint), in one transaction with the
inbox claim, so a redelivered record changes nothing. An action that cannot be applied is told:
`OpdActionRefused.v1` on intake's events (never the token), which routing forwards to the OPD's
own feed. A record intake cannot read at all (not a TakeOpdAction.v1, a missing field) goes to
the dead-letter topic with the reason. Nothing personal, and never the token, is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from backbone.staff_auth import InvalidStaffToken, StaffIdentity, StaffTokenVerifier
from contracts.events import OpdActionRefusedV1, TakeOpdActionV1
from contracts.lifecycle import Action, Role, RoleNotAllowed, TransitionNotAllowed
from intake import handlers
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.actions import ActionRefused, TakeAction
from intake.domain.actors import Actor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpdActionDeps:
    verifier: StaffTokenVerifier
    clock: Callable[[], datetime]


@dataclass(frozen=True)
class _Refusal:
    reason: str
    detail: str
    opd_id: str | None = None
    jurisdiction: str | None = None
    current_status: str | None = None


def _command(event: TakeOpdActionV1) -> TakeAction:
    return TakeAction(Action(event.action), note=event.note, reason=event.reason,
                      suggested_opd_id=event.suggested_opd_id, evidence=event.evidence)


async def on_opd_action(event: TakeOpdActionV1, uow: IntakeUnitOfWork, deps: OpdActionDeps) -> None:
    refusal = await _apply(event, uow, deps)
    outcome = "applied" if refusal is None else refusal.reason
    log.info("OPD system action", extra={"tracking_number": event.tracking_number,
                                         "action": event.action, "outcome": outcome})
    if refusal is None:
        return
    await uow.outbox.record(OpdActionRefusedV1(
        complaint_id=event.complaint_id, occurred_at=deps.clock(), request_id=event.request_id,
        tracking_number=event.tracking_number, jurisdiction=refusal.jurisdiction,
        opd_id=refusal.opd_id, action=event.action, reason=refusal.reason,  # type: ignore[arg-type]
        detail=refusal.detail, current_status=refusal.current_status))


async def _apply(event: TakeOpdActionV1, uow: IntakeUnitOfWork,
                 deps: OpdActionDeps) -> _Refusal | None:
    try:
        who = await deps.verifier.verify(event.token)
    except InvalidStaffToken as exc:
        return _Refusal("invalid_token", str(exc))
    if who.role is not Role.OPD or not who.opd_id:
        return _Refusal("not_opd", "only an OPD's token may act on this topic")
    caller = handlers.Caller(Actor(role=Role.OPD, subject=who.subject, opd_id=who.opd_id,
                                   jurisdiction=who.jurisdiction))
    complaint = await uow.complaints.get_by_tracking_number(event.tracking_number, lock=True)
    if complaint is None or not _within(who, complaint.jurisdiction) \
            or not handlers.may_see(complaint, caller):
        # The same answer for "no such complaint" and "not yours": nothing to probe.
        return _Refusal("not_found", f"no complaint {event.tracking_number} is with {who.opd_id}",
                        who.opd_id, who.jurisdiction or event.jurisdiction)
    told = _Refusal("", "", who.opd_id, complaint.jurisdiction, complaint.status.value)
    try:
        await handlers.take_action(event.tracking_number, _command(event), caller, uow, deps.clock)
    except handlers.NotFound:
        return _Refusal("not_found", f"no complaint {event.tracking_number} is with {who.opd_id}",
                        who.opd_id, complaint.jurisdiction)
    except TransitionNotAllowed as exc:
        return _replace(told, "transition_not_allowed", str(exc))
    except (ActionRefused, RoleNotAllowed) as exc:
        return _replace(told, "action_refused", str(exc))
    return None


def _within(who: StaffIdentity, jurisdiction: str) -> bool:
    return who.jurisdiction is None or who.jurisdiction == jurisdiction


def _replace(base: _Refusal, reason: str, detail: str) -> _Refusal:
    return _Refusal(reason, detail[:500], base.opd_id, base.jurisdiction, base.current_status)


def subscriber(deps: OpdActionDeps) -> Callable[[TakeOpdActionV1, IntakeUnitOfWork], Awaitable[None]]:
    async def handle(event: TakeOpdActionV1, uow: IntakeUnitOfWork) -> None:
        await on_opd_action(event, uow, deps)
    return handle
