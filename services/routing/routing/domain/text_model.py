"""The trained classifier: TF-IDF over stemmed words (unigrams and bigrams) and over character
n-grams of the normalised text (which survive typos and run-together words), with a logistic
regression per question: the subcategory (its main category is the code's prefix), the report
type and the urgency. With some 75 classes and a few dozen examples each, a logistic
regression's probabilities are too modest, so they are calibrated by temperature: one scale for
the scores, fitted on a part of the training split the fit did not see, so that a confidence of
0.9 means about nine in ten right (`make eval` prints precision by confidence to check). Its
weights say which terms decided.

Built by `make model` (routing.train) from the corpus in the repository; read at start from
the model file; nothing is downloaded. Rules join it after reading: the category a reporter
chose, and the jurisdiction's first-match rules (`domain.decision`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from routing.domain.classification import Classification
from routing.domain.informal import normalise, stems


@dataclass(frozen=True)
class Example:
    title: str
    description: str
    subcategory: str
    report_type: str
    urgency: str

    @property
    def text(self) -> str:
        return joined(self.title, self.description)


def joined(title: str, description: str) -> str:
    """The title counts twice: citizens put the matter there."""
    return f"{title}. {title}. {description}"


def _stemmed(text: str) -> list[str]:
    return stems(text)


class TextModel:
    """Fitted by `fit`, pickled by routing.train, used by `classify`."""

    def __init__(self, seed: int = 17) -> None:
        self.words = TfidfVectorizer(analyzer=_stemmed, ngram_range=(1, 1), sublinear_tf=True,
                                     min_df=1)
        self.word_pairs = TfidfVectorizer(tokenizer=_stemmed, preprocessor=None, lowercase=False,
                                          token_pattern=None, ngram_range=(2, 2),
                                          sublinear_tf=True, min_df=2)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
                                     min_df=2, preprocessor=normalise, max_features=60_000)
        self.category = LogisticRegression(C=8.0, max_iter=3000, random_state=seed)
        self.report_type = LogisticRegression(C=4.0, max_iter=2000, random_state=seed,
                                              class_weight="balanced")
        self.urgency = LogisticRegression(C=4.0, max_iter=2000, random_state=seed,
                                          class_weight="balanced")

    def _features(self, texts: list[str], fit: bool = False):
        parts = [v.fit_transform(texts) if fit else v.transform(texts)
                 for v in (self.words, self.word_pairs, self.chars)]
        return hstack(parts).tocsr()

    def fit(self, examples: list[Example]) -> "TextModel":
        x = self._features([e.text for e in examples], fit=True)
        labels = np.array([e.subcategory for e in examples])
        # Temperature: fit without every 6th example, choose the scale that best predicts them.
        held = np.arange(len(examples)) % 6 == 0
        self.category.fit(x[~held], labels[~held])
        self.temperature = _temperature(self.category, x[held], labels[held])
        self.category.fit(x, labels)
        self.report_type.fit(x, [e.report_type for e in examples])
        self.urgency.fit(x, [e.urgency for e in examples])
        self._names = np.array([*self.words.get_feature_names_out(),
                                *self.word_pairs.get_feature_names_out(),
                                *(f"'{c}'" for c in self.chars.get_feature_names_out())])
        return self

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.category.classes_)

    def classify(self, title: str, description: str,
                 exclude_subcategories: frozenset[str] = frozenset()) -> Classification:
        return self.classify_many([(title, description)], exclude_subcategories)[0]

    def classify_many(self, texts: list[tuple[str, str]],
                      exclude_subcategories: frozenset[str] = frozenset()) -> list[Classification]:
        """Many at once (one matrix product for a batch); `exclude_subcategories` are taken
        out and the rest renormalised."""
        x = self._features([joined(t, d) for t, d in texts])
        probabilities = _softmax(self.category.decision_function(x) / self.temperature)
        classes = self.category.classes_
        if exclude_subcategories:
            keep = np.array([c not in exclude_subcategories for c in classes])
            probabilities = probabilities * keep
            totals = probabilities.sum(axis=1, keepdims=True)
            probabilities = np.divide(probabilities, totals, out=np.zeros_like(probabilities),
                                      where=totals > 0)
        types = self.report_type.predict(x)
        urgencies = self.urgency.predict(x)
        found = []
        for row, p in enumerate(probabilities):
            order = np.argsort(-p)[:3]
            best = int(order[0])
            alternatives = tuple((str(classes[i]), round(float(p[i]), 3)) for i in order if p[i] > 0)
            found.append(Classification(
                main_category=str(classes[best]).split(".", 1)[0], subcategory=str(classes[best]),
                report_type=str(types[row]), urgency=str(urgencies[row]),
                confidence=round(float(p[best]), 3), alternatives=alternatives,
                explanation=self._why(x[row], best)))
        return found

    def _why(self, row, klass: int, top: int = 6) -> tuple[str, ...]:
        """The features of this text that pushed hardest toward the chosen class."""
        weights = row.multiply(self.category.coef_[klass]).toarray().ravel()
        order = np.argsort(-weights)[:top]
        return tuple(str(self._names[i]) for i in order if weights[i] > 0)


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(scores)
    return e / e.sum(axis=1, keepdims=True)


def _temperature(model: LogisticRegression, x, labels: np.ndarray) -> float:
    """The scale of the scores that gives the held-back examples the highest likelihood."""
    scores = model.decision_function(x)
    index = {c: i for i, c in enumerate(model.classes_)}
    known = np.array([label in index for label in labels])
    rows = np.arange(known.sum())
    truth = np.array([index[label] for label in labels[known]])
    best, best_loss = 1.0, float("inf")
    for t in np.arange(0.1, 3.01, 0.05):
        p = _softmax(scores[known] / t)[rows, truth]
        loss = float(-np.log(np.clip(p, 1e-12, None)).mean())
        if loss < best_loss:
            best, best_loss = float(t), loss
    return best
