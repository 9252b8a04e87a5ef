"""PDF/A-3b (ISO 19005-3) parts of the rendered content: XMP metadata and the sRGB output intent.

The renderer already embeds every font it uses (subsets of the shipped TrueType fonts) and uses
no encryption, JavaScript or external content. This module adds what a conforming file also
needs in its catalog:

- ``/Metadata``: an XMP packet (ISO 16684-1) identifying the file as PDF/A-3 level B
  (``pdfaid:part`` 3, ``pdfaid:conformance`` B) and repeating the document information
  dictionary (title, author, subject, keywords, creator, producer, dates, trapped) exactly, as
  ISO 19005-3 §6.6.2.3 requires. The stream is not compressed (§6.6.2.1).
- ``/OutputIntents``: one ``GTS_PDFA1`` output intent whose destination profile is the sRGB
  IEC 61966-2.1 ICC profile shipped in ``governance/reports/profiles`` (zlib licence), so the
  DeviceRGB colours and the translucent development watermark have a defined colour space
  (§6.2.3, §6.2.10).

The sealing step later appends the associated files (``/AF``) and the signature in incremental
updates; pyHanko keeps this XMP packet in step with the information dictionary it updates.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.pdfbase.pdfdoc import XMP, PDFArray, PDFDate, PDFDictionary, PDFInfo, PDFName, PDFStream, PDFString

PROFILE_DIR = Path(__file__).resolve().parent.parent / "profiles"


SRGB_PROFILE = PROFILE_DIR / "sRGB.icc"


SRGB_CONDITION = "sRGB IEC61966-2.1"


PDFA_PART, PDFA_CONFORMANCE = 3, "B"


_profile: bytes | None = None


def _srgb() -> bytes:
    global _profile
    if _profile is None:
        _profile = SRGB_PROFILE.read_bytes()
    return _profile


def _xmp_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def xmp_packet(info, moment: datetime) -> str:
    """Return the XMP packet for a document whose information dictionary is ``info``.

    ``info`` is ReportLab's ``PDFInfo`` (title, author, subject, keywords, creator, producer);
    ``moment`` is the creation and modification time written in it.
    """
    date = _xmp_date(moment)

    def text(value: str) -> str:
        return escape(str(value))

    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about=""
 xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
 xmlns:xmp="http://ns.adobe.com/xap/1.0/">
<pdfaid:part>{PDFA_PART}</pdfaid:part>
<pdfaid:conformance>{PDFA_CONFORMANCE}</pdfaid:conformance>
<dc:format>application/pdf</dc:format>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{text(info.title)}</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>{text(info.author)}</rdf:li></rdf:Seq></dc:creator>
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{text(info.subject)}</rdf:li></rdf:Alt></dc:description>
<pdf:Keywords>{text(info.keywords)}</pdf:Keywords>
<pdf:Trapped>{text(info.trapped)}</pdf:Trapped>
<xmp:CreatorTool>{text(info.creator)}</xmp:CreatorTool>
<xmp:CreateDate>{date}</xmp:CreateDate>
<xmp:ModifyDate>{date}</xmp:ModifyDate>
<xmp:MetadataDate>{date}</xmp:MetadataDate>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


class _Info(PDFInfo):
    """The document information dictionary without ``/Producer``.

    pyHanko, writing the later revisions, sets ``/Producer`` and the XMP ``pdf:Producer`` to
    its own name when the dictionary has none, but appends its name to one already there and
    not to the XMP one; leaving it out keeps the two equal in every revision.
    """

    def format(self, document) -> bytes:
        date = PDFDate(ts=document._timeStamp, dateFormatter=self._dateFormatter)
        entries = {
            "Title": PDFString(self.title),
            "Author": PDFString(self.author),
            "CreationDate": date,
            "ModDate": date,
            "Creator": PDFString(self.creator),
            "Subject": PDFString(self.subject),
            "Keywords": PDFString(self.keywords),
            "Trapped": PDFName(self.trapped),
        }
        return PDFDictionary(entries).format(document)


class _Metadata(XMP):
    """The XMP stream, written without any filter (ISO 19005-3 §6.6.2.1), so tools find the packet."""

    def format(self, document) -> bytes:
        content = self.makeContent(document)
        dictionary = PDFDictionary({**self.dictionary.dict, "Length": len(content)})
        return dictionary.format(document) + b"\nstream\n" + content + b"\nendstream\n"


def make_conforming(doc, moment: datetime) -> None:
    """Add the XMP metadata and the sRGB output intent to ReportLab's ``PDFDocument``."""
    info = _Info()
    info.__dict__.update(doc.info.__dict__)
    doc.info = info
    catalog = doc.Catalog
    catalog.Metadata = _Metadata(creator=lambda document: xmp_packet(document.info, moment).encode("utf-8"))
    profile = PDFStream(PDFDictionary({"N": 3}), _srgb())
    intent = PDFDictionary(
        {
            "Type": PDFName("OutputIntent"),
            "S": PDFName("GTS_PDFA1"),
            "OutputConditionIdentifier": PDFString(SRGB_CONDITION),
            "Info": PDFString(SRGB_CONDITION),
            "RegistryName": PDFString("http://www.color.org"),
            "DestOutputProfile": doc.Reference(profile),
        }
    )
    # PDFCatalog writes only the keys it knows; OutputIntents joins them for this document.
    catalog.__NoDefault__ = [*type(catalog).__NoDefault__, "OutputIntents"]
    catalog.OutputIntents = PDFArray([intent])
