"""Render a :class:`~governance.reports.content.ReportContent` to PDF bytes with ReportLab.

The layout is A4 portrait: a title block, then the sections in order. Every page carries a
header (report title and id), a footer (the content's footer note, the generation time and
"Page N of M"), and, for development content, a diagonal "DEVELOPMENT — NOT A TRUSTED SEAL"
watermark drawn over everything. Section headings become PDF bookmarks.

Rendering is deterministic: equal content gives byte-identical PDFs. ReportLab's invariant
mode removes the clock and randomness; the Info dictionary's /CreationDate and /ModDate are
``content.generated_at``, and the trailer /ID (ISO 32000-1 §14.4) is a digest that includes a
SHA-256 of the whole content. A sealed report therefore starts with exactly these bytes, and
anyone holding the content can re-render and compare.

Text is set in the DejaVu fonts shipped in ``fonts/`` (Latin, Greek and Cyrillic, and the
Arabic glyphs, which are drawn unshaped), embedded as subsets with a ToUnicode map so the text
can be extracted and searched.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Rect, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus import Table as RLTable

from .content import (
    BarChart,
    Block,
    Callout,
    KeyValues,
    LineChart,
    Monospace,
    Paragraph,
    ReportContent,
    Section,
    Table,
    Timeline,
)

__all__ = ["AUTHOR", "CREATOR", "RENDERER_VERSION", "WATERMARK", "render"]

RENDERER_VERSION = "1.0"
"""Version of the layout; change it whenever the same content would render differently."""

AUTHOR = "Model governance ledger"
CREATOR = f"Model governance ledger report renderer {RENDERER_VERSION}"
PRODUCER = f"ReportLab PDF Library {reportlab.Version}"
WATERMARK = "DEVELOPMENT \u2014 NOT A TRUSTED SEAL"

FONT_DIR = Path(__file__).resolve().parent / "fonts"
SANS = "DejaVuSans"
SANS_BOLD = "DejaVuSans-Bold"
SANS_OBLIQUE = "DejaVuSans-Oblique"
MONO = "DejaVuSansMono"
_FONT_FILES = {
    SANS: "DejaVuSans.ttf",
    SANS_BOLD: "DejaVuSans-Bold.ttf",
    SANS_OBLIQUE: "DejaVuSans-Oblique.ttf",
    MONO: "DejaVuSansMono.ttf",
}
_fonts_lock = threading.Lock()
_fonts_registered = False

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 24 * mm
MARGIN_BOTTOM = 22 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN_X

INK = colors.HexColor("#1b1f24")
MUTED = colors.HexColor("#5b6570")
RULE = colors.HexColor("#c9d1d9")
HEADER_FILL = colors.HexColor("#24324a")
STRIPE = colors.HexColor("#f3f5f8")
CODE_FILL = colors.HexColor("#f4f4f2")
WATERMARK_INK = colors.HexColor("#c62828")
TONE_COLOURS = {
    "warning": (colors.HexColor("#b26a00"), colors.HexColor("#fff5e0"), "Attention"),
    "ok": (colors.HexColor("#2e7d32"), colors.HexColor("#eaf5ea"), "Satisfied"),
    "error": (colors.HexColor("#c62828"), colors.HexColor("#fdecea"), "Missing or failed"),
}
# Colour-blind-safe series colours (Okabe and Ito).
PALETTE = tuple(
    colors.HexColor(c) for c in ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442")
)

_PAGE_TOTAL_FORM = "pageTotal"


def register_fonts() -> None:
    """Register the shipped DejaVu fonts with ReportLab, once per process.

    Raise OSError if a font file is missing. Safe to call from several threads.
    """
    global _fonts_registered
    if _fonts_registered:
        return
    with _fonts_lock:
        if _fonts_registered:
            return
        for name, filename in _FONT_FILES.items():
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
        # Paragraph markup <b>/<i> resolves through the family; there is no bold oblique.
        pdfmetrics.registerFontFamily(SANS, normal=SANS, bold=SANS_BOLD, italic=SANS_OBLIQUE, boldItalic=SANS_BOLD)
        _fonts_registered = True


class _Styles:
    """The paragraph styles of a report (built after the fonts are registered)."""

    def __init__(self) -> None:
        base = ParagraphStyle("body", fontName=SANS, fontSize=9, leading=12.2, textColor=INK)
        self.body = base
        self.title = ParagraphStyle("title", parent=base, fontName=SANS_BOLD, fontSize=17, leading=21, spaceAfter=3)
        self.subtitle = ParagraphStyle("subtitle", parent=base, fontSize=11, leading=14, textColor=MUTED, spaceAfter=8)
        self.heading = ParagraphStyle(
            "heading",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=12,
            leading=15,
            spaceBefore=10,
            spaceAfter=5,
            keepWithNext=1,
            textColor=HEADER_FILL,
        )
        self.caption = ParagraphStyle(
            "caption", parent=base, fontName=SANS_BOLD, fontSize=9, leading=12, keepWithNext=1
        )


# Right-to-left scripts: Hebrew, Arabic, Syriac, Thaana, NKo and their presentation forms.
_RTL = "\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff"
_RTL_RUN = re.compile(f"[{_RTL}](?:[{_RTL} \u00a0]*[{_RTL}])?")


def _reverse_clusters(run: str) -> str:
    clusters: list[str] = []
    for char in run:
        if clusters and unicodedata.combining(char):
            clusters[-1] += char
        else:
            clusters.append(char)
    return "".join(reversed(clusters))


def _visual(text: str) -> str:
    """Return one line of ``text`` with each right-to-left run in visual (drawing) order.

    ReportLab draws characters left to right in the order given and, without a shaping
    engine, cannot apply the Unicode bidirectional algorithm (UAX #9). Reversing each run of
    right-to-left characters (keeping combining marks on their base) makes names such as
    Arabic or Hebrew ones read correctly, in isolated letter forms; text extractors apply
    UAX #9 and recover the logical order. Digits inside such a run keep their place, and a
    run wrapped over two lines is not reordered between the lines.
    """
    return _RTL_RUN.sub(lambda match: _reverse_clusters(match.group()), text)


def _markup(text: str) -> str:
    """Return ``text`` as Paragraph markup: escaped, newlines as line breaks."""
    return "<br/>".join(escape(_visual(line)) for line in text.split("\n"))


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _fit(text: str, font: str, size: float, width: float) -> str:
    """Return ``text`` cut to ``width`` points, ending in an ellipsis if it was cut."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "\u2026", font, size) > width:
        text = text[:-1]
    return text + "\u2026"


class _Heading(RLParagraph):
    """A section heading; the document template makes it a bookmark."""

    def __init__(self, text: str, style: ParagraphStyle, key: str) -> None:
        super().__init__(_markup(text), style)
        self.bookmark_key = key
        self.bookmark_title = text


class _ReportDoc(BaseDocTemplate):
    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, _Heading):
            self.canv.bookmarkPage(flowable.bookmark_key)
            self.canv.addOutlineEntry(flowable.bookmark_title, flowable.bookmark_key, level=0)


