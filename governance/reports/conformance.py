"""A PDF/A-3b (ISO 19005-3) check of the sealed reports, for tests and CI.

veraPDF, the reference validator, is a Java application distributed outside the package
registries this project installs from, so it cannot be part of ``make setup``. This module
checks, with pyHanko's PDF parser, the ISO 19005-3 clauses a report could break (the rule
numbers are veraPDF's), over the objects reachable from the final revision:

- 6.1.2/6.1.3: a ``%PDF-1.n`` header with a binary comment; a trailer ``/ID``; no encryption.
- 6.1.7: no stream refers to external data (``/F``, ``/FFilter``, ``/FDecodeParms``).
- 6.2.2/6.2.4.3: one ``GTS_PDFA1`` output intent with an embedded RGB ICC profile, so the
  DeviceRGB colours used everywhere are defined.
- 6.2.10: transparency only with that output intent; no soft masks other than ``/None``.
- 6.2.11.4: every font used on a page, in a form or in an annotation appearance is embedded.
- 6.2.11.6: TrueType fonts' encodings and their programs' cmap subtables agree with their
  symbolic flag.
- 6.3: annotations are printable, not hidden, and carry no actions; no ``NeedAppearances``.
- 6.6.2: an unfiltered XMP packet with ``pdfaid:part`` 3 and ``pdfaid:conformance`` B, and the
  information dictionary's entries equal to their XMP properties.
- 6.1.x/6.5/6.6.1: no JavaScript, no ``/AA`` additional actions, no launch actions.
- 6.8: every embedded file has ``/F``, ``/UF``, an ``/AFRelationship``, a MIME ``/Subtype``
  and ``/Params /ModDate``, and is associated through the catalog's ``/AF``.

It does not check what a generator of this project cannot produce (PostScript, LZW, JPEG 2000,
Type 3 or CFF fonts, optional content), nor the font programs' glyphs and widths: the renderer
chooses, for every character drawn, a font that has its glyph.

Run ``python -m governance.reports.conformance FILE.pdf``: it prints each violation and exits 1,
or prints a confirmation and exits 0.
"""

from __future__ import annotations

import io
import re
import struct
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from defusedxml import ElementTree
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

_XMP_NS = {
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
}

_HEADER = re.compile(rb"%PDF-1\.[0-7]\r?\n%[\x80-\xff]{4}")


def _resolve(value: Any) -> Any:
    return value.get_object() if isinstance(value, generic.IndirectObject) else value


def _objects(reader: PdfFileReader) -> Iterator[Any]:
    """Yield every dictionary and stream reachable from the catalog of the latest revision."""
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [reader.root]
    while stack:
        value = stack.pop()
        if isinstance(value, generic.IndirectObject):
            key = (value.idnum, value.generation)
            if key in seen:
                continue
            seen.add(key)
            value = value.get_object()
        if isinstance(value, generic.DictionaryObject):
            yield value
            stack.extend(value.values())
        elif isinstance(value, generic.ArrayObject):
            stack.extend(value)


def _xmp(metadata: Any) -> dict[str, str]:
    """Return the simple XMP properties as ``prefix:name`` → text (first item of arrays)."""
    root = ElementTree.fromstring(metadata.data)
    reverse = {uri: prefix for prefix, uri in _XMP_NS.items()}
    found: dict[str, str] = {}

    def name(tag: str) -> str | None:
        uri, _, local = tag[1:].partition("}")
        return f"{reverse[uri]}:{local}" if uri in reverse else None

    for description in root.iter(f"{{{_XMP_NS['rdf']}}}Description"):
        for attribute, text in description.attrib.items():
            if attribute.startswith("{") and (key := name(attribute)):
                found[key] = text
        for child in description:
            key = name(child.tag)
            if key is None:
                continue
            items = list(child.iter(f"{{{_XMP_NS['rdf']}}}li"))
            found[key] = (items[0].text if items else child.text) or ""
    return found


def _pdf_date(value: str) -> datetime | None:
    match = re.fullmatch(r"D:(\d{14})(Z|[+-]\d\d'\d\d'?)?", value)
    if not match:
        return None
    moment = datetime.strptime(match.group(1), "%Y%m%d%H%M%S")
    zone = match.group(2) or "Z"
    if zone == "Z":
        return moment.replace(tzinfo=UTC)
    sign = 1 if zone[0] == "+" else -1
    return moment.replace(tzinfo=timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))))


