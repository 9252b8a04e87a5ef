"""The document: page template, header, footer, watermark, and `render`."""

from __future__ import annotations

import hashlib
import io
import math
from datetime import UTC
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
)

from governance.reports.content import (
    ReportContent,
)
from governance.reports.renderer.blocks import _story
from governance.reports.renderer.pdfa import make_conforming
from governance.reports.renderer.style import (
    _PAGE_TOTAL_FORM,
    AUTHOR,
    CREATOR,
    FRAME_WIDTH,
    INK,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    MUTED,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    PRODUCER,
    RULE,
    SANS,
    SANS_BOLD,
    WATERMARK,
    WATERMARK_INK,
    _fit,
    _Heading,
    _Styles,
    _utc,
    _visual,
    register_fonts,
)
from governance.reports.renderer.text import font_for


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
            # Not ReportLab's Helvetica: every font of a PDF/A file is embedded.
            kwargs["initialFontName"] = SANS
            super().__init__(*args, **kwargs)
            # PDF date strings, ISO 32000-1 §7.9.4; both dates are the generation time.
            self.setDateFormatter(lambda *_: stamp)
            self._doc.updateSignature(fingerprint)
            make_conforming(self._doc, content.generated_at)

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
    title_font = font_for(content.title, SANS_BOLD)
    canvas.setFont(title_font, 7.5)
    canvas.setFillColor(INK)
    canvas.drawString(
        MARGIN_X,
        top,
        _visual(_fit(content.title, title_font, 7.5, FRAME_WIDTH - label_width - 12)),
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
        note = content.footer_note.replace("\n", " ")
        note_font = font_for(note, SANS)
        canvas.setFont(note_font, 7)
        canvas.drawString(
            MARGIN_X,
            bottom + 2.5 * mm,
            _visual(_fit(note, note_font, 7, page_x - MARGIN_X - 6 * mm)),
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
