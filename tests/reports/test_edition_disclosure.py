"""No edition of a decision report discloses in its attachments (manifest.json, evidence.json,
report.json) what its pages hide: the data subject's edition withholds every ledger entry that
names staff, proving only that it exists; the authority and internal editions name on their
pages everyone their evidence names. Both verifiers verify each edition; tampering fails."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from pyhanko.pdf_utils.reader import PdfFileReader

from governance.models import Approval, Decision, DecisionPayload
from governance.reports import sealing
from governance.reports.credentials import sealing_credentials
from ledger.models import SigningKey
from model_ledger_verify.client.cli import main as ledgerctl
from model_ledger_verify.evidence import EVIDENCE_NAME
from model_ledger_verify.report import ReportVerificationError, read_manifest, verify_report
from tests.reports.demo import Demo, Generated, demo  # noqa: F401 — fixture
from tests.reports.test_decision_sections import OVERRIDDEN, editions  # noqa: F401 — fixture

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::UserWarning")]

EDITIONS = ("authority", "internal", "subject")


def attachments(pdf: bytes) -> dict[str, str]:
    """Return every embedded file of `pdf` by name, as text; evidence.json with its leaves decoded."""
    names = PdfFileReader(io.BytesIO(pdf)).root["/Names"]["/EmbeddedFiles"]["/Names"]
    files = {}
    for i in range(0, len(names), 2):
        data = names[i + 1].get_object()["/EF"]["/F"].get_object().data
        files[str(names[i])] = data.decode("utf-8")
    evidence = json.loads(files[EVIDENCE_NAME])
    files["evidence.json leaves"] = "\n".join(base64.b64decode(item["leaf"]).decode() for item in evidence["leaves"])
    return files


def people_and_others() -> set[str]:
    """Every name of staff, and every other data subject's reference, the demo holds."""
    names = {u.username for u in User.objects.all()} | {u.get_full_name() for u in User.objects.all()}
    names |= set(Approval.objects.values_list("signer_name", flat=True))
    names |= set(Decision.objects.exclude(reviewer="").values_list("reviewer", flat=True))
    names |= set(
        DecisionPayload.objects.exclude(decision__decision_id=OVERRIDDEN).values_list("subject_ref", flat=True)
    )
    return {name for name in names if name.strip()}


def _holds(text: str, name: str) -> bool:
    """Whether `text` holds `name` as a whole name; a table cell may wrap a name after a hyphen."""
    text = re.sub(r"\s+", " ", re.sub(r"(?<=[-:])\s+", "", text))
    name = re.sub(r"\s+", " ", name)
    return re.search(rf"(?<![\w.@+-]){re.escape(name)}(?![\w@+-]|\.\w)", text) is not None


def pages(generated: Generated) -> str:
    """The text the pages show: as pdftotext reads it, and as drawn (report.json without its
    `facts`), since a narrow table cell may break a name mid-word for pdftotext."""
    drawn = json.loads(attachments(generated.pdf)["report.json"])
    drawn.pop("facts", None)
    return generated.text + "\n" + json.dumps(drawn, ensure_ascii=False)


def _keys() -> list[str]:
    return list(SigningKey.objects.values_list("verifier_key", flat=True))


def _verify(pdf: bytes):
    return verify_report(pdf, trust_roots_pem=[sealing_credentials().trust_root_pem], ledger_keys=_keys())


@pytest.mark.parametrize("level", EDITIONS)
def test_no_attachment_discloses_a_name_or_value_the_pages_hide(editions, level):
    generated = editions[level]
    hidden = {name for name in people_and_others() if not _holds(pages(generated), name)}
    assert "underwriter-7" in people_and_others() and "demo-officer-1" in people_and_others()
    for file_name, text in attachments(generated.pdf).items():
        leaked = sorted(name for name in hidden if _holds(text, name))
        assert not leaked, f"{level} edition: {file_name} holds {leaked}, hidden on its pages"


def test_the_subject_edition_shows_no_staff_and_withholds_the_entries_naming_them(editions):
    subject = editions["subject"]
    staff = people_and_others() - set(DecisionPayload.objects.values_list("subject_ref", flat=True))
    assert not [name for name in staff if _holds(pages(subject), name)]
    evidence = json.loads(attachments(subject.pdf)[EVIDENCE_NAME])
    withheld = [item["seq"] for item in evidence["withheld"]]
    assert subject.facts["identification"]["ledger_seq"] in withheld
    assert not evidence["leaves"] and not evidence["facts"]
    assert "Ledger entries withheld from this edition" in subject.text
    assert "proven in the authority edition" in subject.text
    # The authority edition carries those same entries whole.
    carried = json.loads(attachments(editions["authority"].pdf)[EVIDENCE_NAME])
    assert set(withheld) <= {item["seq"] for item in carried["leaves"]}


