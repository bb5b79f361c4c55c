"""Routing's decision for one complaint: what the classifier reads, where the complaint's
jurisdiction sends that, and whether routing is sure enough to act alone. Pure: the handlers
feed it and publish its answer.

1. Every OPD that said "bukan wewenang" is excluded before classifying: the subcategories this
   jurisdiction would send to one of them (at this location) are removed from the classifier's
   choice, so the confidence is spread over what is left and a rejecter is neither assigned
   nor suggested again.
2. The classifier's top subcategory, resolved by the jurisdiction's first-match rules, gives an
   OPD, another government's body ("not ours"), or nothing configured.
3. At or above the threshold routing acts: it assigns, or finds the complaint not ours. Below
   it, or when the jurisdiction is unknown, or nothing is configured for the category, an
   operator decides in triage, with the top candidates (category, confidence, where each
   would go) and the words that decided.

The rejecting OPD's `suggested_opd_id` (the "hint") only leads the triage suggestions; it
never assigns by itself: an OPD naming another OPD is one unit's opinion of another's remit,
and following it blindly would let two OPDs bounce a complaint with no person looking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from routing.domain.classification import Classification, Classifier
from routing.domain.complaint_text import RoutedComplaint

NO_TEXT = ("routing never received this complaint's text (submitted before routing kept texts):"
           " an operator must route it")
ONLY_ADDED = ("routing has only the information added later, not the complaint's own text:"
              " an operator must route it")


@dataclass(frozen=True)
class Destination:
    """Where a jurisdiction sends a subcategory at a location."""

    opd_id: str | None = None
    opd_name: str | None = None
    not_ours: str | None = None      # the responsible body, when it is not the city's

    @property
    def configured(self) -> bool:
        return self.opd_id is not None or self.not_ours is not None


# subcategory -> where this complaint's jurisdiction (at its location) sends it; None when
# routing does not know the jurisdiction at all.
Resolve = Callable[[str], Destination]


@dataclass(frozen=True)
class Candidate:
    category: str
    confidence: float
    destination: Destination


@dataclass(frozen=True)
class Decision:
    """Assign (opd_id), not ours (responsible), or triage; with the reason either way."""

    kind: Literal["assign", "not_ours", "triage"]
    confidence: float
    reason: str
    opd_id: str | None = None
    opd_name: str | None = None
    responsible: str | None = None
    suggestions: tuple[str, ...] = ()          # OPD ids for the operator, best first
    candidates: tuple[Candidate, ...] = ()
    classification: Classification | None = field(default=None, compare=False)


def excluded_categories(categories: Iterable[str], resolve: Resolve,
                        rejected_by: Iterable[str]) -> frozenset[str]:
    """The subcategories this jurisdiction would send to an OPD that already refused. Nobody
    refused (nearly every complaint): nothing, without resolving every category for it."""
    refused = set(rejected_by)
    if not refused:
        return frozenset()
    return frozenset(c for c in categories if resolve(c).opd_id in refused)


def decide(complaint: RoutedComplaint, classifier: Classifier, resolve: Resolve | None,
           threshold: float, *, excluded: frozenset[str] = frozenset(), why: str | None = None,
           hint: str | None = None, known_opds: frozenset[str] = frozenset(),
           chosen: str | None = None) -> Decision:
    """The decision for `complaint`; `excluded` are the subcategories that would lead back to
    a rejecter (`excluded_categories`), `chosen` a valid category the reporter picked (an
    Open311 service_code): it is followed unless it leads back to a rejecter. `why` says what
    made routing decide (again)."""
    if not complaint.has_text and not complaint.added_info:
        return _explained(_led_by(Decision("triage", 0.0, NO_TEXT), hint,
                                  frozenset(complaint.rejected_by), known_opds),
                          why, complaint.rejected_by)
    resolve_ = resolve or (lambda _: Destination())
    read = classifier.classify(complaint.title, complaint.full_description,
                               exclude_subcategories=excluded)
    candidates = tuple(Candidate(c, round(p, 3), resolve_(c)) for c, p in read.alternatives)
    if chosen is not None and chosen not in excluded and complaint.has_text:
        candidates = (Candidate(chosen, 1.0, resolve_(chosen)),
                      *(c for c in candidates if c.category != chosen))[:3]
        read = _Chosen(read, chosen)
    top = candidates[0] if candidates else None
    decision: Decision
    if resolve is None:
        decision = _triage(read, candidates, f"jurisdiction {complaint.jurisdiction!r} is not configured")
    elif not complaint.has_text:
        decision = _triage(read, candidates, ONLY_ADDED)
    elif top is None or not top.destination.configured:
        decision = _triage(read, candidates, f"no OPD is configured for {read.subcategory}")
    elif read.confidence < threshold:
        decision = _triage(read, candidates, f"not sure enough: {read.subcategory} at "
                                             f"{read.confidence:.2f} (threshold {threshold:.2f})")
    elif top.destination.not_ours is not None:
        decision = Decision("not_ours", round(read.confidence, 3),
                            f"{read.subcategory} is for {top.destination.not_ours}: {_words(read)}",
                            responsible=top.destination.not_ours, candidates=candidates,
                            classification=read)
    else:
        decision = Decision("assign", round(read.confidence, 3),
                            f"classified {read.subcategory} ({read.confidence:.2f}): {_words(read)}",
                            opd_id=top.destination.opd_id, opd_name=top.destination.opd_name,
                            suggestions=_opds(candidates), candidates=candidates,
                            classification=read)
    if decision.kind == "triage":
        decision = _led_by(decision, hint, frozenset(complaint.rejected_by), known_opds)
    return _explained(decision, why, complaint.rejected_by)


@dataclass(frozen=True)
class _Chosen:
    """The classifier's reading, with the category the reporter chose in front."""

    read: Classification
    subcategory: str

    @property
    def main_category(self) -> str:
        return self.subcategory.split(".", 1)[0]

    @property
    def confidence(self) -> float:
        return 1.0

    @property
    def explanation(self) -> tuple[str, ...]:
        return ("category chosen by the reporter",)

    def __getattr__(self, name: str):   # report_type, urgency, alternatives: the classifier's
        return getattr(self.read, name)


def _triage(read: Classification, candidates: tuple[Candidate, ...], reason: str) -> Decision:
    return Decision("triage", round(read.confidence, 3), f"{reason}; read: {_words(read)}",
                    suggestions=_opds(candidates), candidates=candidates, classification=read)


def _opds(candidates: tuple[Candidate, ...]) -> tuple[str, ...]:
    """Where the candidates the classifier saw any sign of would go (a guess of nothing is no
    suggestion)."""
    return tuple(dict.fromkeys(c.destination.opd_id for c in candidates
                               if c.destination.opd_id and c.confidence > 0))[:3]


def _words(read: Classification) -> str:
    return ", ".join(read.explanation[:6]) or "no decisive words"


def _led_by(decision: Decision, hint: str | None, excluded: frozenset[str],
            known_opds: frozenset[str]) -> Decision:
    if hint is None or hint in excluded or hint not in known_opds:
        return decision
    others = tuple(s for s in decision.suggestions if s != hint)
    return replace(decision, suggestions=(hint, *others)[:3],
                   reason=f"{decision.reason}; the rejecting OPD pointed to {hint}")


def _explained(decision: Decision, why: str | None, rejected_by: tuple[str, ...]) -> Decision:
    parts = [why] if why else []
    if rejected_by:
        parts.append(f"never to {', '.join(rejected_by)} (bukan wewenang), not even as a suggestion")
    if not parts:
        return decision
    return replace(decision, reason="; ".join([*parts, decision.reason]))
