"""Text as the renderer draws it: Arabic shaping, bidirectional reordering, and a CJK font.

ReportLab draws the characters it is given, left to right, one glyph each. So that names and
reasons in any script read correctly:

- **Arabic** letters are replaced by their contextual presentation forms (initial, medial,
  final, isolated, and the lam-alef ligatures) with ``arabic-reshaper``, enabling only the
  ligatures DejaVu Sans has a glyph for;
- each line is put in visual order by the Unicode bidirectional algorithm (UAX #9, the
  ``python-bidi`` implementation), with a left-to-right paragraph direction, so Hebrew and
  Arabic runs read right to left, digits and Latin words inside them keep their order, and
  mirrored characters such as brackets turn round. Lines are broken first, then reordered;
- characters DejaVu Sans has no glyph for (Chinese, Japanese and Korean) are drawn with
  WenQuanYi Micro Hei, shipped in ``governance/reports/fonts`` (Apache 2.0) and embedded as a
  subset like every font, so a PDF/A reader never meets an unembedded or missing glyph. It is
  loaded only for a report that needs it.

Text extractors (pdftotext, PDF readers' copy and paste) map presentation forms back to letters
and apply UAX #9 again, recovering the logical text.
"""

from __future__ import annotations

import re
import threading
from functools import cache
from pathlib import Path

import arabic_reshaper
from arabic_reshaper.ligatures import LIGATURES
from bidi import get_display
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"


SANS = "DejaVuSans"
"""The body font (``style`` names it too): its glyphs decide which Arabic ligatures are used."""


CJK = "WenQuanYiMicroHei"


CJK_FILE = "wqy-microhei.ttc"


# Right-to-left scripts: Hebrew, Arabic, Syriac, Thaana, NKo and their presentation forms.
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")


_lock = threading.Lock()


@cache
def _glyphs(font: str) -> frozenset[int]:
    """The code points ``font`` (a registered TrueType font) has a glyph for."""
    return frozenset(pdfmetrics.getFont(font).face.charToGlyph)


@cache
def _reshaper() -> arabic_reshaper.ArabicReshaper:
    glyphs = _glyphs(SANS)
    # A ligature is used only when the font has a glyph for each of its forms.
    configuration = {name: all(ord(form) in glyphs for form in forms if form) for name, (_, forms) in LIGATURES}
    return arabic_reshaper.ArabicReshaper(configuration=configuration)


def shaped(text: str) -> str:
    """Return ``text`` (logical order) with Arabic letters in their contextual forms."""
    return _reshaper().reshape(text) if _ARABIC.search(text) else text


def has_rtl(text: str) -> bool:
    """Whether ``text`` holds right-to-left characters (Hebrew, Arabic and their neighbours)."""
    return _RTL.search(text) is not None


def visual(line: str) -> str:
    """Return one line, shaped and in visual (drawing) order."""
    if not _RTL.search(line):
        return line
    return get_display(shaped(line), base_dir="L")


def _cjk_registered() -> str:
    with _lock:
        if CJK not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(CJK, str(FONT_DIR / CJK_FILE), subfontIndex=0))
    return CJK


def font_for(text: str, font: str) -> str:
    """Return ``font``, or the CJK font when ``text`` has characters ``font`` cannot draw that it can.

    The CJK font also has Latin letters and digits, so a name in Chinese with a Latin initial
    is drawn by one font, but it has no Arabic or Hebrew: a text mixing those with CJK keeps
    the latter in the CJK font, and the former are the exception this does not cover.
    """
    if text.isascii():
        return font
    glyphs = _glyphs(font)
    missing = {ord(c) for c in text if ord(c) not in glyphs and not c.isspace()}
    if not missing:
        return font
    cjk = _cjk_registered()
    return cjk if missing & _glyphs(cjk) else font


def runs(text: str, font: str) -> list[tuple[str, str]]:
    """Split one line into (font, text) runs: ``font`` where it has the glyph, else the CJK font."""
    if text.isascii() or font_for(text, font) == font:
        return [(font, text)]
    glyphs, cjk = _glyphs(font), _glyphs(CJK)
    result: list[tuple[str, str]] = []
    for char in text:
        chosen = font if ord(char) in glyphs or ord(char) not in cjk else CJK
        if result and (result[-1][0] == chosen or char == " "):
            result[-1] = (result[-1][0], result[-1][1] + char)
        else:
            result.append((chosen, char))
    return result