def _check_metadata(reader: PdfFileReader, problems: list[str]) -> None:
    metadata = _resolve(reader.root.get("/Metadata"))
    if not isinstance(metadata, generic.StreamObject):
        problems.append("6.6.2.1: the catalog has no XMP /Metadata stream")
        return
    if "/Filter" in metadata:
        problems.append("6.6.2.1: the XMP metadata stream is filtered")
    try:
        xmp = _xmp(metadata)
    except Exception as exc:
        problems.append(f"6.6.2.1: the XMP packet is not well-formed XML: {exc}")
        return
    if xmp.get("pdfaid:part") != "3" or xmp.get("pdfaid:conformance") != "B":
        problems.append(
            f"6.6.4: the XMP identifies part {xmp.get('pdfaid:part')!r} conformance "
            f"{xmp.get('pdfaid:conformance')!r}, not PDF/A-3b"
        )
    info = _resolve(reader.trailer_view.get("/Info")) or {}
    pairs = {
        "/Title": "dc:title",
        "/Author": "dc:creator",
        "/Subject": "dc:description",
        "/Keywords": "pdf:Keywords",
        "/Creator": "xmp:CreatorTool",
        "/Producer": "pdf:Producer",
    }
    for key, prop in pairs.items():
        if key in info and str(info[key]) != xmp.get(prop):
            problems.append(f"6.6.2.3.1: {key} {str(info[key])!r} differs from XMP {prop} {xmp.get(prop)!r}")
    for key, prop in {"/CreationDate": "xmp:CreateDate", "/ModDate": "xmp:ModifyDate"}.items():
        if key not in info:
            continue
        said = _pdf_date(str(info[key]))
        try:
            xmp_time = datetime.fromisoformat(xmp.get(prop, ""))
        except ValueError:
            xmp_time = None
        if said is None or xmp_time is None or said != xmp_time:
            problems.append(f"6.6.2.3.1: {key} {str(info[key])!r} differs from XMP {prop} {xmp.get(prop)!r}")


def _check_output_intent(reader: PdfFileReader, problems: list[str]) -> bool:
    intents = [_resolve(i) for i in _resolve(reader.root.get("/OutputIntents")) or []]
    pdfa = [i for i in intents if i.get("/S") == "/GTS_PDFA1"]
    if len(pdfa) != 1:
        problems.append(f"6.2.2: {len(pdfa)} GTS_PDFA1 output intents, not one")
        return False
    profile = _resolve(pdfa[0].get("/DestOutputProfile"))
    if not isinstance(profile, generic.StreamObject) or profile.get("/N") != 3:
        problems.append("6.2.2: the output intent has no embedded RGB ICC profile (/N 3)")
        return False
    data = profile.data
    if len(data) < 40 or data[36:40] != b"acsp" or data[16:20] != b"RGB ":
        problems.append("6.2.2: the output intent's profile is not an RGB ICC profile")
        return False
    return True


def _check_fonts(font: Any, problems: list[str]) -> None:
    font = _resolve(font)
    descendants = font.get("/DescendantFonts")
    if descendants is not None:
        for child in _resolve(descendants):
            _check_fonts(child, problems)
        return
    if font.get("/Subtype") == "/Type3":
        return
    descriptor = _resolve(font.get("/FontDescriptor")) or {}
    if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
        problems.append(f"6.2.11.4.1: the font {font.get('/BaseFont')} is not embedded")
    elif font.get("/Subtype") == "/TrueType" and "/FontFile2" in descriptor:
        _check_truetype(font, descriptor, problems)


def _cmap_subtables(program: bytes) -> list[tuple[int, int]]:
    """The (platform, encoding) pairs of a TrueType program's cmap table."""
    count = struct.unpack(">H", program[4:6])[0]
    for index in range(count):
        tag, _, offset, _ = struct.unpack(">4sIII", program[12 + 16 * index : 28 + 16 * index])
        if tag == b"cmap":
            subtables = struct.unpack(">H", program[offset + 2 : offset + 4])[0]
            return [struct.unpack(">HH", program[offset + 4 + 8 * i : offset + 8 + 8 * i]) for i in range(subtables)]
    return []


def _check_truetype(font: Any, descriptor: Any, problems: list[str]) -> None:
    """6.2.11.6: a symbolic TrueType font has no /Encoding and one cmap subtable (or a (3,0) one);
    a non-symbolic one uses MacRoman or WinAnsi and has a (3,1) or (1,0) cmap subtable."""
    name = font.get("/BaseFont")
    try:
        subtables = _cmap_subtables(_resolve(descriptor["/FontFile2"]).data)
    except (struct.error, KeyError) as exc:
        problems.append(f"6.2.11.6: the font program of {name} cannot be read: {exc}")
        return
    if int(descriptor.get("/Flags", 0)) & 4:
        if "/Encoding" in font:
            problems.append(f"6.2.11.6: the symbolic TrueType font {name} has an /Encoding")
        if len(subtables) != 1 and (3, 0) not in subtables:
            problems.append(f"6.2.11.6: the symbolic TrueType font {name} has cmap subtables {subtables}")
    else:
        encoding = _resolve(font.get("/Encoding"))
        base = encoding.get("/BaseEncoding") if isinstance(encoding, generic.DictionaryObject) else encoding
        if base not in ("/MacRomanEncoding", "/WinAnsiEncoding"):
            problems.append(f"6.2.11.6: the non-symbolic TrueType font {name} has encoding {base}")
        if not {(3, 1), (1, 0)} & set(subtables):
            problems.append(f"6.2.11.6: the non-symbolic TrueType font {name} has no (3,1) or (1,0) cmap")


