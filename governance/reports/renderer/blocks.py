"""Flowables for each content block: key-value tables, tables, call-outs, code, charts, timelines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reportlab.graphics.shapes import Circle, Drawing, Line, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus import Table as RLTable

from governance.reports.content import (
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
from governance.reports.renderer.charts import _bar_chart, _line_chart
from governance.reports.renderer.style import (
    _CELL_LEADING,
    _CELL_PAD,
    _CELL_SIZE,
    _MONO_LEADING,
    _MONO_SIZE,
    CODE_FILL,
    FRAME_WIDTH,
    HEADER_FILL,
    INK,
    MONO,
    MUTED,
    RULE,
    SANS,
    SANS_BOLD,
    STRIPE,
    TONE_COLOURS,
    _Heading,
    _markup,
    _Styles,
    _utc,
    _wrap,
)
from governance.reports.renderer.text import font_for


def _cell(text: str, width: float, font: str = SANS) -> str:
    return "\n".join(_wrap(text, font_for(text, font), _CELL_SIZE, width - 2 * _CELL_PAD))


def _font_commands(rows: Sequence[Sequence[str]], bold_rows: int = 0, bold_columns: int = 0) -> list[tuple[Any, ...]]:
    """Style commands setting the CJK font on each cell whose text needs it (see ``_cell``)."""
    commands: list[tuple[Any, ...]] = []
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            base = SANS_BOLD if r < bold_rows or c < bold_columns else SANS
            font = font_for(text, base)
            if font != base:
                commands.append(("FONTNAME", (c, r), (c, r), font))
    return commands


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
    commands += _font_commands(rows, bold_columns=1)
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
    commands += _font_commands([block.columns, *block.rows], bold_rows=1)
    table.setStyle(TableStyle(commands))
    return table


def _callout(block: Callout) -> RLTable:
    ink, fill, label = TONE_COLOURS[block.tone]
    width = FRAME_WIDTH - 8 - _CELL_PAD
    title_font, text_font = font_for(block.title or label, SANS_BOLD), font_for(block.text, SANS)
    title = _wrap(block.title or label, title_font, _CELL_SIZE, width)
    # One row per line, so that a long list of gaps may continue on the next page.
    lines = title + _wrap(block.text, text_font, _CELL_SIZE, width)
    table = RLTable([[line] for line in lines], colWidths=[FRAME_WIDTH], hAlign="LEFT")
    commands = _cell_style(text_font)
    commands += [
        ("FONTNAME", (0, 0), (0, len(title) - 1), title_font),
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
    drawing.initialFontName = SANS  # not ReportLab's Helvetica, which is not embedded
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
        return [RLParagraph(_markup(block.text, width=FRAME_WIDTH, size=styles.body.fontSize), styles.body), gap]
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
