"""Deciding (again) for a kept complaint: the classifier, minus every OPD that rejected it, plus
what a re-route must explain. Pure: the handlers feed it and publish its answer.

Policies, and why:
- A rejecter is excluded from the classification itself, so it can be neither assigned nor
  suggested again; the reason names the excluded OPDs so the operator sees them at once.
- The rejecting OPD's `suggested_opd_id` (the "hint") only leads the triage suggestions when
  the classifier is unsure; it never assigns by itself. An OPD naming another OPD is one unit's
  opinion of another's remit: following it blindly would let two OPDs bounce a complaint
  between them with no person looking, which is the very failure this platform exists to end.
  When the classifier is confident, its choice stands; when it is not, an operator confirms the
  hint in one step. A hint naming an unknown OPD or one that already rejected is ignored.
- Without the complaint's own text (a complaint routing never saw submitted) there is nothing
  trustworthy to assign on: it always goes to triage, with suggestions from whatever text was
  added later, if any.
"""

from __future__ import annotations

from dataclasses import replace

from routing.domain.complaint_text import RoutedComplaint
from routing.domain.rules import OPD_RULES, Decision, classify

NO_TEXT = ("routing never received this complaint's text (submitted before routing kept texts):"
           " an operator must route it")
ONLY_ADDED = ("routing has only the information added later, not the complaint's own text:"
              " an operator must route it")


def decide(complaint: RoutedComplaint, min_confidence: float, *, why: str | None = None,
           hint: str | None = None) -> Decision:
    """Assignment or abstention for `complaint`; `why` says what made routing decide again."""
    excluded = complaint.excluded
    if complaint.has_text:
        decision = classify(complaint.title, complaint.full_description, min_confidence,
                            exclude=excluded)
    else:
        decision = _without_text(complaint, min_confidence)
    if decision.opd_id is None:
        decision = _led_by(decision, hint, excluded)
    return _explained(decision, why, complaint.rejected_by)


def _without_text(complaint: RoutedComplaint, min_confidence: float) -> Decision:
    if not complaint.added_info:
        return Decision(None, None, 0.0, NO_TEXT)
    guess = classify("", complaint.full_description, min_confidence, exclude=complaint.excluded)
    return Decision(None, None, guess.confidence, ONLY_ADDED, guess.suggestions)


def _led_by(decision: Decision, hint: str | None, excluded: frozenset[str]) -> Decision:
    if hint is None or hint in excluded or hint not in OPD_RULES:
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
