"""A sealed report carries evidence.json: every fact it shows, with the leaf that states it, that
leaf's inclusion proof and the signed checkpoint. Both report verifiers check the facts; an
edited evidence.json fails them, named by its first bad fact, resealed or not."""

from __future__ import annotations

import base64
import hashlib
import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader

from governance.reports import sealing
from governance.reports.credentials import sealing_credentials
from governance.services import decisions
from ledger.models import Entry
from model_ledger_verify.client.cli import main as ledgerctl
from model_ledger_verify.evidence import EVIDENCE_NAME, read_embedded
from model_ledger_verify.report import ReportVerificationError, read_manifest, verify_report
from tests.governance.test_reports import (  # noqa: F401 — fixtures are found by name
    _client,
    _commit_hooks,
    _keys,
    _pdf,
    approved,
    auditor,
    development_seal,
)


@pytest.fixture
def decision_pdf(approved, pipeline, auditor) -> bytes:
    from governance.models import Report
    from tests.governance.test_operations import item

    decisions.decision_log_batch(actor=pipeline, model=approved.model, items=[item(1, "1.0.0", timezone.now())])
    response = _client(auditor).post(
        "/api/v1/reports", {"kind": "decision", "model": "credit-risk", "decision_id": "d-1"}, format="json"
    )
    report = Report.objects.get(pk=response.json()["id"])
    assert report.status == "ready", report.failure_reason
    return _pdf(report)


def _evidence(pdf: bytes) -> dict:
    return json.loads(read_embedded(PdfFileReader(io.BytesIO(pdf)), EVIDENCE_NAME))


def _fact(evidence: dict, record: str, field: str) -> dict:
    return next(f for f in evidence["facts"] if f["record"] == record and f["field"] == field)


def _forged(pdf: bytes, credentials, *, seal: bool = True) -> bytes:
    """Return the report with its output_label fact edited to "decline", re-assembled, and
    resealed with `credentials` (or not sealed at all)."""
    manifest = read_manifest(PdfFileReader(io.BytesIO(pdf)))
    evidence = _evidence(pdf)
    _fact(evidence, "decision d-1 of credit-risk", "output_label")["value"] = "decline"
    data = sealing.canonical_json(evidence)
    manifest = {
        **manifest,
        "evidence_sha256": hashlib.sha256(data).hexdigest(),
        "certificate_sha256": credentials.certificate_sha256,
    }
    rebuilt = sealing.attach_manifest(pdf[: manifest["content_length"]], manifest, evidence=data)
    return sealing.seal(rebuilt, credentials, reason="forged", location="elsewhere") if seal else rebuilt


def _key_args() -> list[str]:
    return [arg for key in _keys() for arg in ("--key", key)]


def _seq(decision_id: str = "d-1") -> int:
    return Entry.objects.get(idempotency_key=f"decision.logged:credit-risk:{decision_id}").seq


def test_the_evidence_states_each_fact_with_its_leaf_and_proof(decision_pdf):
    evidence = _evidence(decision_pdf)
    fact = _fact(evidence, "decision d-1 of credit-risk", "output_label")
    assert fact == {
        "record": "decision d-1 of credit-risk",
        "field": "output_label",
        "seq": _seq(),
        "member": "data.output_label",
        "value": "approve",
    }
    leaf = next(item for item in evidence["leaves"] if item["seq"] == _seq())
    assert base64.b64decode(leaf["leaf"]) == bytes(Entry.objects.get(seq=_seq()).leaf)
    result = verify_report(decision_pdf, trust_roots_pem=[sealing_credentials().trust_root_pem], ledger_keys=_keys())
    assert result.facts == len(evidence["facts"]) > 20


def _bad_fact_message() -> str:
    return (
        'fact \\d+ \\(decision d-1 of credit-risk: output_label\\): the report shows "decline" but ledger '
        f'entry seq {_seq()} says "approve"'
    )


def test_evidence_edited_and_resealed_with_another_key_fails_naming_the_fact(decision_pdf, tmp_path):
    attacker = sealing.development_credentials(tmp_path / "attacker")
    forged = _forged(decision_pdf, attacker)
    with pytest.raises(ReportVerificationError, match=_bad_fact_message()):
        verify_report(forged, trust_roots_pem=[sealing_credentials().trust_root_pem], ledger_keys=_keys())
    # Even an auditor tricked into trusting the forger's root is told which fact is false.
    with pytest.raises(ReportVerificationError, match="the evidence does not hold: " + _bad_fact_message()):
        verify_report(forged, trust_roots_pem=[attacker.trust_root_pem], ledger_keys=_keys())


def test_evidence_edited_and_not_resealed_fails_naming_the_fact(decision_pdf):
    forged = _forged(decision_pdf, sealing_credentials(), seal=False)
    with pytest.raises(ReportVerificationError, match=_bad_fact_message()):
        verify_report(forged, trust_roots_pem=[sealing_credentials().trust_root_pem], ledger_keys=_keys())


def test_both_report_verifiers_refuse_edited_evidence(decision_pdf, tmp_path, capsys):
    attacker = sealing.development_credentials(tmp_path / "attacker")
    path = tmp_path / "forged.pdf"
    path.write_bytes(_forged(decision_pdf, attacker))
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_report", str(path))
    assert exit_.value.code == 1
    assert "output_label" in capsys.readouterr().err
    trust = tmp_path / "attacker-root.pem"
    trust.write_bytes(attacker.trust_root_pem)
    args = ["verify-report", str(path), "--trust", str(trust), *_key_args()]
    assert ledgerctl(args) == 1
    err = capsys.readouterr().err
    assert "the evidence does not hold" in err and f"ledger entry seq {_seq()} says" in err


def test_both_report_verifiers_accept_the_genuine_report(decision_pdf, tmp_path, capsys):
    path = tmp_path / "report.pdf"
    path.write_bytes(decision_pdf)
    call_command("verify_report", str(path))
    assert "facts checked against their ledger entries" in capsys.readouterr().out
    trust = tmp_path / "root.pem"
    trust.write_bytes(sealing_credentials().trust_root_pem)
    assert ledgerctl(["verify-report", str(path), "--trust", str(trust), *_key_args()]) == 0
    assert "facts shown checked" in capsys.readouterr().out


def test_the_manifest_names_the_witnessed_checkpoint_the_report_relies_on(decision_pdf):
    ledger = read_manifest(PdfFileReader(io.BytesIO(decision_pdf)))["ledger"]
    quoted_size = int(ledger["checkpoint"].split("\n")[1])
    witnessed = ledger["witnessed_checkpoint"]
    # No witness policy here: the quoted checkpoint is the witnessed one, so nothing links them.
    assert witnessed["size"] == quoted_size and witnessed["consistency_proof"] == []
    assert witnessed["note"] == ledger["checkpoint"] and witnessed["policy"] == 0
