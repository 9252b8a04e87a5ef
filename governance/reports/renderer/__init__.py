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


The package: `style` (geometry, fonts, colours, text shaping), `charts`, `blocks` (a flowable
per content block) and `document` (pages and `render`).
"""

from governance.reports.renderer.document import render
from governance.reports.renderer.style import AUTHOR, CREATOR, RENDERER_VERSION, WATERMARK, register_fonts

__all__ = ["AUTHOR", "CREATOR", "RENDERER_VERSION", "WATERMARK", "register_fonts", "render"]
