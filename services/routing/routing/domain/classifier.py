"""The trained classifier: which subcategory a complaint is about (its main category is the
code's prefix), its report type and urgency, a calibrated confidence, the runner-ups and the
words that decided. Pure at prediction time: the model is loaded once from a file built by
`make model` (routing/training/build.py), nothing is fetched while running.

How it reads a complaint (`prepare`): the title twice (people put the subject there) and the
description, normalised (`domain.normalise`), as
- word uni- and bigrams of the stems (TF-IDF): the vocabulary;
- character 2-5-grams of the normalised words (TF-IDF): typos and unknown forms still share
  most of their grams with the word they misspell;
- the taxonomy's keywords, one column per subcategory (how many of its keywords occur): the
  rules, as features the linear model weighs against the rest, rather than a hand-set bonus;
- the text's shape (a question mark, shouting, length): for report type and urgency.

Confidence: a linear SVM's scores turned into subcategory probabilities by a softmax whose
temperature was fitted on out-of-fold scores of the training split, summed per main category,
then mapped through an isotonic regression fitted on the same out-of-fold predictions, so that
"confidence 0.9" means about 9 in 10 such complaints had the right main category (the level
that decides the OPD; the alternatives carry subcategory probabilities). Excluding
subcategories (an OPD said "bukan wewenang") removes them before the softmax: the rest
shares the probability.

Report type and urgency: two more linear SVMs on the same features (the corpus labels both).
A complaint (not a question or a suggestion) with words of danger to life happening now
(`EMERGENCY`: darurat, korban jiwa, tersetrum, tenggelam, api...) is "tinggi" whatever the
model says: a missed emergency costs far more than an unneeded hurry. The rule is narrow on
purpose: broad danger words (gempa, longsor, kebakaran) also appear in requests for
information and suggestions, and there a broad rule was measured to lower urgency's macro-F1
(0.846 -> 0.825 on the held-out split).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from routing.domain.classification import Classification
from routing.domain.normalise import normalise, stem

REPORT_TYPES = ("pengaduan", "aspirasi", "permintaan_informasi")
URGENCIES = ("rendah", "sedang", "tinggi")
EMERGENCY = re.compile(
    r"\b(darurat|korban jiwa|tersetrum|kesetrum|tenggelam|terseret|sekarat|kritis|"
    r"sedang terbakar|masih terbakar|api)\b")


class ModelMissing(RuntimeError):
    """No model file: it is built from the corpus by `make model`."""


@dataclass(frozen=True)
class Prepared:
    """A complaint as the features read it."""

    raw: str
    plain: str
    stemmed: str


def prepare(title: str, description: str, stemmer: Callable[[str], str] = stem) -> Prepared:
    raw = f"{title}\n{title}\n{description}"
    plain = normalise(raw)
    return Prepared(raw=raw, plain=plain, stemmed=" ".join(stemmer(w) for w in plain.split()))


def plain_of(docs: list[Prepared]) -> list[str]:
    return [d.plain for d in docs]


def stemmed_of(docs: list[Prepared]) -> list[str]:
    return [d.stemmed for d in docs]


def raw_of(docs: list[Prepared]) -> list[str]:
    return [d.raw for d in docs]


class KeywordHits(TransformerMixin, BaseEstimator):
    """One column per subcategory: how many of its taxonomy keywords (and words of its name)
    the normalised text contains, as whole words."""

    def __init__(self, keywords: dict[str, tuple[str, ...]] | None = None) -> None:
        self.keywords = keywords

    def fit(self, docs: list[str], y: Any = None) -> KeywordHits:
        self.codes_ = list(self.keywords or {})
        owners: dict[str, list[int]] = {}
        for i, code in enumerate(self.codes_):
            for k in self.keywords[code]:
                if k:
                    owners.setdefault(k, []).append(i)
        self.owners_ = owners
        alternatives = sorted(owners, key=len, reverse=True)
        self.pattern_ = re.compile(r"\b(" + "|".join(map(re.escape, alternatives)) + r")\b"
                                   if alternatives else r"(?!x)x")
        return self

    def hits(self, text: str) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        for m in self.pattern_.finditer(text):
            for i in self.owners_[m.group(1)]:
                found.setdefault(i, []).append(m.group(1))
        return found

    def transform(self, docs: list[str]) -> sp.csr_matrix:
        rows, cols, vals = [], [], []
        for r, text in enumerate(docs):
            for c, words in self.hits(text).items():
                rows.append(r)
                cols.append(c)
                vals.append(float(len(words)))
        return sp.csr_matrix((vals, (rows, cols)), shape=(len(docs), len(self.codes_)))


class TextShape(TransformerMixin, BaseEstimator):
    """What the words lose: a question, shouting, exclamation marks, length."""

    def fit(self, docs: list[str], y: Any = None) -> TextShape:
        self.width_ = 4
        return self

    def transform(self, docs: list[str]) -> sp.csr_matrix:
        rows = np.asarray([shape_of(t) for t in docs], dtype=float).reshape(len(docs), 4)
        return sp.csr_matrix(rows)


def shape_of(text: str) -> list[float]:
    letters = [c for c in text if c.isalpha()]
    caps = sum(c.isupper() for c in letters) / len(letters) if letters else 0.0
    return [float("?" in text), float(text.count("!") >= 2), float(caps > 0.6),
            min(len(text), 2000) / 2000]


@dataclass
class Model:
    """What `make model` writes: the fitted features and models, the calibration, and what
    the explanation needs. One object, so the pieces cannot come from different builds."""

    features: Any                      # FeatureUnion over [Prepared]
    subcategory: Any                   # LinearSVC-like: decision_function, coef_, classes_
    temperature: float
    main_calibrator: Any               # IsotonicRegression: main prob -> P(main right)
    report_type: Any
    urgency: Any
    word_slice: tuple[int, int]        # column range of the stemmed word n-grams
    keyword_slice: tuple[int, int]     # column range of the keyword hits
    word_names: list[str]
    recommended_threshold: float
    corpus_digest: str
    stems: dict[str, str] = field(default_factory=dict)   # the training words' stems: warm memo
    info: dict = field(default_factory=dict)


class TrainedClassifier:
    """`Classifier` over a built `Model`.

    Predicting goes through a direct path rather than the scikit-learn pipeline: the same
    TF-IDF arithmetic (sublinear tf, idf, l2 norm, the union's weights) on one text's few
    hundred columns, a gather of their weights, and the calibration by interpolation. The
    pipeline's input checks cost ~10 ms a call, 50 times the arithmetic; a unit test holds
    the two paths equal (`features_of` against `model.features.transform`)."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self._classes = np.asarray(model.subcategory.classes_)
        self._mains = np.asarray([c.split(".", 1)[0] for c in self._classes])
        self._main_codes = sorted(set(self._mains))
        self._main_index = np.asarray([self._main_codes.index(m) for m in self._mains])
        self._coef_t = np.ascontiguousarray(model.subcategory.coef_.T)
        self._intercept = model.subcategory.intercept_
        self._heads = {name: (np.ascontiguousarray(getattr(model, name).coef_.T),
                              getattr(model, name).intercept_,
                              np.asarray(getattr(model, name).classes_))
                       for name in ("report_type", "urgency")}
        weights = model.features.transformer_weights or {}
        offset = 0
        self._blocks = []
        for name, pipeline in model.features.transformer_list:
            last = pipeline.steps[-1][1]
            width = (len(last.vocabulary_) if isinstance(last, TfidfVectorizer)
                     else len(last.codes_) if isinstance(last, KeywordHits) else 4)
            self._blocks.append((name, last, offset, float(weights.get(name, 1.0))))
            offset += width
        self._width = offset
        self._analyzers = {name: last.build_analyzer() for name, last, _, _ in self._blocks
                           if isinstance(last, TfidfVectorizer)}
        keywords = model.features.named_transformers["keywords"]
        self._keyword_hits: KeywordHits = keywords.steps[-1][1]
        self._keyword_column = {c: i for i, c in enumerate(self._keyword_hits.codes_)}
        self._stems = dict(model.stems)
        cal = model.main_calibrator
        self._cal_x, self._cal_y = np.asarray(cal.X_thresholds_), np.asarray(cal.y_thresholds_)

    @property
    def recommended_threshold(self) -> float:
        return self.model.recommended_threshold

    @property
    def subcategories(self) -> tuple[str, ...]:
        return tuple(self._classes)

    def classify(self, title: str, description: str,
                 exclude_subcategories: frozenset[str] = frozenset()) -> Classification:
        doc = prepare(title, description, self._stem)
        cols, vals = self.features_of(doc)
        scores = vals @ self._coef_t[cols] + self._intercept
        probs = self._probabilities(scores, exclude_subcategories)
        return self._one(doc, cols, vals, probs)

    def classify_many(self, texts: list[tuple[str, str]],
                      exclude_subcategories: frozenset[str] = frozenset()) -> list[Classification]:
        return [self.classify(t, d, exclude_subcategories) for t, d in texts]

    def _stem(self, word: str) -> str:
        found = self._stems.get(word)
        return found if found is not None else stem(word)

    def features_of(self, doc: Prepared) -> tuple[np.ndarray, np.ndarray]:
        """The model's feature vector of one text, as (columns, values)."""
        cols: list[int] = []
        vals: list[float] = []
        for name, last, offset, weight in self._blocks:
            if isinstance(last, TfidfVectorizer):
                text = doc.stemmed if name == "words" else doc.plain
                vocabulary = last.vocabulary_
                counts = {j: n for term, n in Counter(self._analyzers[name](text)).items()
                          if (j := vocabulary.get(term)) is not None}
                if not counts:
                    continue
                idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
                tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))
                v = tf * last.idf_[idx]
                v *= weight / np.sqrt(v @ v)
                cols.extend((idx + offset).tolist())
                vals.extend(v.tolist())
            elif isinstance(last, KeywordHits):
                for c, words in last.hits(doc.plain).items():
                    cols.append(offset + c)
                    vals.append(weight * len(words))
            else:
                for c, v in enumerate(shape_of(doc.raw)):
                    if v:
                        cols.append(offset + c)
                        vals.append(weight * v)
        return np.asarray(cols, dtype=np.int64), np.asarray(vals, dtype=float)

    def _probabilities(self, scores: np.ndarray, excluded: frozenset[str]) -> np.ndarray:
        logits = scores / self.model.temperature
        if excluded:
            mask = np.isin(self._classes, list(excluded))
            if mask.all():
                raise ValueError("every subcategory is excluded")
            logits = np.where(mask, -np.inf, logits)
        logits = logits - logits.max()
        e = np.exp(logits)
        return e / e.sum()

    def _head(self, name: str, cols: np.ndarray, vals: np.ndarray) -> str:
        coef_t, intercept, classes = self._heads[name]
        scores = vals @ coef_t[cols] + intercept
        if len(classes) == 2:      # a binary LinearSVC has one column: > 0 is classes[1]
            return str(classes[int(scores[0] > 0)])
        return str(classes[int(np.argmax(scores))])

    def _one(self, doc: Prepared, cols: np.ndarray, vals: np.ndarray,
             probs: np.ndarray) -> Classification:
        mains = np.bincount(self._main_index, weights=probs, minlength=len(self._main_codes))
        main = int(mains.argmax())
        best = int(np.where(self._main_index == main, probs, -1.0).argmax())
        confidence = float(np.interp(mains[main], self._cal_x, self._cal_y))
        order = [int(j) for j in np.argsort(-probs, kind="stable")[:3] if j != best][:2]
        alternatives = tuple((str(self._classes[j]), round(float(probs[j]), 4))
                             for j in (best, *order) if probs[j] > 0 or j == best)
        report_type = self._head("report_type", cols, vals)
        urgency = self._head("urgency", cols, vals)
        if report_type == "pengaduan" and EMERGENCY.search(doc.plain):
            urgency = "tinggi"
        return Classification(
            main_category=str(self._mains[best]), subcategory=str(self._classes[best]),
            report_type=report_type, urgency=urgency,
            confidence=round(min(max(confidence, 0.0), 1.0), 4),
            alternatives=alternatives, explanation=self._explain(doc, cols, vals, best))

    def _explain(self, doc: Prepared, cols: np.ndarray, vals: np.ndarray, cls: int,
                 limit: int = 6) -> tuple[str, ...]:
        """The terms that pushed hardest towards `cls`: stemmed word n-grams by weight times
        value, and the taxonomy keywords found, when the model gives them weight."""
        lo, hi = self.model.word_slice
        contribution = vals * self._coef_t[cols, cls]
        keep = (cols >= lo) & (cols < hi) & (contribution > 0)
        top = np.argsort(-contribution[keep], kind="stable")[:limit]
        terms = [(float(w), self.model.word_names[j - lo])
                 for j, w in zip(cols[keep][top], contribution[keep][top])]
        k = self._keyword_column.get(str(self._classes[cls]))
        if k is not None:
            k_col = self.model.keyword_slice[0] + k
            weight = float(self._coef_t[k_col, cls])
            if weight > 0:
                for word in dict.fromkeys(self._keyword_hits.hits(doc.plain).get(k, ())):
                    terms.append((weight, word))
        terms.sort(key=lambda t: -t[0])
        return tuple(dict.fromkeys(t for _, t in terms))[:limit]


def load_classifier(path: str | Path) -> TrainedClassifier:
    """The model `make model` built; a clear error when it was not built."""
    import joblib

    p = Path(path)
    if not p.is_file():
        raise ModelMissing(f"no classifier model at {p}: run `make model` (it builds the model "
                           f"from services/routing/data/corpus)")
    model = joblib.load(p)
    if not isinstance(model, Model):
        raise ModelMissing(f"{p} is not a classifier model: run `make model`")
    return TrainedClassifier(model)


def default_model_path() -> Path:
    """Where `make model` writes the model: inside the package, ignored by git."""
    return Path(__file__).resolve().parent.parent / "model" / "classifier.joblib"
