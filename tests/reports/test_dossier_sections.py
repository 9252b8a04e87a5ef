"""The model-version dossier of the demo, read as an examiner reads it: REGULATORY.md §3(a) 1 to 13.

Each test finds one section's facts in the text pdftotext extracts from the sealed report, and
in the builder's facts (the plain data a machine-readable twin carries).
"""

from __future__ import annotations

import io
import json

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from governance.models import ModelVersion
from model_ledger_verify.evidence import read_embedded
from model_ledger_verify.report import TWIN_NAME
from tests.reports.demo import Demo, Generated, demo, open_drift_alert  # noqa: F401 — fixture

# The module seeds the demo once (tests.reports.demo); the mark makes pytest-django set up the test database.
pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::UserWarning")]


@pytest.fixture(scope="module")
def dossiers(demo: Demo) -> dict[str, Generated]:
    from django.contrib.auth.models import User

    versions = {v.version: v for v in ModelVersion.objects.filter(model__slug="credit-risk")}
    auditor = User.objects.get(username="demo-auditor")
    found = {
        "2.0.0": demo.generate(
            "version",
            purpose="Supervisory examination of credit model changes",
            requester=auditor,
            model=versions["2.0.0"].model,
            version=versions["2.0.0"],
        ),
        "2.1.0": demo.generate("version", model=versions["2.1.0"].model, version=versions["2.1.0"]),
    }
    open_drift_alert(versions["1.1.0"].model)
    found["1.1.0"] = demo.generate("version", model=versions["1.1.0"].model, version=versions["1.1.0"])
    return found


def test_the_first_page_names_the_requester_and_the_stated_purpose(dossiers):
    text = dossiers["2.0.0"].text
    first_page = text.split("1. Identification")[0]
    assert "Supervisory examination of credit model changes" in first_page
    assert "Дмитрий Иванов (demo-auditor)" in first_page
    assert dossiers["2.0.0"].facts["request"]["purpose"] == "Supervisory examination of credit model changes"
    assert "the operator (command line)" in dossiers["2.1.0"].text


def test_identification_and_governance_come_from_the_inventory(dossiers):
    text, facts = dossiers["2.0.0"].text, dossiers["2.0.0"].facts
    for fact in ("Example Bank plc", "derived from 1.1.0", "Olivia Okafor (demo-owner)", "Αθηνά Παπαδοπούλου"):
        assert fact in text
    assert facts["identification"]["artifact_sha256"] in text.replace(" ", "")
    assert facts["governance"]["risk_tier"] == "High"


def test_gates_show_each_threshold_its_value_and_the_result(dossiers):
    text, facts = dossiers["2.0.0"].text, dossiers["2.0.0"].facts
    assert "≥ 0.85 0.8804 pass" in text
    assert "impact_ratio [age_band=65+] ≥ 0.80 0.86 pass" in text
    assert {"metric": "auc", "threshold": "≥ 0.85", "value": "0.8804", "result": "pass"} in facts["gates"][
        "thresholds"
    ]
    assert "Reproducible pipeline yes pass" in text
    failing = dossiers["2.1.0"]
    assert "Approvals satisfied yes fail" in failing.text


def test_ci_evidence_is_listed_with_its_counts(dossiers):
    text, facts = dossiers["2.0.0"].text, dossiers["2.0.0"].facts
    assert "ci-2.0.0 passed 48 0 0 0" in text
    assert facts["ci"]["runs"][0]["tests"] == 48


def test_every_signature_shows_name_role_time_meaning_reason_hash_and_authentication(dossiers):
    text, facts = dossiers["2.0.0"].text, dossiers["2.0.0"].facts
    signature = facts["signatures"]["signatures"][0]
    assert signature["reason"] == "Validation report reviewed; metrics within thresholds."
    assert signature["authentication"] == "password re-entered"
    for value in ("Zoë Ångström-Núñez", "Compliance officer", "Validation report reviewed", "password re-entered"):
        assert value in text
    assert signature["signed_sha256"] in text.replace(" ", "")
    assert "signer_is_not_registrant passed 2" in text


def test_deployments_rollbacks_and_change_tickets_are_listed(dossiers):
    text, facts = dossiers["2.0.0"].text, dossiers["2.0.0"].facts
    row = facts["deployments"]["deployments"][0]
    assert row["change_ticket"] == "CHG-1003"
    assert row["rollback"] == "rolled back to 1.1.0"
    assert "CHG-1003" in text and "rolled back to 1.1.0" in text
    assert "Rollback: input drift alert" in text