def _canvas_class(content: ReportContent) -> type[Canvas]:
    """Return a Canvas class that fixes the dates and ID and writes the page total."""
    stamp = content.generated_at.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")
    fingerprint = hashlib.sha256(repr(content).encode("utf-8")).digest()

    class _ReportCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # PDF date strings, ISO 32000-1 §7.9.4; both dates are the generation time.
            self.setDateFormatter(lambda *_: stamp)
            self._doc.updateSignature(fingerprint)

        def save(self) -> None:
            # "Page N of M": every footer draws this form, defined once the total is known.
            total = self.getPageNumber() - 1
            self.beginForm(_PAGE_TOTAL_FORM)
            self.setFont(SANS, 7.5)
            self.setFillColor(MUTED)
            self.drawString(0, 0, str(total))
            self.endForm()
            super().save()

    return _ReportCanvas


def _draw_page(canvas: Canvas, doc: BaseDocTemplate, content: ReportContent) -> None:
    """Draw the header, footer and watermark of the current page, over its content."""
    canvas.saveState()
    top = PAGE_HEIGHT - 13 * mm
    right = PAGE_WIDTH - MARGIN_X
    report_label = _visual(f"Report {content.report_id}")
    canvas.setFont(SANS, 7.5)
    canvas.setFillColor(MUTED)
    label_width = pdfmetrics.stringWidth(report_label, SANS, 7.5)
    canvas.drawRightString(right, top, report_label)
    canvas.setFont(SANS_BOLD, 7.5)
    canvas.setFillColor(INK)
    canvas.drawString(
        MARGIN_X,
        top,
        _visual(_fit(content.title, SANS_BOLD, 7.5, FRAME_WIDTH - label_width - 12)),
    )
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN_X, top - 3 * mm, right, top - 3 * mm)

    bottom = 12 * mm
    canvas.line(MARGIN_X, bottom + 6 * mm, right, bottom + 6 * mm)
    canvas.setFont(SANS, 7.5)
    canvas.setFillColor(MUTED)
    page_label = f"Page {canvas.getPageNumber()} of "
    page_x = right - 22 * mm
    canvas.drawString(page_x, bottom + 2.5 * mm, page_label)
    canvas.saveState()
    canvas.translate(page_x + pdfmetrics.stringWidth(page_label, SANS, 7.5), bottom + 2.5 * mm)
    canvas.doForm(_PAGE_TOTAL_FORM)
    canvas.restoreState()
    canvas.drawString(
        MARGIN_X,
        bottom - 1 * mm,
        _visual(f"Generated {_utc(content.generated_at)} \u00b7 {content.kind} report"),
    )
    if content.footer_note:
        canvas.setFont(SANS, 7)
        note = content.footer_note.replace("\n", " ")
        canvas.drawString(
            MARGIN_X,
            bottom + 2.5 * mm,
            _visual(_fit(note, SANS, 7, page_x - MARGIN_X - 6 * mm)),
        )

    if content.development:
        _draw_watermark(canvas)
    canvas.restoreState()