def _check_object(obj: Any, has_intent: bool, problems: list[str]) -> None:
    kind = obj.get("/Type")
    external = any(k in obj for k in ("/F", "/FFilter", "/FDecodeParms"))
    if isinstance(obj, generic.StreamObject) and external and kind != "/EmbeddedFile":
        problems.append("6.1.7.1: a stream refers to external data")
    if "/JS" in obj or obj.get("/S") in ("/JavaScript", "/Launch", "/ImportData", "/ResetForm"):
        problems.append(f"6.6.1: a forbidden action {obj.get('/S')}")
    if "/AA" in obj:
        problems.append("6.6.2: an additional-actions (/AA) dictionary")
    if "/SMask" in obj and obj.get("/Type") == "/ExtGState" and obj["/SMask"] != "/None":
        problems.append("6.2.10: a soft mask in a graphics state")
    transparent = any(float(obj.get(k, 1)) < 1 for k in ("/CA", "/ca")) if kind == "/ExtGState" else False
    if transparent and not has_intent:
        problems.append("6.2.10: transparency without a PDF/A output intent")
    if kind == "/Annot" or ("/Subtype" in obj and obj.get("/Subtype") in ("/Widget", "/Link")):
        flags = int(obj.get("/F", 0))
        if obj.get("/Subtype") != "/Popup" and (not flags & 4 or flags & (1 | 2 | 32)):
            problems.append(f"6.3.2: a {obj.get('/Subtype')} annotation is not printable or is hidden")
    if "/Font" in obj and isinstance(_resolve(obj["/Font"]), generic.DictionaryObject):
        for font in _resolve(obj["/Font"]).values():
            _check_fonts(font, problems)
    if kind == "/Filespec" and "/EF" in obj:
        for key in ("/F", "/UF", "/AFRelationship"):
            if key not in obj:
                problems.append(f"6.8: the embedded file {obj.get('/F')} has no {key}")
        stream = _resolve(_resolve(obj["/EF"]).get("/F"))
        params = _resolve(stream.get("/Params")) if stream is not None else None
        if stream is None or "/Subtype" not in stream:
            problems.append(f"6.8: the embedded file {obj.get('/F')} has no MIME type (/Subtype)")
        if not params or "/ModDate" not in params:
            problems.append(f"6.8: the embedded file {obj.get('/F')} has no /Params /ModDate")


def check(pdf: bytes) -> list[str]:
    """Return the PDF/A-3b violations found in ``pdf`` (empty when none is found)."""
    problems: list[str] = []
    if not _HEADER.match(pdf):
        problems.append("6.1.2: the header is not %PDF-1.n followed by a binary comment")
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
    except Exception as exc:
        return [*problems, f"the file cannot be parsed: {exc}"]
    if reader.encrypted:
        problems.append("6.1.3: the file is encrypted")
    if "/ID" not in reader.trailer_view:
        problems.append("6.1.3: the trailer has no /ID")
    root = reader.root
    if "/JavaScript" in _resolve(root.get("/Names", generic.DictionaryObject())):
        problems.append("6.6.1: a JavaScript name tree")
    form = _resolve(root.get("/AcroForm"))
    if form is not None and form.get("/NeedAppearances") is True:
        problems.append("6.4.1: the form sets NeedAppearances")
    _check_metadata(reader, problems)
    has_intent = _check_output_intent(reader, problems)
    associated = {(r.idnum, r.generation) for r in _resolve(root.get("/AF")) or [] if hasattr(r, "idnum")}
    tree = _resolve(_resolve(root.get("/Names", generic.DictionaryObject())).get("/EmbeddedFiles"))
    names = _resolve(tree.get("/Names")) if tree is not None else []
    for position in range(1, len(names), 2):
        reference = names.raw_get(position)
        if (reference.idnum, reference.generation) not in associated:
            problems.append(f"6.8: the embedded file {names[position - 1]} is not in the catalog's /AF")
    for obj in _objects(reader):
        _check_object(obj, has_intent, problems)
    return list(dict.fromkeys(problems))


def main(argv: list[str] | None = None) -> int:
    paths = (argv if argv is not None else sys.argv[1:]) or []
    if not paths:
        print("usage: python -m governance.reports.conformance FILE.pdf ...", file=sys.stderr)
        return 2
    failed = False
    for path in paths:
        with open(path, "rb") as handle:
            problems = check(handle.read())
        for problem in problems:
            print(f"{path}: {problem}")
        if problems:
            failed = True
        else:
            print(f"{path}: no PDF/A-3b violation found (ISO 19005-3 checks of governance.reports.conformance)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
