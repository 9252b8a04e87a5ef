"""Embedding JSON files as PDF/A-3 associated files (ISO 19005-3 §6.8, ISO 32000-2 §14.13).

Each file is an embedded file stream with its MIME type (``/Subtype``), size, checksum and
modification date (``/Params``), described by a file specification with ``/F``, ``/UF``,
``/Desc`` and ``/AFRelationship``, listed in the ``/EmbeddedFiles`` name tree (keys kept in
sorted order) and in the catalog's ``/AF`` array, which associates it with the whole document.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyhanko.pdf_utils import embed, generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

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
