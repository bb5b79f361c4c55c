"""Who acts on a complaint: a citizen with its access token, staff of an OPD, an operator of the
city's complaint team, or another service. Authentication happens at the edge; the domain only
sees this, and decides with it what is allowed and what the timeline says."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.lifecycle import Role


@dataclass(frozen=True)
class Actor:
    role: Role
    subject: str | None = None        # staff id (the token's `sub`) or a service's name
    opd_id: str | None = None         # the OPD a staff member works for (role opd)
    jurisdiction: str | None = None   # an operator limited to one jurisdiction; None: all

    @classmethod
    def citizen(cls) -> "Actor":
        return cls(Role.CITIZEN)

    @classmethod
    def system(cls, service: str) -> "Actor":
        return cls(Role.SYSTEM, subject=service)

    @property
    def name(self) -> str:
        """How the timeline names the actor: never a citizen's identity."""
        if self.role is Role.CITIZEN:
            return "citizen"
        if self.role is Role.OPD:
            return f"{self.opd_id}/{self.subject}" if self.subject else str(self.opd_id)
        return self.subject or self.role.value
