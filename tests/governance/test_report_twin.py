"""Generated reports are PDF/A-3b and carry report.json, the same content as data, under the seal."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
from pyhanko.pdf_utils.reader import PdfFileReader

from governance.reports import conformance
from governance.reports.credentials import sealing_credentials
from model_ledger_verify.evidence import read_embedded
from model_ledger_verify.report import TWIN_NAME, verify_report
from tests.governance.test_report_evidence import decision_pdf  # noqa: F401 — fixtures are found by name
from tests.governance.test_reports import (  # noqa: F401 — fixtures are found by name
    _client,
    _commit_hooks,
    _generate,
    _keys,
    _pdf,
    approved,
    auditor,
    development_seal,
)
from tests.reports.helpers import pdf_text

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report-content.schema.json").read_text())


def _twin(pdf: bytes) -> dict:
    return json.loads(read_embedded(PdfFileReader(io.BytesIO(pdf)), TWIN_NAME))


def _check(pdf: bytes, tmp_path: Path) -> dict:
    assert conformance.check(pdf) == []
    result = verify_report(pdf, trust_roots_pem=[sealing_credentials().trust_root_pem], ledger_keys=_keys())
    # The subject edition withholds the entries that name staff: it proves they exist, no facts.
    assert result.twin and (result.facts > 0 or result.withheld > 0)
    document = _twin(pdf)
    jsonschema.validate(document, SCHEMA)
    text = " ".join(pdf_text(pdf, tmp_path).split())
    for section in document["sections"]:
        assert " ".join(section["heading"].split()) in text
    return document


def test_a_generated_dossier_is_pdfa_with_its_twin(approved, auditor, tmp_path):
    document = _check(_pdf(_generate(auditor, approved)), tmp_path)
    assert document["kind"] == "version"
    facts = document["facts"]
    assert {"gates", "signatures", "missing_evidence"} <= set(facts)
    assert all(signature in json.dumps(facts, ensure_ascii=False) for signature in ("olga", "oscar"))
    values = json.dumps(document, ensure_ascii=False)
    assert approved.artifact_sha256 in values


def test_a_generated_decision_report_is_pdfa_with_its_twin(decision_pdf, tmp_path):
    document = _check(decision_pdf, tmp_path)
    assert document["kind"] == "decision"


def test_the_subject_editions_twin_names_no_staff(decision_pdf, auditor, tmp_path):
    from governance.models import Report

    response = _client(auditor).post(
        "/api/v1/reports",
        {"kind": "decision", "model": "credit-risk", "decision_id": "d-1", "redaction": "subject"},
        format="json",
    )
    report = Report.objects.get(pk=response.json()["id"])
    assert report.status == "ready", report.failure_reason
    document = _check(_pdf(report), tmp_path)
    assert document["facts"]["request"]["requester"] == "on behalf of the data subject"
    assert auditor.get_username() not in json.dumps(document, ensure_ascii=False)
