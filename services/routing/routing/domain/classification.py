"""What a classifier reads in a complaint: the taxonomy's subcategory (its main category is the
code's prefix), the kind of report, how urgent, how sure, the runners-up and the words that
decided. One shape for the trained model and its keyword twin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Classification:
    main_category: str
    subcategory: str
    report_type: str
    urgency: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...]
    explanation: tuple[str, ...]


class Classifier(Protocol):
    def classify(self, title: str, description: str,
                 exclude_subcategories: frozenset[str] = frozenset()) -> Classification: ...
