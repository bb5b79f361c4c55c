"""Horizontal bar charts of the per-OPD figures, as geometry the template draws in SVG: one chart
per measure, bars scaled to the largest value (or to 100 for shares, 5 for ratings), labels
beside them. Server-drawn SVG needs no script and no chart library in the browser, reads on a
phone, prints, and works with the network off; every chart has the same figures as a table."""

from __future__ import annotations

from dataclasses import dataclass

ROW_HEIGHT = 40          # the OPD's name on one line, its bar under it: long names stay whole
BAR_WIDTH = 420


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    text: str
    y: int
    width: float


@dataclass(frozen=True)
class Chart:
    key: str
    bars: tuple[Bar, ...]
    height: int
    width: int = BAR_WIDTH + 60


# measure key -> (scale maximum or None for the largest value, how a value is written)
MEASURES: dict[str, tuple[float | None, str]] = {
    "received": (None, "{:.0f}"),
    "on_time_share": (100.0, "{:.0f}%"),
    "first_response_median_hours": (None, "{:.1f}"),
    "open_breaches": (None, "{:.0f}"),
    "rating_average": (5.0, "{:.1f}"),
}


def chart(key: str, rows: list[dict], names: dict[str, str]) -> Chart:
    """The chart of measure `key` over `rows` (sla's figures, one per OPD)."""
    scale, fmt = MEASURES[key]
    values = [_value(key, row) for row in rows]
    top = scale or max([v for v in values if v is not None] or [0]) or 1
    bars = tuple(
        Bar(label=names.get(row["opd_id"], row["opd_id"]), value=value,
            text="–" if value is None else fmt.format(value), y=i * ROW_HEIGHT,
            width=0 if value is None else round(BAR_WIDTH * min(value, top) / top, 1))
        for i, (row, value) in enumerate(zip(rows, values)))
    return Chart(key, bars, max(len(bars), 1) * ROW_HEIGHT)


def _value(key: str, row: dict) -> float | None:
    value = row.get(key)
    if value is None or value == "":
        return None
    value = float(value)
    return value * 100 if key == "on_time_share" else value
