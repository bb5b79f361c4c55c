"""SLA policies: how many working days each clock gets, when it warns, and whom a breach
escalates to, per jurisdiction, category, report type and OPD.

A policy is a document (a file in `sla/policies/`, or an operator's change through the API),
versioned: a clock records the version and the plan it started with, so a later change never
moves a running clock's goal posts.

Selection: the policy's `clocks` section gives each kind's defaults; then every rule whose
`when` matches the complaint applies, least specific first (fewer conditions first; a
subcategory is more specific than its main category), in file order among equals, each setting
only what it names. So a broad rule ("permintaan informasi resolves in the informasi tier") and
a narrow one ("Dinkes answers health complaints in 3 days") combine as one expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Kind = Literal["verification", "first_response", "resolution", "auto_close", "reopen_window"]
KINDS: tuple[str, ...] = ("verification", "first_response", "resolution", "auto_close",
                          "reopen_window")
Level = Literal["opd_admin", "opd_head", "coordinator", "inspektorat"]
Tier = Literal["ringan", "informasi", "biasa", "pengawasan"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WarningRule(_Strict):
    """Warn once when `elapsed` (share of the clock's working time used, 0..1) is reached or
    when only `hours_left` working hours remain, whichever comes first."""

    elapsed: float | None = Field(default=None, gt=0, lt=1)
    hours_left: float | None = Field(default=None, gt=0, le=2000)

    @model_validator(mode="after")
    def _one_at_least(self) -> "WarningRule":
        if self.elapsed is None and self.hours_left is None:
            raise ValueError("a warning needs elapsed, hours_left or both")
        return self

    @property
    def label(self) -> str:
        parts = []
        if self.elapsed is not None:
            parts.append(f"elapsed:{self.elapsed:g}")
        if self.hours_left is not None:
            parts.append(f"hours_left:{self.hours_left:g}")
        return "|".join(parts)


class EscalationStep(_Strict):
    """After a breach: who must act, on the alert window of the N-th working day after the due
    day (0: together with the breach)."""

    level: Level
    after_working_days: int = Field(default=0, ge=0, le=120)


class ClockTerms(_Strict):
    """What one kind of clock gets; every field optional in a rule (it sets what it names)."""

    working_days: int | None = Field(default=None, ge=0, le=400)
    tier: Tier | None = None
    warnings: tuple[WarningRule, ...] | None = None
    escalation: tuple[EscalationStep, ...] | None = None


class When(_Strict):
    category: tuple[str, ...] | None = None      # subcategory codes or main categories
    report_type: tuple[str, ...] | None = None
    opd: tuple[str, ...] | None = None

    @field_validator("category", "report_type", "opd", mode="before")
    @classmethod
    def _listify(cls, value):
        return (value,) if isinstance(value, str) else value

    def matches(self, category: str | None, report_type: str | None, opd: str | None) -> bool:
        if self.category is not None and not any(
                category is not None and (category == c or category.startswith(c + "."))
                for c in self.category):
            return False
        if self.report_type is not None and report_type not in self.report_type:
            return False
        if self.opd is not None and opd not in self.opd:
            return False
        return True

    def specificity(self, category: str | None) -> tuple[int, int]:
        """(how many conditions, whether the complaint's own subcategory is named): the
        ordering of rules that match one complaint."""
        conditions = sum(x is not None for x in (self.category, self.report_type, self.opd))
        narrow = int(self.category is not None and category in self.category)
        return conditions, narrow


class Rule(_Strict):
    when: When
    verification: ClockTerms | None = None
    first_response: ClockTerms | None = None
    resolution: ClockTerms | None = None
    auto_close: ClockTerms | None = None
    reopen_window: ClockTerms | None = None
    note: str | None = None


class PolicySpec(_Strict):
    """One jurisdiction's policy document (or the national default, jurisdiction '*')."""

    jurisdiction: str = Field(pattern=r"^(\*|[a-z0-9][a-z0-9-]*)$")
    tiers: dict[Tier, int] = Field(default_factory=lambda: {
        "ringan": 2, "informasi": 5, "biasa": 14, "pengawasan": 60})
    clocks: dict[Kind, ClockTerms]
    rules: tuple[Rule, ...] = ()
    note: str | None = None

    @model_validator(mode="after")
    def _every_kind_complete(self) -> "PolicySpec":
        if self.jurisdiction != "*":
            return self   # a jurisdiction's document names only what differs from the default
        for kind in KINDS:
            terms = self.clocks.get(kind)
            if terms is None:
                raise ValueError(f"clocks.{kind} is missing")
            if terms.working_days is None and not (kind == "resolution" and terms.tier):
                raise ValueError(f"clocks.{kind} needs working_days"
                                 + (" or a tier" if kind == "resolution" else ""))
        return self


@dataclass(frozen=True)
class Plan:
    """What a started clock follows: its warnings and escalation ladder. Stored once per
    distinct plan and referenced by each clock."""

    warnings: tuple[WarningRule, ...] = ()
    escalation: tuple[EscalationStep, ...] = ()

    def to_json(self) -> dict:
        return {"warnings": [w.model_dump(exclude_none=True) for w in self.warnings],
                "escalation": [s.model_dump() for s in self.escalation]}

    @classmethod
    def from_json(cls, data: dict) -> "Plan":
        return cls(tuple(WarningRule.model_validate(w) for w in data.get("warnings", ())),
                   tuple(EscalationStep.model_validate(s) for s in data.get("escalation", ())))


@dataclass(frozen=True)
class Selected:
    """The terms chosen for one clock: its working days, plan and the policy's version."""

    kind: str
    working_days: int
    plan: Plan
    version: int
    tier: str | None = None


def select(spec: PolicySpec, version: int, kind: str, *, category: str | None = None,
           report_type: str | None = None, opd: str | None = None) -> Selected:
    """The terms for a clock of `kind` on a complaint like this (pure)."""
    if kind not in KINDS:
        raise ValueError(f"no such clock: {kind}")
    merged: dict = spec.clocks[kind].model_dump(exclude_none=True)   # type: ignore[index]
    matching = [(rule.when.specificity(category), index, rule) for index, rule in enumerate(spec.rules)
                if rule.when.matches(category, report_type, opd)]
    for _, _, rule in sorted(matching, key=lambda item: (item[0], item[1])):
        terms: ClockTerms | None = getattr(rule, kind)
        if terms is not None:
            update = terms.model_dump(exclude_none=True)
            if "tier" in update:
                merged.pop("working_days", None)   # a tier named later wins over earlier days
            if "working_days" in update:
                merged.pop("tier", None)
            merged.update(update)
    tier = merged.get("tier")
    days = merged.get("working_days")
    if days is None:
        days = spec.tiers[tier]
    plan = Plan(tuple(WarningRule.model_validate(w) for w in merged.get("warnings", ())),
                tuple(EscalationStep.model_validate(s) for s in merged.get("escalation", ())))
    return Selected(kind, days, plan, version, tier)


def for_jurisdiction(default: PolicySpec, own: PolicySpec | None) -> PolicySpec:
    """A jurisdiction's own document on top of the national default: its tiers and clock
    defaults replace the default's where named, its rules come after the default's."""
    if own is None:
        return default
    clocks = dict(default.clocks)
    for kind, terms in own.clocks.items():
        base = clocks[kind].model_dump(exclude_none=True)
        update = terms.model_dump(exclude_none=True)
        if "tier" in update:
            base.pop("working_days", None)
        if "working_days" in update:
            base.pop("tier", None)
        clocks[kind] = ClockTerms.model_validate({**base, **update})
    return PolicySpec(jurisdiction=own.jurisdiction, tiers={**default.tiers, **own.tiers},
                      clocks=clocks, rules=(*default.rules, *own.rules), note=own.note)
