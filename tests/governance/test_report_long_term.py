"""With REPORT_TSA_URL, generated reports are PAdES B-LTA; without, B-B; the first page says which."""

from __future__ import annotations

import io

from django.core.management import call_command

from tests.governance.test_reports import (  # noqa: F401 — fixtures are found by name
    _commit_hooks,
    _generate,
    _pdf,
    approved,
    auditor,
    development_seal,
)
from tests.reports.conftest import ltv_pki  # noqa: F401 — the fixture is found by name
from tests.reports.helpers import pdf_text


def _verify_command(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    out = io.StringIO()
    call_command("verify_report", str(path), stdout=out)
    return out.getvalue()


def test_with_a_tsa_the_dossier_is_b_lta_and_says_so(approved, auditor, settings, tmp_path, ltv_pki):
    roots = tmp_path / "tsa-roots.pem"
    roots.write_bytes(ltv_pki.authority.pem)
    settings.REPORT_TSA_URL = ltv_pki.tsa_url
    settings.REPORT_TSA_ROOTS_FILE = roots
    pdf = _pdf(_generate(auditor, approved))
    first_page = " ".join(pdf_text(pdf, tmp_path, "-l", "1").split())
    assert "PAdES baseline B-LTA" in first_page
    assert "(PAdES B-LTA)" in _verify_command(pdf, tmp_path)
    trust = io.StringIO()
    call_command("report_trust_root", stdout=trust)
    assert trust.getvalue().count("BEGIN CERTIFICATE") == 2


def test_in_development_without_a_tsa_the_dossier_is_b_b_and_says_so(approved, auditor, tmp_path):
    pdf = _pdf(_generate(auditor, approved))
    first_page = " ".join(pdf_text(pdf, tmp_path, "-l", "1").split())
    assert "PAdES baseline B-B" in first_page
    assert "development certificate" in first_page
    assert "(PAdES B-B)" in _verify_command(pdf, tmp_path)
