"""The content model of an audit report: what the PDF renderer draws, and nothing else.

A report is a :class:`ReportContent`: a title block (title, subject, kind, report id,
generation time, optional extra rows), then :class:`Section` objects, each a heading followed
by blocks. Blocks are plain data; the renderer decides fonts, colours and layout:

- :class:`Paragraph`: running text.
- :class:`KeyValues`: two-column label/value rows (identification, governance facts).
- :class:`Table`: a data table with a header row; it may run over several pages, the header
  repeated on each.
- :class:`BarChart`, :class:`LineChart`: small charts (metrics by subgroup, monitoring series).
- :class:`Timeline`: dated events in order (a decision's life, a version's deployments).
- :class:`Callout`: a highlighted statement, e.g. the explicit list of missing evidence.
- :class:`Monospace`: hashes, proofs and verification commands, wrapped at any character.

All text is plain Unicode, never markup: the renderer escapes it, so database values can be
passed through as they are. A newline in a text field starts a new line. Everything is frozen
and hashable, holds no Django objects, and is validated on construction (``ValueError`` names
the offending field), so a builder finds its mistakes before the renderer runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

__all__ = [
    "BarChart",
    "Block",
    "Callout",
    "KeyValues",
    "LineChart",
    "Monospace",
    "Paragraph",
    "ReportContent",
    "Section",
    "Table",
    "Timeline",
    "Tone",
]

Tone = Literal["warning", "ok", "error"]
"""How a :class:`Callout` is coloured: amber, green or red."""

TONES: tuple[str, ...] = ("warning", "ok", "error")


def _require_text(value: object, what: str, *, empty: bool = True) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, not {type(value).__name__}")
    if not empty and not value.strip():
        raise ValueError(f"{what} must not be empty")


def _require_aware(value: object, what: str) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{what} must be a datetime")
    if value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (UTC)")


def _require_series(series: object, length: int, what: str) -> tuple[tuple[str, tuple[float, ...]], ...]:
    if not isinstance(series, tuple) or not series:
        raise ValueError(f"{what} must be a non-empty tuple of (name, values) pairs")
    for number, item in enumerate(series):
        if not isinstance(item, tuple) or len(item) != 2:
            raise ValueError(f"{what}[{number}] must be a (name, values) pair")
        name, values = item
        _require_text(name, f"{what}[{number}] name")
        if not isinstance(values, tuple) or len(values) != length:
            raise ValueError(f"{what}[{number}] must have {length} values, one per category")
        for value in values:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{what}[{number}] values must be numbers")
            if not math.isfinite(value):
                raise ValueError(f"{what}[{number}] values must be finite")
    return series


@dataclass(frozen=True)
class Paragraph:
    """Running text; newlines start new lines."""

    text: str

    def __post_init__(self) -> None:
        _require_text(self.text, "Paragraph.text")


@dataclass(frozen=True)
class KeyValues:
    """Label/value rows drawn as a two-column table, labels in bold."""

    rows: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        if not isinstance(self.rows, tuple):
            raise ValueError("KeyValues.rows must be a tuple of (label, value) pairs")
        for number, row in enumerate(self.rows):
            if not isinstance(row, tuple) or len(row) != 2:
                raise ValueError(f"KeyValues.rows[{number}] must be a (label, value) pair")
            _require_text(row[0], f"KeyValues.rows[{number}] label")
            _require_text(row[1], f"KeyValues.rows[{number}] value")


@dataclass(frozen=True)
class Table:
    """A table with one header row; body rows have exactly one cell per column.

    ``column_widths`` are relative weights (e.g. ``(1, 3, 1)``), scaled to the page width; with
    ``None`` the columns share the width equally. A table with no rows is drawn with its header
    and an "(none)" row, so an empty list stays visible as such.
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    column_widths: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.columns, tuple) or not self.columns:
            raise ValueError("Table.columns must be a non-empty tuple of strings")
        for name in self.columns:
            _require_text(name, "Table.columns entry")
        if not isinstance(self.rows, tuple):
            raise ValueError("Table.rows must be a tuple of rows")
        for number, row in enumerate(self.rows):
            if not isinstance(row, tuple) or len(row) != len(self.columns):
                raise ValueError(f"Table.rows[{number}] must have {len(self.columns)} cells")
            for cell in row:
                _require_text(cell, f"Table.rows[{number}] cell")
        if self.column_widths is not None:
            widths = self.column_widths
            if not isinstance(widths, tuple) or len(widths) != len(self.columns):
                raise ValueError("Table.column_widths must have one weight per column")
            if any(isinstance(w, bool) or not isinstance(w, int | float) for w in widths):
                raise ValueError("Table.column_widths must be numbers")
            if any(not math.isfinite(w) or w <= 0 for w in widths):
                raise ValueError("Table.column_widths must be positive")


@dataclass(frozen=True)
class BarChart:
    """Grouped vertical bars: one group per category, one bar per series.

    ``series`` is ``((name, values), ...)`` with one value per category; ``value_label`` names
    the vertical axis (e.g. "approval rate, %"). ``thresholds`` are ``((label, value), ...)``
    drawn as dashed horizontal lines.
    """

    title: str
    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]
    value_label: str
    thresholds: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        _require_text(self.title, "BarChart.title")
        _require_text(self.value_label, "BarChart.value_label")
        if not isinstance(self.categories, tuple) or not self.categories:
            raise ValueError("BarChart.categories must be a non-empty tuple of strings")
        for name in self.categories:
            _require_text(name, "BarChart.categories entry")
        _require_series(self.series, len(self.categories), "BarChart.series")
        _check_thresholds(self.thresholds, "BarChart.thresholds")


