"""A classifier from the taxonomy's own keywords: every subcategory scored by the keywords
found in the text (the title counts twice), with the same answer shape as the trained model.

It is the in-memory twin of the trained model for handler tests (predictable, no model file),
and the words routing still understands when the model file is missing: a complaint is then
routed by keywords rather than not at all. Its confidence is the winner's margin over the
runner-up (alone: 1; tied: 0), so only a clear keyword winner is routed without a person.
"""

from __future__ import annotations

import re

from contracts import taxonomy as tx
from routing.domain.classification import Classification
from routing.domain.normalise import normalise

_QUESTION = re.compile(r"\?|\b(bagaimana|gimana|bgmn|apakah|kapan|berapa|syarat|caranya|cara)\b")
_SUGGESTION = re.compile(r"\b(usul|usulan|saran|sebaiknya|mohon dibangun|mohon ditambah|harap dibuat)\b")
_URGENT = re.compile(r"\b(darurat|bahaya|berbahaya|korban|kebakaran|terbakar|banjir|longsor|"
                     r"tenggelam|meninggal|hilang|putus|roboh|ambruk|segera)\b")


def report_type_of(text: str) -> str:
    if _QUESTION.search(text):
        return "permintaan_informasi"
    if _SUGGESTION.search(text):
        return "aspirasi"
    return "pengaduan"


def urgency_of(text: str) -> str:
    return "tinggi" if _URGENT.search(text) else "sedang"


class KeywordClassifier:
    """Scores the taxonomy's subcategories by their keywords; `fallback` answers when nothing
    matched (the taxonomy's catch-all)."""

    def __init__(self, taxonomy: tx.Taxonomy | None = None, fallback: str = "lainnya.lain-lain") -> None:
        self._taxonomy = taxonomy or tx.load()
        self._keywords = {s.code: tuple(normalise(k).strip() for k in (*s.keywords, s.name) if k)
                          for s in self._taxonomy.subcategories()}
        codes = list(self._keywords)
        self._fallback = fallback if fallback in self._keywords else codes[-1]

    def classify(self, title: str, description: str,
                 exclude_subcategories: frozenset[str] = frozenset()) -> Classification:
        text = f" {normalise(f'{title} {title} {description}')} "
        hits = {code: [k for k in words if k and f" {k} " in text]
                for code, words in self._keywords.items() if code not in exclude_subcategories}
        scored = sorted(((len(h), code) for code, h in hits.items() if h), key=lambda x: (-x[0], x[1]))
        total = sum(n for n, _ in scored)
        alternatives = tuple((code, round(n / total, 3)) for n, code in scored[:3])
        if not alternatives:
            fallback = self._fallback if self._fallback not in exclude_subcategories else None
            alternatives = ((fallback, 0.0),) if fallback else ()
        best = alternatives[0][0] if alternatives else self._fallback
        raw = f"{title} {description}".lower()
        # Sure by the winner's margin: alone it is sure, tied it is not at all.
        margin = ((scored[0][0] - (scored[1][0] if len(scored) > 1 else 0)) / scored[0][0]
                  if scored else 0.0)
        return Classification(
            main_category=best.split(".", 1)[0], subcategory=best,
            report_type=report_type_of(raw), urgency=urgency_of(raw),
            confidence=round(margin, 3), alternatives=alternatives,
            explanation=tuple(hits.get(best, ()))[:6])
