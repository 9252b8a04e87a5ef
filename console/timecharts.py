"""Monitoring over time as server-rendered SVG: drift (PSI and KS per feature), live performance
and volume, from the observations of a model's deployed versions.

Each chart places windows by their end time, draws the bound the observation is judged against
as a dashed line, and states its range in words. The y axis starts at zero for drift and volume
(they are non-negative, and a bar of zero means no drift); for a performance metric, whose
interesting range is narrow, it starts at the tenth below the lowest value or bound, and the
caption says the axis does not start at zero. Points of a version that was never approved are
hollow and named "unapproved" in the chart's text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils.text import slugify

from console.charts import Chart, _label, _number
from governance.models import MetricThreshold, MonitoringPolicy, Observation

WIDTH, HEIGHT = 340, 180
LEFT, RIGHT, TOP, BOTTOM = 48, 14, 14, 40
# Features charted for drift; the rest are in the observations API. A chart per feature and
# measure: past a dozen the page is a wall of charts nobody reads.
MAX_FEATURES = 12


@dataclass
class TimeChart(Chart):
    """A chart over time: the metrics-by-version chart's drawing, a little taller, named for tests."""

    testid: str = ""
    height: int = HEIGHT


@dataclass(frozen=True)
class Bound:
    value: Decimal
    text: str


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _nice(number: float) -> float:
    """Return the round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten) at or above `number`."""
    if number <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(number))
    return next(step * power for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if step * power >= number * (1 - 1e-9))


def _axis(values: list[float], bounds: list[float], zero: bool) -> tuple[float, float]:
    found = values + bounds
    high = max(found) if found else 1.0
    if zero:
        return 0.0, _nice(high * 1.05)
    low = math.floor(min(found) * 10) / 10
    top = math.ceil(high * 10) / 10
    if top <= low:
        top = low + 0.1
    return low, top


def build(
    title: str,
    testid: str,
    observations: list[Observation],
    value: Callable[[Observation], Decimal | None],
    bounds: list[Bound],
    approved: set[int],
    *,
    zero: bool,
) -> TimeChart | None:
    """Return one chart of `value` over `observations` (oldest first), or None with no values."""
    series = [(o, v) for o in observations if (v := value(o)) is not None]
    if not series:
        return None
    chart = TimeChart(title=title, testid=testid)
    low, high = _axis([float(v) for _, v in series], [float(b.value) for b in bounds], zero)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    chart.plot = {"x": LEFT, "y": TOP, "w": plot_w, "h": plot_h, "bottom": TOP + plot_h, "right": LEFT + plot_w}
    first, last = series[0][0].window_end, series[-1][0].window_end
    span = (last - first).total_seconds()

    def x_at(moment: datetime) -> float:
        if span <= 0:
            return round(LEFT + plot_w / 2, 1)
        return round(LEFT + (moment - first).total_seconds() / span * plot_w, 1)

    def y_at(number: float) -> float:
        return round(TOP + plot_h - (number - low) / (high - low) * plot_h, 1)

    for observation, number in series:
        unapproved = observation.version_id not in approved
        if unapproved and observation.version.version not in chart.unapproved:
            chart.unapproved.append(observation.version.version)
        chart.points.append(
            {
                "x": x_at(observation.window_end),
                "y": y_at(float(number)),
                "value": str(number),
                "when": _when(observation.window_end),
                "version": observation.version.version,
                "unapproved": unapproved,
            }
        )
    chart.path = " ".join(f"{'M' if i == 0 else 'L'}{p['x']} {p['y']}" for i, p in enumerate(chart.points))
    chart.thresholds = [{"y": y_at(float(b.value)), "text": b.text} for b in bounds if low <= float(b.value) <= high]
    chart.y_ticks = [{"y": y_at(n), "text": _label(n)} for n in (low, (low + high) / 2, high)]
    chart.x_labels = [{"x": x_at(first), "text": first.strftime("%m-%d %H:%M"), "anchor": "start"}]
    if span > 0:
        chart.x_labels.append({"x": x_at(last), "text": last.strftime("%m-%d %H:%M"), "anchor": "end"})
    start_note = "from zero" if low == 0 else "not from zero"
    chart.range_text = (
        f"y axis {_label(low)} to {_label(high)} ({start_note}); "
        f"windows ending {_when(first)} to {_when(last)} UTC; {len(series)} observations"
    )
    return chart


def _decimal(text: str) -> Decimal | None:
    return _number(text) if text not in ("", None) else None


def drift_charts(
    observations: list[Observation], policy: MonitoringPolicy | None, approved: set[int]
) -> list[TimeChart]:
    """PSI and KS of each feature (and of the predictions) over time, with the policy's bounds."""
    drift = [o for o in observations if o.kind in (Observation.Kind.FEATURE_DRIFT, Observation.Kind.PREDICTION_DRIFT)]
    names: list[str] = []
    for o in reversed(drift):  # the most recently observed features first
        name = o.feature or "predictions"
        if name not in names:
            names.append(name)
    charts = []
    for index, name in enumerate(sorted(names[:MAX_FEATURES])):
        mine = [o for o in drift if (o.feature or "predictions") == name]
        for measure, bound in (
            ("psi", policy.psi_threshold if policy else None),
            ("ks", policy.ks_threshold if policy else None),
        ):
            bounds = [Bound(Decimal(bound), f"alert above {bound}")] if bound else []
            chart = build(
                f"{measure.upper()} of {name}",
                f"drift-{measure}-{index}-{slugify(name)}",
                mine,
                lambda o, m=measure: _decimal(getattr(o, m)),
                bounds,
                approved,
                zero=True,
            )
            if chart:
                charts.append(chart)
    return charts


def performance_charts(
    observations: list[Observation], thresholds: Iterable[MetricThreshold], approved: set[int]
) -> list[TimeChart]:
    """Each live metric (and slice) over time, with its declared threshold."""
    perf = [o for o in observations if o.kind == Observation.Kind.PERFORMANCE and o.metric]
    keys = sorted({(o.metric, o.slice) for o in perf})
    thresholds = list(thresholds)
    charts = []
    for metric, slice_ in keys:
        bounds = [
            Bound(n, f"{'≥' if t.operator == MetricThreshold.Operator.MIN else '≤'} {t.value}")
            for t in thresholds
            if t.metric == metric and t.slice == slice_ and (n := _number(t.value)) is not None
        ]
        label = f"{metric} [{slice_}]" if slice_ else metric
        mine = [o for o in perf if (o.metric, o.slice) == (metric, slice_)]
        chart = build(
            f"Live {label}", f"live-{slugify(label)}", mine, lambda o: _decimal(o.value), bounds, approved, zero=False
        )
        if chart:
            charts.append(chart)
    return charts


def volume_charts(
    observations: list[Observation], policy: MonitoringPolicy | None, approved: set[int]
) -> list[TimeChart]:
    """Scored cases per window, with the policy's minimum volume."""
    volume = [o for o in observations if o.kind == Observation.Kind.VOLUME and o.count is not None]
    minimum = policy.min_volume if policy else None
    bounds = [Bound(Decimal(minimum), f"alert below {minimum}")] if minimum else []
    chart = build(
        "Volume (cases per window)", "volume", volume, lambda o: Decimal(o.count), bounds, approved, zero=True
    )
    return [chart] if chart else []
