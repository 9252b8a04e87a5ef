"""The report content model validates what a builder gives it."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.reports.content import (
    BarChart,
    Callout,
    KeyValues,
    LineChart,
    Paragraph,
    ReportContent,
    Section,
    Table,
    Timeline,
)

from .helpers import GENERATED_AT, sample_content


def test_it_accepts_a_report_with_every_kind_of_block() -> None:
    content = sample_content()
    assert {type(b) for s in content.sections for b in s.blocks} >= {
        KeyValues,
        Paragraph,
        Callout,
        Table,
        BarChart,
        LineChart,
        Timeline,
    }
    assert hash(content) == hash(sample_content())


def test_it_rejects_a_table_row_with_the_wrong_number_of_cells() -> None:
    with pytest.raises(ValueError, match=r"Table.rows\[1\] must have 2 cells"):
        Table(("a", "b"), (("1", "2"), ("3",)))


def test_it_rejects_column_widths_that_do_not_match_the_columns() -> None:
    with pytest.raises(ValueError, match="one weight per column"):
        Table(("a", "b"), (), (1.0,))
    with pytest.raises(ValueError, match="positive"):
        Table(("a", "b"), (), (1.0, 0.0))


def test_it_rejects_chart_series_of_the_wrong_length_or_not_finite() -> None:
    with pytest.raises(ValueError, match="one per category"):
        BarChart("t", ("a", "b"), (("s", (1.0,)),), "v")
    with pytest.raises(ValueError, match="finite"):
        LineChart("t", ("a",), (("s", (float("nan"),)),), "v")
    with pytest.raises(ValueError, match="numbers"):
        LineChart("t", ("a",), (("s", (True,)),), "v")


def test_it_rejects_naive_or_non_utc_times() -> None:
    naive = dt.datetime(2026, 1, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        Timeline("t", ((naive, "x"),))
    paris = GENERATED_AT.astimezone(dt.timezone(dt.timedelta(hours=1)))
    with pytest.raises(ValueError, match="in UTC"):
        ReportContent("version", "T", "R", paris, "s", False, ())


def test_it_rejects_an_unknown_callout_tone_and_foreign_blocks() -> None:
    with pytest.raises(ValueError, match="tone"):
        Callout("x", "info")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot hold a str"):
        Section("Heading", ("just a string",))  # type: ignore[arg-type]