def test_monitoring_shows_the_policy_observations_charts_and_every_alert_with_its_handling(dossiers):
    text, facts = dossiers["2.0.0"].text, dossiers["2.0.0"].facts
    monitoring = facts["monitoring"]
    assert "PSI > 0.25 or KS > 0.20" in text
    assert "income_band (PSI) per window" in text and "threshold (0.25)" in text
    income = next(s for s in monitoring["series"] if s["name"] == "income_band")
    assert income["breaches"] >= 3
    alert = monitoring["alerts"][0]
    assert alert["state"] == "resolved"
    assert "acknowledged" in alert["handling"] and "Rolled back to 1.1.0 under CHG-1004" in alert["handling"]
    assert "Income band shifting since the 2025 data refresh" in text
    assert monitoring["retraining_requests"][0]["answered_by"] == "2.1.0"
    assert "Drift over threshold in consecutive windows closed" in text


def test_an_open_drift_alert_is_on_the_first_page_and_in_the_gaps(dossiers):
    generated = dossiers["1.1.0"]
    alert = next(a for a in generated.facts["monitoring"]["alerts"] if a["state"] == "open")
    first_page = generated.text.split("1. Identification")[0]
    assert f"drift open since {alert['opened_at']}" in first_page
    assert any(
        gap.startswith(f"Drift alert open since {alert['opened_at']}") for gap in generated.facts["missing_evidence"]
    )
    assert f"Drift alert open since {alert['opened_at']}" in generated.text


def test_usage_shows_volumes_outcome_rates_and_the_override_rate(dossiers):
    text, usage = dossiers["2.0.0"].text, dossiers["2.0.0"].facts["usage"]
    assert usage["decisions"] > 0
    assert f"Decisions {usage['decisions']:,}" in text
    assert f"{usage['overridden']:,} overridden ({usage['override_rate']})" in text
    approve = next(o for o in usage["outcomes"] if o["outcome"] == "approve")
    assert f"approve {approve['model']} {approve['model_rate']}" in text


def test_a_version_never_approved_is_labelled_so_in_the_version_chart(dossiers):
    chart = dossiers["2.0.0"].facts["version_chart"]
    assert {v["version"]: v["ever_approved"] for v in chart["versions"]} == {
        "1.0.0": True,
        "1.1.0": True,
        "2.0.0": True,
        "2.1.0": False,
    }
    assert "Never approved: 2.1.0 (labelled so in the chart)" in dossiers["2.0.0"].text


def test_missing_evidence_lists_what_is_expected_and_absent(dossiers):
    gaps = dossiers["2.1.0"].facts["missing_evidence"]
    text = dossiers["2.1.0"].text
    assert any(g.startswith("Approvals: 0 of 2 required signatures on file; never approved") for g in gaps)
    assert any("Model card sections empty" in g for g in gaps)
    assert "No residual-risk acceptance signed" in text
    assert "No signatures on file: this version was never approved." in text


def test_retention_and_integrity_close_the_dossier(dossiers):
    text = dossiers["2.0.0"].text
    assert "technical documentation (AI Act Art. 18)" in text
    assert "at least 2036-" in text
    assert "13. Integrity appendix" in text


def test_the_classification_risks_oversight_and_findings_are_in_their_sections(dossiers):
    text, assurance = dossiers["2.0.0"].text, dossiers["2.0.0"].facts["assurance"]
    assert assurance["classification"]["annex_iii"].startswith("Annex III 5(b)")
    assert "Annex III 5(b): creditworthiness or credit score" in text
    assert "Underwriters review every decline before notice" in text
    assert "Proxy discrimination through region and income band." in text
    assert "Accepted by the model risk committee" in text
    finding = assurance["findings"][0]
    assert (finding["id"], finding["state"]) == ("f-01", "in_remediation")
    assert "Back-test covers only 2025 applications" in text


def test_unaccepted_risks_and_unremediated_findings_are_gaps(dossiers):
    gaps = dossiers["2.0.0"].facts["missing_evidence"]
    assert "Residual risk r-02 (medium) not accepted: pending." in gaps
    assert any(g.startswith("Validation finding f-01 (medium) in remediation") for g in gaps)
    assert not any("human-oversight" in g for g in gaps)
    assert (
        "No independent validation findings on file for this version (SR 11-7)."
        in dossiers["2.1.0"].facts["missing_evidence"]
    )


def test_the_embedded_twin_carries_each_section_s_facts(dossiers):
    twin = json.loads(read_embedded(PdfFileReader(io.BytesIO(dossiers["2.0.0"].pdf)), TWIN_NAME))
    document = json.dumps(twin, ensure_ascii=False)
    headings = [section["heading"] for section in twin["sections"]]
    assert headings[:3] == ["1. Identification", "2. Inventory and governance", "3. Data"]
    assert "9. Post-market monitoring" in headings and "Missing evidence" in headings
    for fact in ("CHG-1003", "0.8804", "password re-entered", "Proxy discrimination through region", "income_band"):
        assert fact in document