def test_the_internal_edition_names_on_its_pages_everyone_its_evidence_names(editions):
    internal = editions["internal"]
    assert "People named in the ledger entries embedded as evidence" in internal.text
    assert "demo-owner" in internal.text and "demo-admin" in internal.text


@pytest.mark.parametrize("level", EDITIONS)
def test_both_verifiers_verify_every_edition(editions, level, tmp_path, capsys):
    pdf = editions[level].pdf
    result = _verify(pdf)
    if level == "subject":
        assert result.withheld >= 2 and result.facts == 0
    else:
        assert result.withheld == 0 and result.facts > 20
    path = tmp_path / f"{level}.pdf"
    path.write_bytes(pdf)
    call_command("verify_report", str(path))
    assert "Report verified" in capsys.readouterr().out
    trust = tmp_path / "root.pem"
    trust.write_bytes(sealing_credentials().trust_root_pem)
    keys = [arg for key in _keys() for arg in ("--key", key)]
    assert ledgerctl(["verify-report", str(path), "--trust", str(trust), *keys]) == 0
    out = capsys.readouterr().out
    assert ("ledger entries withheld from this edition" in out) == (level == "subject")


def _tampered(pdf: bytes, edit, credentials) -> bytes:
    manifest = read_manifest(PdfFileReader(io.BytesIO(pdf)))
    evidence = json.loads(attachments(pdf)[EVIDENCE_NAME])
    edit(evidence)
    data = sealing.canonical_json(evidence)
    manifest = {
        **manifest,
        "evidence_sha256": hashlib.sha256(data).hexdigest(),
        "certificate_sha256": credentials.certificate_sha256,
    }
    twin = attachments(pdf)["report.json"].encode()
    rebuilt = sealing.attach_manifest(pdf[: manifest["content_length"]], manifest, evidence=data, twin=twin)
    return sealing.seal(rebuilt, credentials, reason="tampered", location="elsewhere")


def _swap_hash(evidence: dict) -> None:
    evidence["withheld"][0]["leaf_hash"] = "ab" * 32


def _cite_withheld(evidence: dict) -> None:
    seq = evidence["withheld"][0]["seq"]
    evidence["facts"].append({"record": "x", "field": "y", "seq": seq, "member": "actor", "value": "user:nobody"})


def _drop_proof(evidence: dict) -> None:
    evidence["withheld"][-1]["proof"] = evidence["withheld"][-1]["proof"][:-1]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_swap_hash, "withheld ledger entry seq \\d+ is not proven in the checkpoint"),
        (_drop_proof, "withheld ledger entry seq \\d+ is not proven in the checkpoint"),
        (_cite_withheld, "its ledger entry seq \\d+ is withheld from this edition"),
    ],
)
def test_a_subject_edition_with_a_tampered_withheld_entry_fails(editions, edit, message, tmp_path):
    # Resealed with the operator's own key, so only the evidence check can catch it.
    forged = _tampered(editions["subject"].pdf, edit, sealing_credentials())
    with pytest.raises(ReportVerificationError, match=message):
        _verify(forged)
    attacker = sealing.development_credentials(tmp_path / "attacker")
    with pytest.raises(ReportVerificationError, match=message):
        _verify(_tampered(editions["subject"].pdf, edit, attacker))


@pytest.fixture(scope="module")
def version_reports(demo: Demo, editions) -> dict[str, Generated]:
    decision = Decision.objects.select_related("model", "version").get(decision_id=OVERRIDDEN)
    auditor = User.objects.get(username="demo-auditor")
    return {
        kind: demo.generate(kind, requester=auditor, model=decision.model, version=decision.version)
        for kind in ("version", "annex-iv")
    }


@pytest.mark.parametrize("kind", ["version", "annex-iv"])
def test_a_version_report_names_on_its_pages_everyone_its_evidence_names(version_reports, kind):
    report = version_reports[kind]
    hidden = {name for name in people_and_others() if not _holds(pages(report), name)}
    for file_name, text in attachments(report.pdf).items():
        leaked = sorted(name for name in hidden if _holds(text, name))
        assert not leaked, f"{kind} report: {file_name} holds {leaked}, hidden on its pages"
    assert _verify(report.pdf).withheld == 0
