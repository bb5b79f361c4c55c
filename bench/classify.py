"""Routing's classifier on its own, in process (no HTTP, no Kafka): classifications per second
for single texts (what routing does per event) and for batches of 64 (`classify_many`), and
each complaint's latency percentiles, on the held-out split's texts.

    .venv/bin/python -m bench.classify [--rounds 3]

Part of `make bench` (bench/__main__.py calls `run`, after the platform stopped so the
classifier has the cores to itself). Measures the classifier routing loads at start
(`routing.adapters.model_file`, built by `make model`); when the alternative model of
`routing.training.build` has been built too, it is measured beside it for comparison.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np


def measure(classifier, texts: list[tuple[str, str]], rounds: int) -> dict:
    for title, description in texts:          # warm-up: stem memo, numpy's first calls
        classifier.classify(title, description)
    latencies = []
    started = time.perf_counter()
    for _ in range(rounds):
        for title, description in texts:
            t0 = time.perf_counter()
            classifier.classify(title, description)
            latencies.append(time.perf_counter() - t0)
    single_s = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(rounds):
        for i in range(0, len(texts), 64):
            classifier.classify_many(texts[i:i + 64])
    batch_s = time.perf_counter() - started
    ms = np.asarray(latencies) * 1000
    return {"texts": len(texts), "rounds": rounds,
            "single_per_s": round(len(latencies) / single_s, 1),
            "batch64_per_s": round(len(texts) * rounds / batch_s, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3),
            "max_ms": round(float(ms.max()), 3)}


def _line(name: str, r: dict) -> str:
    return (f"classifier {name} (in process, {r['texts']} held-out texts x {r['rounds']}): "
            f"{r['single_per_s']:.0f} classifications/s one at a time, {r['batch64_per_s']:.0f}/s "
            f"in batches of 64; latency per complaint p50 {r['p50_ms']:.2f} ms, "
            f"p99 {r['p99_ms']:.2f} ms, max {r['max_ms']:.2f} ms")


def run(say: Callable[[str], None] = print, rounds: int = 3) -> dict:
    from routing.domain.classifier import default_model_path, load_classifier
    from routing.training import corpus

    _, test = corpus.split(corpus.load())
    out = {"service": measure(load_classifier(default_model_path()),
                              [(e.title, e.description) for e in test], rounds)}
    say(_line("(routing's)", out["service"]))
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    run(rounds=parser.parse_args().rounds)
