"""Page geometry, fonts, colours, paragraph styles and text shaping (bidi, wrapping) for the renderer."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph as RLParagraph

from governance.reports.renderer.text import SANS, has_rtl, runs, shaped, visual

RENDERER_VERSION = "1.0"


"""Version of the layout; change it whenever the same content would render differently."""


AUTHOR = "Model governance ledger"


CREATOR = f"Model governance ledger report renderer {RENDERER_VERSION}"


PRODUCER = f"ReportLab PDF Library {reportlab.Version}"


WATERMARK = "DEVELOPMENT \u2014 NOT A TRUSTED SEAL"


FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"


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


def _visual(text: str) -> str:
    """Return one line of ``text`` shaped and in visual (drawing) order (see ``renderer.text``)."""
    return visual(text)


def _markup(text: str, *, width: float | None = None, size: float = 9) -> str:
    """Return ``text`` as Paragraph markup: shaped, reordered, escaped, newlines as line breaks,
    and characters the body font lacks (CJK) set in the CJK font.

    Right-to-left text must be broken into lines before it is reordered, or a paragraph's first
    line would show the end of its first sentence: given the paragraph's ``width`` (and font
    ``size``), such text is broken here, the Paragraph then finding every line fits.
    """
    if width is not None and has_rtl(text):
        source = _wrap(text, SANS, size, width)
    else:
        source = [visual(line) for line in text.split("\n")]
    lines = []
    for line in source:
        parts = runs(line, SANS)
        lines.append(
            "".join(
                escape(part) if font == SANS else f'<font name="{font}">{escape(part)}</font>' for font, part in parts
            )
        )
    return "<br/>".join(lines)


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
    # Arabic is shaped before measuring, since its contextual forms have their own widths.
    for source in shaped(text).split("\n"):
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
