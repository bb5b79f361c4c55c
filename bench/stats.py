"""Percentiles and the few summaries the benchmark reports, in one place so every phase
computes them the same way."""

from __future__ import annotations

import math


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100): a value that was actually observed, never an
    interpolation, so p99 of 300 samples is the third-worst one. NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def spread_ms(seconds: list[float], points: tuple[float, ...] = (50, 90, 99)) -> dict[str, float]:
    """{"p50": …, "p90": …, "p99": …, "max": …} in milliseconds, rounded to 0.1 ms."""
    ms = [s * 1000 for s in seconds]
    out = {f"p{p:g}": round(percentile(ms, p), 1) for p in points}
    out["max"] = round(max(ms), 1) if ms else math.nan
    return out


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else math.nan


def fmt_ms(spread: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:.0f}" for k, v in spread.items())
