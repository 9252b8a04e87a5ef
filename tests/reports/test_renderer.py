"""The renderer draws report content as a deterministic, searchable PDF."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from pyhanko.pdf_utils.reader import PdfFileReader

from governance.reports import renderer
from governance.reports.content import Section, Table

from .helpers import GENERATED_AT, NAMES, WATERMARK_COMPACT, pdf_text, sample_content


def _pages(pdf: bytes) -> int:
    return int(PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Count"])


def test_it_renders_identical_content_to_identical_bytes() -> None:
    first = renderer.render(sample_content())
    second = renderer.render(sample_content())
    assert first.startswith(b"%PDF-")
    assert first == second


def test_it_renders_equal_instants_in_any_utc_zone_object_identically() -> None:
    zoned = GENERATED_AT.replace(tzinfo=ZoneInfo("UTC"))
    assert renderer.render(sample_content(generated_at=zoned)) == renderer.render(sample_content())


def test_it_renders_different_content_to_different_bytes_and_document_ids() -> None:
    base = renderer.render(sample_content())
    retitled = renderer.render(sample_content(title="Another title"))
    later = renderer.render(sample_content(generated_at=GENERATED_AT + dt.timedelta(seconds=1)))
    assert len({base, retitled, later}) == 3

    def document_id(pdf: bytes) -> bytes:
        return bytes(PdfFileReader(io.BytesIO(pdf)).trailer["/ID"][0].original_bytes)

    assert len({document_id(base), document_id(retitled), document_id(later)}) == 3


def test_it_dates_the_document_at_generation_time_not_at_rendering_time() -> None:
    info = PdfFileReader(io.BytesIO(renderer.render(sample_content()))).trailer["/Info"]
    assert str(info["/CreationDate"]) == "D:20261127234001+00'00'"
    assert str(info["/ModDate"]) == "D:20261127234001+00'00'"


def test_it_writes_title_subject_author_and_a_versioned_creator() -> None:
    info = PdfFileReader(io.BytesIO(renderer.render(sample_content()))).trailer["/Info"]
    assert str(info["/Title"]) == "Model-version audit report — credit-risk 3.2.0"
    assert str(info["/Subject"]) == "model:credit-risk version 3.2.0"
    assert str(info["/Author"]) == "Model governance ledger"
    assert str(info["/Creator"]) == f"Model governance ledger report renderer {renderer.RENDERER_VERSION}"
    assert "report-id:RPT-TEST-0001" in str(info["/Keywords"])


def test_it_makes_greek_cyrillic_arabic_and_accented_names_extractable(tmp_path: Path) -> None:
    text = pdf_text(renderer.render(sample_content()), tmp_path)
    for name in NAMES:
        assert name in text, name


def test_it_watermarks_every_page_of_development_reports_only(tmp_path: Path) -> None:
    development = renderer.render(sample_content(development=True, audit_rows=90))
    pages = _pages(development)
    assert pages >= 3
    for page in range(1, pages + 1):
        raw = pdf_text(development, tmp_path, "-raw", "-f", str(page), "-l", str(page))
        assert WATERMARK_COMPACT in re.sub(r"\s", "", raw), f"page {page}"
    trusted = pdf_text(renderer.render(sample_content(development=False)), tmp_path, "-raw")
    assert "TRUSTED" not in trusted
    assert "DEVELOPMENT" not in trusted


def test_it_numbers_pages_n_of_m_and_repeats_table_headers(tmp_path: Path) -> None:
    pdf = renderer.render(sample_content(audit_rows=120))
    pages = _pages(pdf)
    assert pages >= 4
    header_pages = 0
    for page in range(1, pages + 1):
        text = pdf_text(pdf, tmp_path, "-f", str(page), "-l", str(page))
        assert f"Page {page} of {pages}" in text
        assert "Report RPT-TEST-0001" in text
        if "Object hash" in text:
            header_pages += 1
    # The approvals table runs over several pages, each starting with the header row.
    assert header_pages >= 3


def test_it_wraps_long_hashes_instead_of_cutting_them(tmp_path: Path) -> None:
    text = re.sub(r"\s", "", pdf_text(renderer.render(sample_content()), tmp_path))
    assert "proof" + "a3f1" * 48 in text


def test_it_renders_an_empty_table_and_escapes_markup_characters(tmp_path: Path) -> None:
    content = dataclasses.replace(
        sample_content(),
        sections=(Section("Nothing <here> & there", (Table(("Gap", "Status"), ()),)),),
    )
    text = pdf_text(renderer.render(content), tmp_path)
    assert "Nothing <here> & there" in text
    assert "(none)" in text
