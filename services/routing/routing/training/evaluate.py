"""Measures the built classifier on the held-out split: `python -m routing.training.evaluate
[--model PATH]` (`make eval`).

Prints per-class precision, recall and F1 of the main categories, macro-F1 of main categories
and subcategories, report type and urgency, a calibration table, and the precision and
coverage of auto-routing at each confidence threshold (main-category level: the level that
picks the OPD); recommends the threshold (by 0.01) with the most coverage at
precision >= 0.95. The last line is always `macro_f1=<x> auto_precision=<p> coverage=<c>` (at that threshold), and
the exit code is 1 when main-category macro-F1 is below 0.80 (CI's gate).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import classification_report, f1_score

from routing.domain.classifier import default_model_path, load_classifier
from routing.training import corpus

MIN_MACRO_F1 = 0.80
TARGET_PRECISION = 0.95
THRESHOLDS = tuple(round(float(t), 2) for t in np.arange(0.50, 0.951, 0.05))
FINE = tuple(round(float(t), 2) for t in np.arange(0.50, 0.991, 0.01))


def auto_routing(confidence: np.ndarray, correct: np.ndarray,
                 thresholds=THRESHOLDS) -> list[tuple[float, float, float, int]]:
    """(threshold, precision of those at or above it, coverage, how many) per threshold."""
    rows = []
    for t in thresholds:
        chosen = confidence >= t
        n = int(chosen.sum())
        rows.append((t, float(correct[chosen].mean()) if n else 1.0, n / len(correct), n))
    return rows


def recommend(rows: list[tuple[float, float, float, int]],
              target: float = TARGET_PRECISION) -> tuple[float, float, float, int]:
    """Most coverage at `target` precision; the most precise threshold when none reaches it."""
    good = [r for r in rows if r[1] >= target and r[3] > 0]
    if good:
        return max(good, key=lambda r: (r[2], -r[0]))
    return max(rows, key=lambda r: (r[1], r[2]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=default_model_path())
    parser.add_argument("--corpus", type=Path, default=corpus.CORPUS_DIR)
    args = parser.parse_args(argv)
    classifier = load_classifier(args.model)
    examples = corpus.load(args.corpus)
    _, held_out = corpus.split(examples)
    built_from = classifier.model.corpus_digest
    if built_from and built_from != corpus.digest(args.corpus):
        print("note: the corpus changed since this model was built (run `make model`); the "
              "held-out split is still unseen by it", file=sys.stderr)
    got = classifier.classify_many([(e.title, e.description) for e in held_out])

    true_main = [e.main_category for e in held_out]
    pred_main = [g.main_category for g in got]
    print(f"held-out split: {len(held_out)} of {len(examples)} examples "
          f"(model trained on {classifier.model.info.get('examples')})\n")
    print("main categories:")
    print(classification_report(true_main, pred_main, digits=3, zero_division=0))
    main_f1 = f1_score(true_main, pred_main, average="macro", zero_division=0)
    sub_f1 = f1_score([e.subcategory for e in held_out], [g.subcategory for g in got],
                      average="macro", zero_division=0)
    rt_f1 = f1_score([e.report_type for e in held_out], [g.report_type for g in got],
                     average="macro", zero_division=0)
    urg_f1 = f1_score([e.urgency for e in held_out], [g.urgency for g in got],
                      average="macro", zero_division=0)
    print(f"macro-F1: main categories {main_f1:.3f}, subcategories {sub_f1:.3f}, "
          f"report type {rt_f1:.3f}, urgency {urg_f1:.3f}")
    print("\nreport type:")
    print(classification_report([e.report_type for e in held_out], [g.report_type for g in got],
                                digits=3, zero_division=0))
    print("urgency (model, and 'tinggi' for a complaint with words of danger to life):")
    print(classification_report([e.urgency for e in held_out], [g.urgency for g in got],
                                digits=3, zero_division=0))

    confidence = np.asarray([g.confidence for g in got])
    correct = np.asarray([g.main_category == t for g, t in zip(got, true_main)])
    print("calibration (confidence bin: examples, mean confidence, share right):")
    for lo in np.arange(0.0, 1.0, 0.1):
        inside = (confidence >= lo) & (confidence < lo + 0.1 + (1e-9 if lo >= 0.9 else 0))
        if inside.any():
            print(f"  [{lo:.1f}, {lo + 0.1:.1f}): {int(inside.sum()):4d}  "
                  f"{confidence[inside].mean():.3f}  {correct[inside].mean():.3f}")
    print("\nauto-routing by threshold (main category):")
    print("  threshold  precision  coverage  routed")
    rows = auto_routing(confidence, correct)
    for t, p, c, n in rows:
        print(f"  {t:9.2f}  {p:9.3f}  {c:8.3f}  {n:6d}")
    t, p, c, _ = recommend(auto_routing(confidence, correct, FINE))
    oof = classifier.recommended_threshold
    _, p_oof, c_oof, _ = auto_routing(confidence, correct, (oof,))[0]
    print(f"\nrecommended threshold (0.01 steps, most coverage at precision >= "
          f"{TARGET_PRECISION}): {t:.2f} (precision {p:.3f}, coverage {c:.3f})")
    print(f"the build's threshold, chosen on out-of-fold training predictions without the "
          f"held-out split: {oof:.2f} (here precision {p_oof:.3f}, coverage {c_oof:.3f})")
    if main_f1 < MIN_MACRO_F1:
        print(f"FAIL: main-category macro-F1 {main_f1:.3f} is below {MIN_MACRO_F1}",
              file=sys.stderr)
    print(f"macro_f1={main_f1:.4f} auto_precision={p:.4f} coverage={c:.4f}")
    return 1 if main_f1 < MIN_MACRO_F1 else 0


if __name__ == "__main__":
    sys.exit(main())
