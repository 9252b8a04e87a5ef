"""The decision report of a demo decision, read as an examiner and as the data subject read it:
REGULATORY.md §3(b) 1 to 12 in each of the three editions (authority, internal, subject)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from governance.errors import Conflict, Forbidden
from governance.models import Decision, Report
from governance.services import decisions
from governance.services.reports import report_download, report_request
from tests.reports.demo import Demo, Generated, demo  # noqa: F401 — fixture
from tests.reports.helpers import pdf_text

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::UserWarning")]

OVERRIDDEN = "demo-00097"  # every 97th demo decision is overridden by an underwriter


@pytest.fixture(scope="module")
def editions(demo: Demo) -> dict[str, Generated]:
    decision = Decision.objects.select_related("model", "payload").get(decision_id=OVERRIDDEN)
    officer = User.objects.get(username="demo-officer-1")
    decisions.decision_review(
        actor=officer, decision=decision, action="confirm", reason="Applicant asked for human review; confirmed."
    )
    auditor = User.objects.get(username="demo-auditor")
    found = {
        level: demo.generate(
            "decision",
            purpose=f"{level} edition",
            requester=auditor,
            redaction=level,
            model=decision.model,
            version=decision.version,
            decision=decision,
        )
        for level in ("authority", "internal", "subject")
    }
    owner = User.objects.get(username="demo-owner")
    found["owner"] = demo.generate(
        "decision",
        requester=owner,
        redaction="internal",
        model=decision.model,
        version=decision.version,
        decision=decision,
    )
    return found


def test_identification_names_the_ledger_record_and_the_subject_only_where_allowed(editions):
    authority, internal, subject = (editions[k] for k in ("authority", "internal", "subject"))
    reference = authority.facts["identification"]["subject_reference"]
    assert reference.startswith("applicant-")
    assert reference in authority.text and reference in subject.text
    assert reference not in internal.text
    assert internal.facts["identification"]["subject_reference"].startswith("pseudonym ")
    seq = authority.facts["identification"]["ledger_seq"]
    assert isinstance(seq, int) and f"Ledger sequence {seq}" in authority.text


def test_the_inputs_are_a_table_of_feature_value_and_source(editions):
    rows = editions["authority"].facts["inputs"]["rows"]
    assert [r["feature"] for r in rows] == ["income_band", "region", "utilisation"]
    text = editions["authority"].text
    region = next(r["value"] for r in rows if r["feature"] == "region")
    assert f"region {region} input snapshot, as logged" in text
    assert "{" not in " ".join(r["value"] for r in rows)  # not a Python dict


def test_a_requester_who_may_not_read_inputs_gets_redacted_hashes(editions):
    rows = editions["owner"].facts["inputs"]["rows"]
    assert all(r["value"].startswith("redacted: sha256 ") for r in rows)
    assert "redacted: sha256" in editions["owner"].text


def test_the_model_and_its_approval_state_at_that_instant(editions):
    system = editions["authority"].facts["system"]
    assert system["approved_at_decision"] is True
    assert "Approval state at the instant of the decision: approved." in editions["authority"].text
    assert "Annex III 5(b)" in editions["authority"].text
    assert system["artifact_sha256"] in editions["authority"].text.replace(" ", "")


def test_the_explanation_shows_the_disclosed_reasons_and_their_check(editions):
    text, explanation = editions["authority"].text, editions["authority"].facts["explanation"]
    assert [r["code"] for r in explanation["reasons"]] == ["R01", "R07"]
    assert "Credit utilisation is high" in text and "Short credit history" in text
    assert explanation["consistency_check"].startswith("passed")
    assert "Role of the AI system" in text


def test_human_oversight_the_timeline_and_post_decision_events(editions):
    text = editions["authority"].text
    assert "underwriter-7" in text and "Verified income documents" in text
    assert "Underwriters review every decline before notice" in text
    assert "human review: confirm" in text
    assert "Applicant asked for human review; confirmed." in text
    assert "Reg B 1002.9(a)(1) deadline" in text


def test_the_record_trail_lists_every_ledger_entry_about_the_decision(editions):
    trail = editions["authority"].facts["trail"]
    assert [t["type"] for t in trail][:2] == ["decision.logged", "decision.reviewed"]
    assert "decision.reviewed" in editions["authority"].text
    later = editions["internal"].facts["trail"]
    assert "report.generated" in [t["type"] for t in later]  # the authority edition's generation


def test_the_subject_edition_holds_no_third_party_data(editions):
    subject = editions["subject"]
    for third_party in ("underwriter-7", "demo-officer-1", "Αθηνά Παπαδοπούλου", "demo-pipeline", "demo-auditor"):
        assert third_party not in subject.text, third_party
    assert "a trained reviewer of the deployer" in subject.text
    assert "Data-subject edition" in subject.text


def test_retention_and_the_integrity_appendix(editions):
    text = editions["authority"].text
    assert "Reg B 1002.12(b) (25 months)" in text
    assert "12. Integrity appendix" in text


def test_an_edition_is_chosen_at_request_time_and_guarded(demo):
    decision = Decision.objects.get(decision_id=OVERRIDDEN)
    owner = User.objects.get(username="demo-owner")
    with pytest.raises(Forbidden):
        report_request(actor=owner, kind="decision", decision=decision, redaction="subject")
    assert report_request(actor=owner, kind="decision", decision=decision).redaction == "internal"
    auditor = User.objects.get(username="demo-auditor")
    assert report_request(actor=auditor, kind="decision", decision=decision).redaction == "authority"


def test_an_edition_with_inputs_is_downloaded_only_by_those_who_may_read_inputs(demo):
    decision = Decision.objects.get(decision_id=OVERRIDDEN)
    owner = User.objects.get(username="demo-owner")
    auditor = User.objects.get(username="demo-auditor")
    for redaction in ("authority", "subject"):
        report = report_request(actor=auditor, kind="decision", decision=decision, redaction=redaction)
        with pytest.raises(Forbidden):
            report_download(actor=owner, report=report)
    # The pseudonymised edition is the owner's to read once it is ready.
    internal = report_request(actor=owner, kind="decision", decision=decision)
    internal.refresh_from_db()
    try:
        assert report_download(actor=owner, report=internal).record.startswith(b"%PDF")
    except Conflict:
        assert internal.status != Report.Status.READY  # refused only as not generated yet


def test_generate_report_takes_the_redaction_level(demo, tmp_path: Path):
    out = tmp_path / "subject.pdf"
    call_command(
        "generate_report", "decision", OVERRIDDEN, "--redaction", "subject", "--out", str(out), stdout=io.StringIO()
    )
    assert Report.objects.filter(redaction="subject").exists()
    assert "Data-subject edition" in " ".join(pdf_text(out.read_bytes(), tmp_path).split())
