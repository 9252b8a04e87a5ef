"""Reports are PDF/A-3b files whose machine-readable twin, report.json, travels under the seal."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import jsonschema
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from reportlab.pdfgen.canvas import Canvas

from governance.reports import conformance, renderer, sealing, twin
from model_ledger_verify.evidence import read_embedded
from model_ledger_verify.report import TWIN_NAME, ReportVerificationError, read_manifest, verify_report

from .helpers import Ledger, manifest_for, sample_content

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report-content.schema.json").read_text())


def _attachments(pdf: bytes) -> dict[str, dict]:
    reader = PdfFileReader(io.BytesIO(pdf))
    found = {}
    for reference in reader.root["/AF"]:
        spec = reference.get_object()
        stream = spec["/EF"]["/F"].get_object()
        found[str(spec["/UF"])] = {
            "relationship": str(spec["/AFRelationship"]),
            "mime": str(stream["/Subtype"]),
            "params": set(stream["/Params"]),
        }
    return found


def test_the_rendered_content_is_pdfa_3b() -> None:
    assert conformance.check(renderer.render(sample_content())) == []


def test_a_sealed_report_is_pdfa_3b(sealed: bytes) -> None:
    assert conformance.check(sealed) == []


def test_the_xmp_packet_names_pdfa_3b_and_repeats_the_document_information(sealed: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(sealed))
    xmp = reader.root["/Metadata"].data.decode("utf-8")
    assert 'pdfaid:part="3"' in xmp or "<pdfaid:part>3</pdfaid:part>" in xmp
    assert str(reader.trailer_view["/Info"]["/Title"]) in xmp
    intent = reader.root["/OutputIntents"][0]
    assert intent["/OutputConditionIdentifier"] == "sRGB IEC61966-2.1"
    assert intent["/DestOutputProfile"].data[36:40] == b"acsp"


def test_the_checker_refuses_a_plain_pdf(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, "Helvetica is not embedded")
    canvas.save()
    problems = "\n".join(conformance.check(buffer.getvalue()))
    assert "6.6.2.1" in problems  # no XMP metadata
    assert "6.2.2" in problems  # no output intent
    assert "Helvetica is not embedded" in problems
    path = tmp_path / "plain.pdf"
    path.write_bytes(buffer.getvalue())
    assert conformance.main([str(path)]) == 1


def test_every_json_file_is_an_associated_file_with_its_relationship(sealed: bytes) -> None:
    files = _attachments(sealed)
    assert files["manifest.json"]["relationship"] == "/Data"
    assert files[TWIN_NAME]["relationship"] == "/Source"
    for entry in files.values():
        assert entry["mime"] == "/application/json"
        assert {"/ModDate", "/Size", "/CheckSum"} <= entry["params"]


def test_the_twin_holds_the_content_and_matches_its_schema(sealed: bytes) -> None:
    data = read_embedded(PdfFileReader(io.BytesIO(sealed)), TWIN_NAME)
    document = json.loads(data)
    jsonschema.validate(document, SCHEMA)
    content = sample_content()
    assert document["title"] == content.title
    assert [s["heading"] for s in document["sections"]] == [s.heading for s in content.sections]
    tables = [b for s in document["sections"] for b in s["blocks"] if b["type"] == "table"]
    shown = next(b for s in content.sections for b in s.blocks if type(b).__name__ == "Table")
    assert tables[0]["rows"] == [list(row) for row in shown.rows]
    assert data == twin.twin_json(content)


def test_the_manifest_binds_the_twin_so_the_seal_covers_it(sealed: bytes, dev_credentials, ledger: Ledger) -> None:
    reader = PdfFileReader(io.BytesIO(sealed))
    manifest = read_manifest(reader)
    assert manifest["report_json_sha256"] == hashlib.sha256(read_embedded(reader, TWIN_NAME)).hexdigest()
    assert verify_report(sealed, trust_roots_pem=[dev_credentials.trust_root_pem], ledger_keys=[ledger.key]).twin


def test_a_twin_that_is_not_the_bound_one_fails_verification(dev_credentials, ledger: Ledger) -> None:
    content = sample_content()
    pdf = renderer.render(content)
    report_json = twin.twin_json(content)
    manifest = manifest_for(pdf, dev_credentials, ledger.evidence(), twin=report_json)
    edited = report_json.replace(b"Internal audit", b"Regulator exam")
    forged = sealing.seal(sealing.attach_manifest(pdf, manifest, twin=edited), dev_credentials, reason="x")
    with pytest.raises(ReportVerificationError, match=r"report\.json is not the one the manifest names"):
        verify_report(forged, trust_roots_pem=[dev_credentials.trust_root_pem], ledger_keys=[ledger.key])


def test_an_unbound_twin_fails_verification(dev_credentials, ledger: Ledger) -> None:
    content = sample_content()
    pdf = renderer.render(content)
    manifest = manifest_for(pdf, dev_credentials, ledger.evidence())
    forged = sealing.seal(
        sealing.attach_manifest(pdf, manifest, twin=twin.twin_json(content)), dev_credentials, reason="x"
    )
    with pytest.raises(ReportVerificationError, match="does not bind"):
        verify_report(forged, trust_roots_pem=[dev_credentials.trust_root_pem], ledger_keys=[ledger.key])


def test_the_associated_files_revision_is_dated_the_generation_time(dev_credentials, ledger: Ledger) -> None:
    pdf = renderer.render(sample_content())
    with_files = sealing.attach_manifest(pdf, manifest_for(pdf, dev_credentials, ledger.evidence()))
    reader = PdfFileReader(io.BytesIO(with_files))
    assert str(reader.trailer_view["/Info"]["/ModDate"]).startswith("D:20261127234001")
    assert conformance.check(with_files) == []  # the XMP packet says the same instant


def test_the_checker_refuses_an_embedded_file_that_is_not_associated() -> None:
    from pyhanko.pdf_utils import embed
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(renderer.render(sample_content())))
    stream = embed.EmbeddedFileObject.from_file_data(writer, b"{}", mime_type="application/json")
    embed.embed_file(writer, embed.FileSpec(file_spec_string="loose.json", embedded_data=stream))
    out = io.BytesIO()
    writer.write(out)
    problems = "\n".join(conformance.check(out.getvalue()))
    assert "loose.json is not in the catalog's /AF" in problems
    assert "has no /UF" in problems and "has no /AFRelationship" in problems
    assert "no /Params /ModDate" in problems


def test_the_checker_refuses_a_symbolic_truetype_font_with_an_encoding() -> None:
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(renderer.render(sample_content())))
    fonts = writer.root["/Pages"]["/Kids"][0].get_object()["/Resources"]["/Font"]
    reference = next(iter(fonts.values()))
    font = reference.get_object()
    font[pdf_name("/Encoding")] = pdf_name("/WinAnsiEncoding")
    writer.update_container(font)
    out = io.BytesIO()
    writer.write(out)
    assert any("6.2.11.6" in problem for problem in conformance.check(out.getvalue()))
