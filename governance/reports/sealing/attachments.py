"""Embedding JSON files as PDF/A-3 associated files (ISO 19005-3 §6.8, ISO 32000-2 §14.13).

Each file is an embedded file stream with its MIME type (``/Subtype``), size, checksum and
modification date (``/Params``), described by a file specification with ``/F``, ``/UF``,
``/Desc`` and ``/AFRelationship``, listed in the ``/EmbeddedFiles`` name tree (keys kept in
sorted order) and in the catalog's ``/AF`` array, which associates it with the whole document.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from pyhanko.pdf_utils import embed, generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import DocumentMetadata


class _PinnedMetadata(DocumentMetadata):
    """Document metadata whose modification time stays the one given.

    pyHanko sets ``last_modified`` to ``"now"`` when it writes a revision and then reads the
    clock once for the information dictionary's ``/ModDate`` and again for the XMP
    ``xmp:ModifyDate``; across a second boundary the two differ, which ISO 19005-3 §6.6.2.3
    forbids. Here ``"now"`` keeps the instant given at construction.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name == "last_modified" and value == "now" and "last_modified" in self.__dict__:
            return
        super().__setattr__(name, value)


def pinned_writer(pdf: bytes, moment: dt.datetime) -> IncrementalPdfFileWriter:
    """Return an incremental writer over ``pdf`` whose revision is dated ``moment`` (UTC, whole seconds)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    writer._meta = _PinnedMetadata(last_modified=moment.astimezone(dt.UTC).replace(microsecond=0))
    return writer


RELATIONSHIPS = ("Data", "Source", "Supplement", "Alternative", "Unspecified")


@dataclass(frozen=True)
class Attachment:
    """A file to associate with the document: its name, bytes, MIME type, relation and description."""

    name: str
    data: bytes
    description: str
    relationship: str = "Data"
    mime_type: str = "application/json"


def embed_associated(writer: IncrementalPdfFileWriter, files: list[Attachment], modified: dt.datetime) -> None:
    """Embed ``files`` in ``writer`` as associated files of the document, modified at ``modified``.

    Raise ValueError for an unknown relationship or a name given twice.
    """
    if len({f.name for f in files}) != len(files):
        raise ValueError("each embedded file needs its own name")
    root = writer.root
    entries = generic.ArrayObject()
    tree = writer.add_object(generic.DictionaryObject({pdf_name("/Names"): entries}))
    if "/Names" in root:
        names_dict = root["/Names"]
        names_dict["/EmbeddedFiles"] = tree
        writer.update_container(names_dict)
    else:
        root["/Names"] = writer.add_object(generic.DictionaryObject({pdf_name("/EmbeddedFiles"): tree}))
    associated = generic.ArrayObject()
    for attachment in sorted(files, key=lambda f: f.name):
        if attachment.relationship not in RELATIONSHIPS:
            raise ValueError(f"unknown AFRelationship {attachment.relationship!r}")
        stream = embed.EmbeddedFileObject.from_file_data(
            writer,
            attachment.data,
            compress=True,
            params=embed.EmbeddedFileParams(
                embed_size=True, embed_checksum=True, creation_date=modified, modification_date=modified
            ),
            mime_type=attachment.mime_type,
        )
        spec = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Filespec"),
                pdf_name("/F"): pdf_string(attachment.name),
                pdf_name("/UF"): pdf_string(attachment.name),
                pdf_name("/EF"): generic.DictionaryObject(
                    {pdf_name("/F"): stream.ef_stream_ref, pdf_name("/UF"): stream.ef_stream_ref}
                ),
                pdf_name("/Desc"): generic.TextStringObject(attachment.description),
                pdf_name("/AFRelationship"): pdf_name(f"/{attachment.relationship}"),
            }
        )
        reference = writer.add_object(spec)
        entries.append(pdf_string(attachment.name))
        entries.append(reference)
        associated.append(reference)
    root["/AF"] = writer.add_object(associated)
    writer.update_root()
