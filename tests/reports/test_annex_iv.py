"""EU AI Act Annex IV technical documentation of the demo's credit-risk 2.0.0: points 1 to 9, each
fact from the record with its ledger evidence, or listed as missing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.test import APIClient

from governance.models import ModelVersion, Report
from ledger.models import Entry
from tests.reports.demo import Demo, Generated, demo  # noqa: F401 — fixture
from tests.reports.helpers import pdf_text

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::UserWarning")]


@pytest.fixture(scope="module")
def annex(demo: Demo) -> Generated:
    version = ModelVersion.objects.get(model__slug="credit-risk", version="2.0.0")
    auditor = User.objects.get(username="demo-auditor")
    return demo.generate(
        "annex-iv", purpose="Market surveillance request", requester=auditor, model=version.model, version=version
    )


def test_every_annex_iv_point_has_its_section(annex):
    assert [p["point"] for p in annex.facts["points"]] == [str(n) for n in range(1, 10)]
    for heading in ("1. General description of the AI system (Annex IV 1)", "9. Post-market monitoring plan"):
        assert heading in annex.text


def test_each_fact_names_the_ledger_entry_that_states_it(annex):
    facts = [f for point in annex.facts["points"] for f in point["facts"]]
    assert facts and all(isinstance(f["seq"], int) for f in facts)
    purpose = next(f for f in annex.facts["points"][0]["facts"] if f["fact"] == "(a) Intended purpose")
    assert Entry.objects.get(seq=purpose["seq"]).idempotency_key == "model.registered:credit-risk"
    assert f"seq {purpose['seq']}" in annex.text


def test_points_are_filled_from_the_record(annex):
    text = annex.text
    for fact in (
        "Annex III 5(b)",  # 1(a) classification
        "credit-train-2025",  # 2(d) data
        "Underwriters review every decline",  # 2(e) oversight
        "drift over 3 windows",  # 2(f) pre-determined changes
        "Back-test covers only 2025 applications",  # 2(g) validation finding
        "Proxy discrimination through region",  # 5 risk register
        "CHG-1003",  # 6 changes
        "PSI > 0.25",  # 9 monitoring
    ):
        assert fact in text, fact


def test_what_the_record_lacks_is_listed_missing(annex):
    missing = {p["point"]: p["missing"] for p in annex.facts["points"]}
    assert "Harmonised standards or other specifications applied" in missing["7"]
    assert "Copy or reference of the EU declaration of conformity" in missing["8"]
    assert "(h) Cybersecurity measures and tests" in missing["2"]
    assert "Signed residual-risk acceptance" in missing["5"]
    assert "Cybersecurity measures and tests" in annex.text


def test_the_command_writes_an_annex_iv_report(demo, tmp_path: Path):
    out = tmp_path / "annex.pdf"
    call_command("generate_report", "annex-iv", "credit-risk", "2.1.0", "--out", str(out), stdout=io.StringIO())
    assert "Annex IV technical documentation: credit-risk 2.1.0" in " ".join(
        pdf_text(out.read_bytes(), tmp_path).split()
    )


def test_the_api_queues_an_annex_iv_report(demo):
    client = APIClient()
    client.force_authenticate(User.objects.get(username="demo-auditor"))
    body = {"kind": "annex-iv", "model": "credit-risk", "version": "1.1.0"}
    response = client.post("/api/v1/reports", body, format="json")
    assert response.status_code == 202, response.json()
    assert Report.objects.get(pk=response.json()["id"]).kind == "annex-iv"
    assert (
        client.post("/api/v1/reports", {"kind": "annex-iv", "model": "credit-risk"}, format="json").status_code == 400
    )
