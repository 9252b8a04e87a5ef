"""Names and reasons in Arabic, Hebrew, Chinese, Japanese and Korean render shaped, in order, and embedded."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

from pyhanko.pdf_utils.reader import PdfFileReader

from governance.reports import conformance, renderer
from governance.reports.content import Callout, KeyValues, Paragraph, Section, Table
from governance.reports.renderer import text

from .helpers import pdf_text, sample_content

HEBREW = "דוד כהן"
ARABIC_REASON = "لا بأس بالنموذج"
CHINESE = "李小龙"
JAPANESE = "山田 太郎"
KOREAN = "김민준"
REASON_ZH = "同意发布"


def _content(*, with_cjk: bool = True):
    names = (HEBREW, ARABIC_REASON, *((CHINESE, JAPANESE, KOREAN, REASON_ZH) if with_cjk else ()))
    rows = tuple((name, f"reason: {name}") for name in names)
    section = Section(
        "Signers in every script",
        (
            Paragraph(" · ".join(names)),
            KeyValues(rows),
            Table(("Signer", "Reason"), rows),
            Callout(" ".join(names), title=names[-1]),
        ),
    )
    content = sample_content()
    return dataclasses.replace(content, sections=(section, *content.sections))


def _fonts(pdf: bytes) -> set[str]:
    reader = PdfFileReader(io.BytesIO(pdf))
    names = set()
    for page in reader.root["/Pages"]["/Kids"]:
        for font in page.get_object()["/Resources"]["/Font"].values():
            names.add(re.sub(r"^/([A-Z]{6}\+)?", "", str(font.get_object()["/BaseFont"])))
    return names


def test_every_name_and_reason_is_extracted_in_logical_order(tmp_path: Path) -> None:
    extracted = pdf_text(renderer.render(_content()), tmp_path)
    for name in (HEBREW, ARABIC_REASON, CHINESE, JAPANESE, KOREAN, REASON_ZH):
        assert name in extracted, name


def test_arabic_is_drawn_in_contextual_forms_and_right_to_left() -> None:
    drawn = text.visual(ARABIC_REASON)
    # Presentation forms (U+FE70 to U+FEFF), lam-alef as one ligature, the first word drawn last.
    assert all("\ufe70" <= c <= "\ufeff" or c == " " for c in drawn)
    assert "\ufefb" in drawn  # ARABIC LIGATURE LAM WITH ALEF ISOLATED FORM
    assert drawn.split(" ")[-1] == text.shaped("لا")[::-1]


def test_hebrew_reads_right_to_left_and_digits_keep_their_order() -> None:
    assert text.visual("אישור 2026 ok") == "2026 רושיא ok"
    assert text.visual("plain ascii") == "plain ascii"


def test_cjk_is_drawn_with_an_embedded_font_and_the_file_stays_pdfa() -> None:
    pdf = renderer.render(_content())
    assert "WenQuanYiMicroHei-0" in _fonts(pdf)
    assert conformance.check(pdf) == []


def test_a_report_without_cjk_does_not_carry_the_cjk_font() -> None:
    pdf = renderer.render(_content(with_cjk=False))
    assert not any(name.startswith("WenQuanYi") for name in _fonts(pdf))


def test_every_character_drawn_has_a_glyph_in_its_font() -> None:
    # ISO 19005-3 §6.2.11.8: no .notdef glyph. Each font chosen must have every character.
    renderer.render(_content())  # registers the fonts
    for name in (HEBREW, ARABIC_REASON, CHINESE, JAPANESE, KOREAN, REASON_ZH):
        for font, part in text.runs(text.visual(name), "DejaVuSans"):
            glyphs = text._glyphs(font)
            assert all(ord(c) in glyphs for c in part), (name, font)
        font = text.font_for(name, "DejaVuSans")
        assert all(ord(c) in text._glyphs(font) for c in text.shaped(name) if not c.isspace()), name


def test_a_long_right_to_left_paragraph_starts_on_its_first_line(tmp_path: Path) -> None:
    # 80 distinct Hebrew words of four letters, no digits (extractors split digit runs off).
    letters = [chr(0x05D0 + i) for i in range(22) if chr(0x05D0 + i) not in "ךםןףץ"]
    words = [letters[i % 17] + letters[(i // 17) % 17] + "ול" for i in range(80)]
    section = Section("Reason", (Paragraph(" ".join(words)),))
    content = dataclasses.replace(sample_content(), sections=(section,))
    extracted = pdf_text(renderer.render(content), tmp_path)
    lines = [line for line in extracted.splitlines() if "ול" in line]
    assert len(lines) >= 2
    first = lines[0].split()
    assert words[0] in first and words[-1] not in first
    assert all(word in extracted for word in words)