def _draw_watermark(canvas: Canvas) -> None:
    """Draw the development watermark diagonally across the page, translucent, on top."""
    angle = math.degrees(math.atan2(PAGE_HEIGHT, PAGE_WIDTH))
    diagonal = math.hypot(PAGE_WIDTH, PAGE_HEIGHT)
    size = 0.78 * diagonal / pdfmetrics.stringWidth(WATERMARK, SANS_BOLD, 1)
    canvas.saveState()
    canvas.setFillColor(WATERMARK_INK)
    canvas.setFillAlpha(0.18)
    canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
    canvas.rotate(angle)
    canvas.setFont(SANS_BOLD, size)
    canvas.drawCentredString(0, -size / 3, WATERMARK)
    canvas.restoreState()


def _split_word(word: str, font: str, size: float, width: float) -> list[str]:
    """Return ``word`` cut into pieces no wider than ``width`` (at least one character each)."""
    pieces = []
    while word and pdfmetrics.stringWidth(word, font, size) > width:
        low, high = 1, len(word)
        # The longest prefix that fits, by bisection on the prefix length.
        while low < high:
            middle = (low + high + 1) // 2
            if pdfmetrics.stringWidth(word[:middle], font, size) <= width:
                low = middle
            else:
                high = middle - 1
        pieces.append(word[:low])
        word = word[low:]
    return [*pieces, word]


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Return the lines of ``text`` wrapped to ``width`` points, each in visual order.

    Lines break at spaces; a word wider than the line (a hash, a URL) breaks anywhere.
    Table cells are drawn as these pre-broken lines rather than as Paragraphs: the result is
    the same for plain text and the layout costs a fraction of the time.
    """
    lines: list[str] = []
    for source in text.split("\n"):
        current = ""
        for word in source.split(" "):
            candidate = f"{current} {word}" if current else word
            if pdfmetrics.stringWidth(candidate, font, size) <= width:
                current = candidate
                continue
            if pdfmetrics.stringWidth(word, font, size) > width:
                # A word that must break anyway starts right here, filling this line.
                *full, current = _split_word(candidate, font, size, width)
            else:
                full, current = [current], word
            lines.extend(full)
        lines.append(current)
    return [_visual(line) for line in lines]


_CELL_SIZE, _CELL_LEADING, _CELL_PAD = 8.0, 10.0, 4.0
_MONO_SIZE, _MONO_LEADING = 7.2, 9.0


def _cell(text: str, width: float, font: str = SANS) -> str:
    return "\n".join(_wrap(text, font, _CELL_SIZE, width - 2 * _CELL_PAD))


def _cell_style(font: str = SANS) -> list[tuple[Any, ...]]:
    return [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), _CELL_SIZE),
        ("LEADING", (0, 0), (-1, -1), _CELL_LEADING),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), _CELL_PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), _CELL_PAD),
    ]


def _key_values(rows: Sequence[tuple[str, str]]) -> RLTable:
    widths = [0.3 * FRAME_WIDTH, 0.7 * FRAME_WIDTH]
    data = [[_cell(k, widths[0], SANS_BOLD), _cell(v, widths[1])] for k, v in rows]
    table = RLTable(data, colWidths=widths, hAlign="LEFT")
    commands = _cell_style()
    commands += [
        ("FONTNAME", (0, 0), (0, -1), SANS_BOLD),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
        ("BACKGROUND", (0, 0), (0, -1), STRIPE),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    table.setStyle(TableStyle(commands))
    return table


def _table(block: Table) -> RLTable:
    weights = block.column_widths or (1.0,) * len(block.columns)
    widths = [w * FRAME_WIDTH / sum(weights) for w in weights]
    header = [_cell(c, w, SANS_BOLD) for c, w in zip(block.columns, widths, strict=True)]
    body = [[_cell(c, w) for c, w in zip(row, widths, strict=True)] for row in block.rows]
    if not body:
        body = [["(none)"] + [""] * (len(block.columns) - 1)]
    # repeatRows=1: the header row is drawn again at the top of every page the table reaches.
    table = RLTable([header, *body], colWidths=widths, repeatRows=1, hAlign="LEFT")
    commands = _cell_style()
    commands += [
        ("FONTNAME", (0, 0), (-1, 0), SANS_BOLD),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
    ]
    commands += [("BACKGROUND", (0, r), (-1, r), STRIPE) for r in range(2, len(body) + 1, 2)]
    table.setStyle(TableStyle(commands))
    return table


def _callout(block: Callout) -> RLTable:
    ink, fill, label = TONE_COLOURS[block.tone]
    width = FRAME_WIDTH - 8 - _CELL_PAD
    title = _wrap(block.title or label, SANS_BOLD, _CELL_SIZE, width)
    # One row per line, so that a long list of gaps may continue on the next page.
    lines = title + _wrap(block.text, SANS, _CELL_SIZE, width)
    table = RLTable([[line] for line in lines], colWidths=[FRAME_WIDTH], hAlign="LEFT")
    commands = _cell_style()
    commands += [
        ("FONTNAME", (0, 0), (0, len(title) - 1), SANS_BOLD),
        ("TEXTCOLOR", (0, 0), (0, len(title) - 1), ink),
        ("BACKGROUND", (0, 0), (-1, -1), fill),
        ("LINEBEFORE", (0, 0), (0, -1), 3, ink),
        ("LEFTPADDING", (0, 0), (-1, -1), 8),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, 0), 4),
        ("BOTTOMPADDING", (0, -1), (-1, -1), 5),
    ]
    table.setStyle(TableStyle(commands))
    return table


def _monospace(block: Monospace) -> RLTable:
    lines = _wrap(block.text, MONO, _MONO_SIZE, FRAME_WIDTH - 12)
    table = RLTable([[line] for line in lines], colWidths=[FRAME_WIDTH], hAlign="LEFT")
    commands = _cell_style(MONO)
    commands += [
        ("FONTSIZE", (0, 0), (-1, -1), _MONO_SIZE),
        ("LEADING", (0, 0), (-1, -1), _MONO_LEADING),
        ("BACKGROUND", (0, 0), (-1, -1), CODE_FILL),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.8),
        ("TOPPADDING", (0, 0), (-1, 0), 4),
        ("BOTTOMPADDING", (0, -1), (-1, -1), 5),
    ]
    table.setStyle(TableStyle(commands))
    return table


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
    drawing.add(String(0, _CHART_HEIGHT - 11, _visual(title), fontName=SANS_BOLD, fontSize=9, fillColor=INK))
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
        drawing.add(String(x + 14, y, _visual(name), fontName=SANS, fontSize=7, fillColor=INK))
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
    chart.categoryAxis.labels.fontName = SANS
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


def _elapsed(start: datetime, moment: datetime) -> str:
    seconds = int((moment - start).total_seconds())
    sign = "-" if seconds < 0 else "+"
    days, rest = divmod(abs(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    return f"{sign}{days} d {clock}" if days else f"{sign}{clock}"


def _timeline(block: Timeline, styles: _Styles) -> list[Flowable]:
    caption = RLParagraph(_markup(block.title), styles.caption)
    if not block.events:
        return [KeepTogether([caption, RLParagraph("(no events)", styles.body)])]
    times = [moment for moment, _ in block.events]
    first, last = min(times), max(times)
    span = (last - first).total_seconds() or 1.0
    # A rail with one numbered marker per event, placed in proportion to time.
    drawing = Drawing(FRAME_WIDTH, 50)
    left, right, rail_y = 14.0, FRAME_WIDTH - 14.0, 28.0
    drawing.add(Line(left, rail_y, right, rail_y, strokeColor=RULE, strokeWidth=2))
    positions = sorted(
        (left + (moment - first).total_seconds() / span * (right - left), number)
        for number, (moment, _) in enumerate(block.events, start=1)
    )
    # Markers closer than a label's width share one label ("1-3"); labels alternate rows.
    groups: list[list[tuple[float, int]]] = []
    for x, number in positions:
        drawing.add(Circle(x, rail_y, 3.2, fillColor=HEADER_FILL, strokeColor=colors.white))
        if groups and x - groups[-1][0][0] < 16:
            groups[-1].append((x, number))
        else:
            groups.append([(x, number)])
    for index, group in enumerate(groups):
        numbers = sorted(number for _, number in group)
        label = str(numbers[0]) if len(numbers) == 1 else f"{numbers[0]}\u2013{numbers[-1]}"
        if len(numbers) > 1 and numbers[-1] - numbers[0] != len(numbers) - 1:
            label = ",".join(map(str, numbers))
        x = sum(x for x, _ in group) / len(group)
        label_y = rail_y + 7 if index % 2 == 0 else rail_y - 13
        text = String(x, label_y, label, fontName=SANS_BOLD, fontSize=7, fillColor=INK)
        text.textAnchor = "middle"
        drawing.add(text)
    start_label = String(left, 2, _utc(first), fontName=SANS, fontSize=6.5, fillColor=MUTED)
    end_label = String(right, 2, _utc(last), fontName=SANS, fontSize=6.5, fillColor=MUTED)
    end_label.textAnchor = "end"
    drawing.add(start_label)
    drawing.add(end_label)
    rows = [
        (str(number), _utc(moment), _elapsed(first, moment), label)
        for number, (moment, label) in enumerate(block.events, start=1)
    ]
    table = _table(Table(("#", "Time (UTC)", "Since first", "Event"), tuple(rows), (0.5, 2.9, 1.7, 5.0)))
    # Keep the caption and rail with the table's first rows; a long table still splits.
    return [KeepTogether([caption, drawing, table])]


def _block(block: Block, styles: _Styles) -> list[Flowable]:
    """Return the flowables that draw one block, followed by its spacing."""
    gap = Spacer(1, 6)
    if isinstance(block, Paragraph):
        return [RLParagraph(_markup(block.text), styles.body), gap]
    if isinstance(block, KeyValues):
        return [_key_values(block.rows), gap]
    if isinstance(block, Table):
        return [_table(block), gap]
    if isinstance(block, BarChart):
        return [KeepTogether([_bar_chart(block)]), gap]
    if isinstance(block, LineChart):
        return [KeepTogether([_line_chart(block)]), gap]
    if isinstance(block, Timeline):
        return [*_timeline(block, styles), gap]
    if isinstance(block, Callout):
        return [_callout(block), gap]
    if isinstance(block, Monospace):
        return [_monospace(block), gap]
    raise TypeError(f"cannot render a {type(block).__name__}")  # pragma: no cover


def _story(content: ReportContent, styles: _Styles) -> list[Flowable]:
    story: list[Flowable] = [
        RLParagraph(_markup(content.title), styles.title),
        RLParagraph(_markup(content.subject), styles.subtitle),
    ]
    rows = [
        ("Report ID", content.report_id),
        ("Report type", content.kind),
        ("Subject", content.subject),
        ("Generated at", _utc(content.generated_at)),
        *content.title_rows,
    ]
    story += [_key_values(rows), Spacer(1, 8)]
    if content.development:
        notice = Callout(
            "This report was sealed with a development certificate that nobody trusts. "
            "It demonstrates the format only and proves nothing about the operator's records.",
            tone="error",
            title="Development report",
        )
        story += [_callout(notice), Spacer(1, 6)]
    for number, section in enumerate(content.sections):
        story += _section(section, number, styles)
    # A last spacer that does not fit would open an empty page.
    while story and isinstance(story[-1], Spacer):
        story.pop()
    return story


def _section(section: Section, number: int, styles: _Styles) -> list[Flowable]:
    # Start the section on a new page rather than strand its heading at a page foot.
    flowables: list[Flowable] = [
        CondPageBreak(60 * mm),
        _Heading(section.heading, styles.heading, f"section-{number}"),
    ]
    for block in section.blocks:
        flowables += _block(block, styles)
    return flowables


def render(content: ReportContent) -> bytes:
    """Return the PDF of ``content``: byte-identical for equal content, on any machine.

    Raise OSError if the shipped fonts cannot be read, and ReportLab's LayoutError if a single
    indivisible element (one table row, one chart) is taller than a page.
    """
    register_fonts()
    styles = _Styles()
    buffer = io.BytesIO()
    doc = _ReportDoc(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=content.title,
        subject=content.subject,
        author=AUTHOR,
        creator=CREATOR,
        producer=PRODUCER,
        keywords=[
            f"report-id:{content.report_id}",
            f"kind:{content.kind}",
            f"generated-at:{content.generated_at.astimezone(UTC).isoformat()}",
        ],
        invariant=1,
        pageCompression=1,
        lang="en",
        displayDocTitle=1,
    )
    frame = Frame(
        MARGIN_X,
        MARGIN_BOTTOM,
        FRAME_WIDTH,
        PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="body",
    )
    doc.addPageTemplates(
        [
            PageTemplate(
                id="report",
                frames=[frame],
                onPageEnd=lambda canvas, d: _draw_page(canvas, d, content),
            )
        ]
    )
    doc.build(_story(content, styles), canvasmaker=_canvas_class(content))
    return buffer.getvalue()