@dataclass(frozen=True)
class LineChart:
    """Lines over ordered x positions (periods, dates), one line per series.

    ``series`` is ``((name, values), ...)`` with one value per x label; ``thresholds`` are
    ``((label, value), ...)`` drawn as dashed horizontal lines (e.g. a monitoring limit).
    """

    title: str
    x_labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]
    value_label: str
    thresholds: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        _require_text(self.title, "LineChart.title")
        _require_text(self.value_label, "LineChart.value_label")
        if not isinstance(self.x_labels, tuple) or not self.x_labels:
            raise ValueError("LineChart.x_labels must be a non-empty tuple of strings")
        for name in self.x_labels:
            _require_text(name, "LineChart.x_labels entry")
        _require_series(self.series, len(self.x_labels), "LineChart.series")
        _check_thresholds(self.thresholds, "LineChart.thresholds")


def _check_thresholds(thresholds: object, what: str) -> None:
    if not isinstance(thresholds, tuple):
        raise ValueError(f"{what} must be a tuple of (label, value) pairs")
    for number, item in enumerate(thresholds):
        if not isinstance(item, tuple) or len(item) != 2:
            raise ValueError(f"{what}[{number}] must be a (label, value) pair")
        _require_text(item[0], f"{what}[{number}] label")
        value = item[1]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{what}[{number}] value must be a number")
        if not math.isfinite(value):
            raise ValueError(f"{what}[{number}] value must be finite")


@dataclass(frozen=True)
class Timeline:
    """Dated events, drawn in the order given (normally chronological), times in UTC."""

    title: str
    events: tuple[tuple[datetime, str], ...]

    def __post_init__(self) -> None:
        _require_text(self.title, "Timeline.title")
        if not isinstance(self.events, tuple):
            raise ValueError("Timeline.events must be a tuple of (datetime, label) pairs")
        for number, item in enumerate(self.events):
            if not isinstance(item, tuple) or len(item) != 2:
                raise ValueError(f"Timeline.events[{number}] must be a (datetime, label) pair")
            _require_aware(item[0], f"Timeline.events[{number}] time")
            _require_text(item[1], f"Timeline.events[{number}] label")
        # Equal instants give equal content, whatever time zone object they came with.
        events = tuple((moment.astimezone(UTC), label) for moment, label in self.events)
        object.__setattr__(self, "events", events)


@dataclass(frozen=True)
class Callout:
    """A boxed statement in the colour of ``tone``; ``title`` is an optional bold first line.

    Use ``"error"`` for evidence that is missing or a check that failed (the explicit gaps
    list), ``"warning"`` for what needs attention, ``"ok"`` for a check that passed.
    """

    text: str
    tone: Tone = "warning"
    title: str = ""

    def __post_init__(self) -> None:
        _require_text(self.text, "Callout.text")
        _require_text(self.title, "Callout.title")
        if self.tone not in TONES:
            raise ValueError(f"Callout.tone must be one of {', '.join(TONES)}")


@dataclass(frozen=True)
class Monospace:
    """Fixed-width text (hashes, proofs, commands), wrapped at any character when too long."""

    text: str

    def __post_init__(self) -> None:
        _require_text(self.text, "Monospace.text")


Block = Paragraph | KeyValues | Table | BarChart | LineChart | Timeline | Callout | Monospace
"""Any block a :class:`Section` may hold."""

_BLOCK_TYPES = (Paragraph, KeyValues, Table, BarChart, LineChart, Timeline, Callout, Monospace)


@dataclass(frozen=True)
class Section:
    """A section: a heading (printed as given, numbering included), then its blocks in order."""

    heading: str
    blocks: tuple[Block, ...]

    def __post_init__(self) -> None:
        _require_text(self.heading, "Section.heading", empty=False)
        if not isinstance(self.blocks, tuple):
            raise ValueError("Section.blocks must be a tuple of blocks")
        for block in self.blocks:
            if not isinstance(block, _BLOCK_TYPES):
                raise ValueError(f"Section.blocks cannot hold a {type(block).__name__}")


@dataclass(frozen=True)
class ReportContent:
    """A whole report, as the renderer draws it.

    ``kind`` names the report type (``"version"`` or ``"decision"`` today); ``report_id`` is
    printed in every page header; ``generated_at`` (timezone-aware, shown in UTC) also fixes
    the PDF's creation date and document ID, so equal content renders to equal bytes.
    ``development`` draws the "DEVELOPMENT — NOT A TRUSTED SEAL" watermark on every page.
    ``footer_note`` is one short line printed in every page footer (e.g. the verification
    command). ``title_rows`` are extra (label, value) rows for the title block, such as the
    purpose, requester, template version or regimes in scope.
    """

    kind: str
    title: str
    report_id: str
    generated_at: datetime
    subject: str
    development: bool
    sections: tuple[Section, ...]
    footer_note: str = ""
    title_rows: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        _require_text(self.kind, "ReportContent.kind", empty=False)
        _require_text(self.title, "ReportContent.title", empty=False)
        _require_text(self.report_id, "ReportContent.report_id", empty=False)
        _require_text(self.subject, "ReportContent.subject")
        _require_text(self.footer_note, "ReportContent.footer_note")
        _require_aware(self.generated_at, "ReportContent.generated_at")
        if self.generated_at.utcoffset() != timedelta(0):
            raise ValueError("ReportContent.generated_at must be in UTC")
        object.__setattr__(self, "generated_at", self.generated_at.astimezone(UTC))
        if not isinstance(self.development, bool):
            raise ValueError("ReportContent.development must be a bool")
        if not isinstance(self.sections, tuple):
            raise ValueError("ReportContent.sections must be a tuple of sections")
        for section in self.sections:
            if not isinstance(section, Section):
                raise ValueError("ReportContent.sections must hold Section objects")
        KeyValues(self.title_rows)
