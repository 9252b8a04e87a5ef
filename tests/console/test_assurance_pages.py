"""Recording the classification, risks, oversight measures and validation findings from the
console: each page lists the entries in force and records a revision; the access table decides."""

from __future__ import annotations

import pytest

from governance.models import OversightMeasure, RiskEntry, ValidationFinding

V110 = "/models/credit-risk/versions/1.1.0"


def test_the_owner_records_a_risk_and_sees_it_listed(world, client_for):
    client = client_for("owner")
    assert 'href="/models/credit-risk/risk"' in client.get("/models/credit-risk").content.decode()
    form = {"entry_id": "r-01", "hazard": "Proxy discrimination by region", "residual_level": "medium"}
    response = client.post("/models/credit-risk/risk", {**form, "acceptance": "pending"})
    assert response.status_code == 302
    page = client.get("/models/credit-risk/risk").content.decode()
    assert "Proxy discrimination by region" in page
    assert RiskEntry.objects.get().recorded_by.username == "owner"


def test_a_refused_record_is_shown_on_the_form(world, client_for):
    client = client_for("owner")
    form = {"entry_id": "r-02", "hazard": "x", "residual_level": "low", "acceptance": "accepted"}
    response = client.post("/models/credit-risk/risk", form)
    assert response.status_code == 400  # refused input is a 400, as on every console form
    assert "Say who accepted the residual risk" in response.content.decode()
    empty = client.post("/models/credit-risk/risk", {"entry_id": "R 1"})
    assert empty.status_code == 400 and 'class="errorlist' in empty.content.decode()
    assert not RiskEntry.objects.exists()


def test_the_owner_records_oversight_and_the_classification(world, client_for):
    client = client_for("owner")
    client.post(
        "/models/credit-risk/oversight", {"entry_id": "o-1", "measure": "Review", "responsible": "Ops", "active": "on"}
    )
    assert OversightMeasure.objects.get().active is True
    response = client.post(
        "/models/credit-risk/classification",
        {"intended_purpose": "Score consumer credit", "annex_iii": "5(b)", "role": "provider"},
    )
    assert response.status_code == 302
    assert "Score consumer credit" in client.get("/models/credit-risk/classification").content.decode()


@pytest.mark.parametrize(("persona", "status"), [("owner", 403), ("officer_1", 302)])
def test_only_officers_record_validation_findings(persona, status, world, client_for):
    client = client_for(persona)
    form = {"entry_id": "f-1", "title": "Short back-test window", "severity": "medium", "state": "open"}
    assert client.post(f"{V110}/findings", form).status_code == status
    assert ValidationFinding.objects.exists() == (status == 302)


def test_an_auditor_reads_the_entries_without_a_form(world, client_for):
    page = client_for("auditor").get("/models/credit-risk/risk")
    assert page.status_code == 200
    assert 'data-testid="assurance-form"' not in page.content.decode()
