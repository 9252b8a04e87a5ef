"""Bar and line charts, drawn with ReportLab graphics on a scale that states its range."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Group, Line, Rect, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics

from governance.reports.content import (
    BarChart,
    LineChart,
)
from governance.reports.renderer.style import FRAME_WIDTH, INK, MUTED, PALETTE, RULE, SANS, SANS_BOLD, _visual
from governance.reports.renderer.text import font_for


def _nice_scale(values: Sequence[float], *, zero: bool) -> tuple[float, float, float]:
    """Return (minimum, maximum, step) of a value axis with about five round steps.

    With ``zero`` the axis includes 0, as bar lengths must start there; otherwise it spans
    the values, so that a line's movement stays visible.
    """
    low, high = min(values), max(values)
    if zero:
        low, high = min(0.0, low), max(0.0, high)
    if high == low:
        high = low + 1.0
    raw = (high - low) / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def _axis_format(step: float) -> Callable[[float], str]:
    """Return a label formatter with as many decimals as ``step`` needs (at most six)."""
    decimals = 0
    while decimals < 6 and abs(step * 10**decimals - round(step * 10**decimals)) > 1e-9:
        decimals += 1
    return lambda value: f"{value:.{decimals}f}"


_CHART_HEIGHT = 200.0


_PLOT_LEFT = 46.0


_PLOT_BOTTOM = 52.0


_PLOT_TOP_GAP = 26.0


def _chart_frame(
    title: str,
    value_label: str,
    series_names: Sequence[str],
    thresholds: Sequence[tuple[str, float]],
) -> tuple[Drawing, float, float]:
    """Return a drawing with the title, axis label and legend; and the plot's width, height."""
    drawing = Drawing(FRAME_WIDTH, _CHART_HEIGHT)
    drawing.initialFontName = SANS  # not ReportLab's Helvetica, which is not embedded
    drawing.add(
        String(0, _CHART_HEIGHT - 11, _visual(title), fontName=font_for(title, SANS_BOLD), fontSize=9, fillColor=INK)
    )
    plot_width = FRAME_WIDTH - _PLOT_LEFT - 8
    plot_height = _CHART_HEIGHT - _PLOT_BOTTOM - _PLOT_TOP_GAP
    axis_label = String(0, 0, _visual(value_label), fontName=SANS, fontSize=7, fillColor=MUTED)
    axis_label.textAnchor = "middle"
    drawing.add(
        _rotated(axis_label, 9, _PLOT_BOTTOM + plot_height / 2),
    )
    # Legend: a row of swatches under the plot, wrapping when it runs out of width.
    x, y = 0.0, 8.0
    entries = [(name, PALETTE[i % len(PALETTE)], False) for i, name in enumerate(series_names)]
    entries += [(f"{label} ({value:g})", MUTED, True) for label, value in thresholds]
    for name, colour, dashed in entries:
        width = 14 + pdfmetrics.stringWidth(name, SANS, 7) + 12
        if x + width > FRAME_WIDTH and x > 0:
            x, y = 0.0, y - 10
        if dashed:
            drawing.add(Line(x, y + 3, x + 10, y + 3, strokeColor=colour, strokeDashArray=[2, 2]))
        else:
            drawing.add(Rect(x, y, 10, 6, fillColor=colour, strokeColor=None))
        drawing.add(String(x + 14, y, _visual(name), fontName=font_for(name, SANS), fontSize=7, fillColor=INK))
        x += width
    return drawing, plot_width, plot_height


def _rotated(shape: String, x: float, y: float) -> Group:
    group = Group(shape)
    group.translate(x, y)
    group.rotate(90)
    return group


def _draw_thresholds(
    drawing: Drawing,
    thresholds: Sequence[tuple[str, float]],
    scale: tuple[float, float, float],
    plot_width: float,
    plot_height: float,
) -> None:
    low, high, _ = scale
    for label, value in thresholds:
        y = _PLOT_BOTTOM + (value - low) / (high - low) * plot_height
        drawing.add(
            Line(
                _PLOT_LEFT,
                y,
                _PLOT_LEFT + plot_width,
                y,
                strokeColor=MUTED,
                strokeWidth=0.8,
                strokeDashArray=[3, 2],
            )
        )
        text = String(
            _PLOT_LEFT + plot_width - 2,
            y + 2,
            _visual(label),
            fontName=SANS,
            fontSize=6.5,
            fillColor=MUTED,
        )
        text.textAnchor = "end"
        drawing.add(text)


def _configure_axes(chart: Any, scale: tuple[float, float, float], labels: list[str]) -> None:
    low, high, step = scale
    chart.valueAxis.valueMin = low
    chart.valueAxis.valueMax = high
    chart.valueAxis.valueStep = step
    chart.valueAxis.labelTextFormat = _axis_format(step)
    chart.valueAxis.labels.fontName = SANS
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.strokeColor = RULE
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#e6e9ee")
    chart.categoryAxis.categoryNames = labels
    chart.categoryAxis.labels.fontName = font_for("".join(labels), SANS)
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.strokeColor = RULE
    if len(labels) > 6 or max(len(label) for label in labels) > 12:
        chart.categoryAxis.labels.angle = 30
        chart.categoryAxis.labels.boxAnchor = "ne"
    else:
        chart.categoryAxis.labels.boxAnchor = "n"


def _short(label: str, limit: int = 22) -> str:
    return _visual(label if len(label) <= limit else label[: limit - 1] + "\u2026")


def _bar_chart(block: BarChart) -> Drawing:
    names = [name for name, _ in block.series]
    drawing, plot_width, plot_height = _chart_frame(block.title, block.value_label, names, block.thresholds)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = _PLOT_LEFT, _PLOT_BOTTOM, plot_width, plot_height
    chart.data = [list(values) for _, values in block.series]
    everything = [v for values in chart.data for v in values] + [v for _, v in block.thresholds]
    scale = _nice_scale(everything, zero=True)
    _configure_axes(chart, scale, [_short(c) for c in block.categories])
    chart.groupSpacing = 8
    chart.barSpacing = 1
    chart.strokeColor = None
    for index in range(len(block.series)):
        chart.bars[index].fillColor = PALETTE[index % len(PALETTE)]
        chart.bars[index].strokeColor = None
    drawing.add(chart)
    _draw_thresholds(drawing, block.thresholds, scale, plot_width, plot_height)
    return drawing


def _line_chart(block: LineChart) -> Drawing:
    names = [name for name, _ in block.series]
    drawing, plot_width, plot_height = _chart_frame(block.title, block.value_label, names, block.thresholds)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = _PLOT_LEFT, _PLOT_BOTTOM, plot_width, plot_height
    chart.data = [list(values) for _, values in block.series]
    everything = [v for values in chart.data for v in values] + [v for _, v in block.thresholds]
    scale = _nice_scale(everything, zero=False)
    # Label at most about a dozen x positions; the others stay unlabelled.
    every = max(1, math.ceil(len(block.x_labels) / 12))
    labels = [_short(label) if i % every == 0 else "" for i, label in enumerate(block.x_labels)]
    _configure_axes(chart, scale, labels)
    chart.joinedLines = 1
    for index in range(len(block.series)):
        colour = PALETTE[index % len(PALETTE)]
        chart.lines[index].strokeColor = colour
        chart.lines[index].strokeWidth = 1.4
        if len(block.x_labels) <= 40:
            chart.lines[index].symbol = makeMarker("FilledCircle", size=3, fillColor=colour, strokeColor=colour)
    drawing.add(chart)
    _draw_thresholds(drawing, block.thresholds, scale, plot_width, plot_height)
    return drawing
