"""`python -m routing.train build|eval`: the classifier from the corpus in the repository.

    build   fit on the training split, write the model file (`make model`)
    eval    fit on the training split, measure on the held-out split (`make eval`): per main
            category precision, recall and F1, macro-F1 (main and subcategory), precision and
            coverage of acting alone at each confidence threshold, and one last line
            `macro_f1=<x> auto_precision=<p> coverage=<c>`; exit 1 below macro-F1 0.80

The split is fixed by each example's id (a stable hash), so the held-out fifth is never trained
on and stays the same from run to run; the fit is seeded, so the same corpus gives the same model.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

import joblib
from sklearn.metrics import classification_report, f1_score

from contracts import taxonomy as tx
from routing.domain.text_model import Example, TextModel

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"
MODEL = Path(__file__).resolve().parent / "model" / "text_model.joblib"
MIN_MACRO_F1 = 0.80
TARGET_PRECISION = 0.95


def load(folder: Path = CORPUS) -> list[tuple[str, Example]]:
    """Every labelled line, checked against the taxonomy (a bad line stops the build)."""
    codes = {s.code for s in tx.load().subcategories()}
    seen: set[str] = set()
    found = []
    for path in sorted(folder.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row["subcategory"] not in codes or row["id"] in seen:
                raise ValueError(f"{path.name}:{n}: unknown subcategory or repeated id {row['id']}")
            seen.add(row["id"])
            found.append((row["id"], Example(row["title"], row["description"], row["subcategory"],
                                             row["report_type"], row["urgency"])))
    return found


def held_out(example_id: str) -> bool:
    return int(hashlib.sha256(example_id.encode()).hexdigest(), 16) % 5 == 0


def split(rows: list[tuple[str, Example]]) -> tuple[list[Example], list[Example]]:
    train = [e for i, e in rows if not held_out(i)]
    test = [e for i, e in rows if held_out(i)]
    return train, test


def build(path: Path = MODEL) -> TextModel:
    train, _ = split(load())
    model = TextModel().fit(train)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    joblib.dump(model, tmp)
    tmp.replace(path)
    print(f"model: {len(train)} training examples, {len(model.classes)} subcategories -> {path}")
    return model


def evaluate() -> int:
    train, test = split(load())
    model = TextModel().fit(train)
    read = model.classify_many([(e.title, e.description) for e in test])
    true_main = [e.subcategory.split(".")[0] for e in test]
    pred_main = [r.main_category for r in read]
    print(f"held-out: {len(test)} of {len(test) + len(train)} examples; "
          f"{len(Counter(true_main))} main categories\n")
    print(classification_report(true_main, pred_main, digits=3, zero_division=0))
    macro_main = f1_score(true_main, pred_main, average="macro", zero_division=0)
    macro_sub = f1_score([e.subcategory for e in test], [r.subcategory for r in read],
                         average="macro", zero_division=0)
    types = f1_score([e.report_type for e in test], [r.report_type for r in read], average="macro")
    urgency = f1_score([e.urgency for e in test], [r.urgency for r in read], average="macro")
    print(f"macro-F1: main {macro_main:.3f}, subcategory {macro_sub:.3f}, "
          f"report type {types:.3f}, urgency {urgency:.3f}\n")
    print("threshold  auto_precision(main)  auto_precision(sub)  coverage")
    chosen = None
    for t in [x / 100 for x in range(20, 100, 5)]:
        auto = [(r, e) for r, e in zip(read, test) if r.confidence >= t]
        if not auto:
            continue
        p_main = sum(r.main_category == e.subcategory.split(".")[0] for r, e in auto) / len(auto)
        p_sub = sum(r.subcategory == e.subcategory for r, e in auto) / len(auto)
        coverage = len(auto) / len(test)
        print(f"  {t:.2f}        {p_main:.3f}                 {p_sub:.3f}            {coverage:.3f}")
        if chosen is None and p_main >= TARGET_PRECISION:
            chosen = (t, p_main, coverage)
    if chosen is None:
        chosen = (1.0, 0.0, 0.0)
    print(f"\nrecommended MIN_CONFIDENCE: {chosen[0]:.2f} (precision >= {TARGET_PRECISION} with the "
          "largest coverage)")
    print(f"macro_f1={macro_main:.3f} auto_precision={chosen[1]:.3f} coverage={chosen[2]:.3f}")
    return 0 if macro_main >= MIN_MACRO_F1 else 1


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "build"
    if command == "build":
        build()
    elif command == "eval":
        sys.exit(evaluate())
    else:
        sys.exit(f"usage: python -m routing.train build|eval (not {command!r})")


if __name__ == "__main__":
    main()
