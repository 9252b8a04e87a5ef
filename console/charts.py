"""Metrics across a model's versions as small server-rendered SVG line charts (no JavaScript;
the Content-Security-Policy allows none inline).

One chart per metric (and slice), versions in registration order along the x axis, with the
model's declared threshold as a dashed line. The numbers are decimal strings in the record;
they become floats here only to place points on the page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from governance.models import MetricThreshold, ModelVersion

WIDTH, HEIGHT = 340, 170
LEFT, RIGHT, TOP, BOTTOM = 48, 14, 14, 40


@dataclass
class Chart:
    title: str
    width: int = WIDTH
    height: int = HEIGHT
    path: str = ""
    points: list[dict] = field(default_factory=list)
    thresholds: list[dict] = field(default_factory=list)
    x_labels: list[dict] = field(default_factory=list)
    y_ticks: list[dict] = field(default_factory=list)
    plot: dict = field(default_factory=dict)
    range_text: str = ""
    unapproved: list[str] = field(default_factory=list)


def _number(value: object) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _label(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def metric_charts(
    versions: list[ModelVersion], thresholds: list[MetricThreshold], approved: set[int] | None = None
) -> list[Chart]:
    """Return one chart per (metric, slice) reported by any of `versions` (in that order); the
    points of versions not in `approved` (ids) are marked unapproved."""
    series: dict[tuple[str, str], dict[int, Decimal]] = {}
    for index, version in enumerate(versions):
        for metric in version.metrics:
            value = _number(metric.get("value"))
            if value is not None and metric.get("name"):
                series.setdefault((metric["name"], metric.get("slice", "")), {})[index] = value
    charts = []
    for (name, slice_), values in series.items():
        bounds = [t for t in thresholds if t.metric == name and t.slice == slice_]
        charts.append(_chart(name, slice_, versions, values, bounds, approved))
    return charts


def _chart(
    name: str,
    slice_: str,
    versions: list[ModelVersion],
    values: dict[int, Decimal],
    bounds: list[MetricThreshold],
    approved: set[int] | None,
) -> Chart:
    chart = Chart(title=f"{name} [{slice_}]" if slice_ else name)
    limits = [float(v) for v in values.values()] + [float(_number(b.value) or 0) for b in bounds]
    # A metric's interesting range is narrow: the axis runs from the tenth below the lowest value
    # (or zero, when nothing is negative and that tenth is zero) to the tenth above the highest,
    # and the caption says where it starts.
    low, high = math.floor(min(limits) * 10) / 10, math.ceil(max(limits) * 10) / 10
    if high <= low:
        high = low + 0.1
    pad = 0.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    chart.plot = {"x": LEFT, "y": TOP, "w": plot_w, "h": plot_h, "bottom": TOP + plot_h, "right": LEFT + plot_w}
    step = plot_w / max(len(versions) - 1, 1)

    def x_at(index: int) -> float:
        return round(LEFT + (index * step if len(versions) > 1 else plot_w / 2), 1)

    def y_at(value: float) -> float:
        return round(TOP + plot_h - (value - low) / (high - low) * plot_h, 1)

    chart.x_labels = [{"x": x_at(i), "text": v.version} for i, v in enumerate(versions)]
    chart.y_ticks = [{"y": y_at(value), "text": _label(value)} for value in (low + pad, (low + high) / 2, high - pad)]
    for index in sorted(values):
        unapproved = approved is not None and versions[index].pk not in approved
        if unapproved:
            chart.unapproved.append(versions[index].version)
        chart.points.append(
            {
                "x": x_at(index),
                "y": y_at(float(values[index])),
                "value": str(values[index]),
                "version": versions[index].version,
                "unapproved": unapproved,
            }
        )
    start = "from zero" if low == 0 else "not from zero"
    chart.range_text = f"y axis {_label(low)} to {_label(high)} ({start}); versions in registration order"
    chart.path = " ".join(f"{'M' if i == 0 else 'L'}{p['x']} {p['y']}" for i, p in enumerate(chart.points))
    for bound in bounds:
        number = _number(bound.value)
        if number is not None:
            sign = "≥" if bound.operator == MetricThreshold.Operator.MIN else "≤"
            chart.thresholds.append({"y": y_at(float(number)), "text": f"{sign} {bound.value}"})
    return chart
