"""Assurance records: classification, risk register, oversight measures and validation findings,
each revision a new row and a ledger event, through the services, the API and reconciliation."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from rest_framework.test import APIClient

from governance import reconciliation
from governance.errors import Forbidden, InvalidInput
from governance.selectors.assurance import assurance_current
from governance.services import access as access_services
from governance.services import assurance, registry
from ledger import services as ledger_services
from ledger.models import Entry
from tests.governance.world import register_version


def _leaf(key: str) -> dict:
    ledger_services.tree_integrate_all()
    return json.loads(bytes(Entry.objects.get(idempotency_key=key).leaf))


def test_it_records_a_classification_as_a_ledger_event(model, alice):
    result = assurance.classification_record(
        actor=alice, model=model, intended_purpose="Score consumer credit.", annex_iii="5(b)", role="provider"
    )
    leaf = _leaf(result.ledger_key)
    assert leaf["type"] == "classification.recorded"
    assert leaf["data"]["annex_iii"] == "5(b)" and leaf["data"]["revision"] == 1


def test_a_not_high_risk_claim_needs_its_rationale(model, alice):
    with pytest.raises(InvalidInput) as refused:
        assurance.classification_record(actor=alice, model=model, intended_purpose="x", annex_iii="not_high_risk")
    assert "rationale" in refused.value.errors


def test_a_revision_supersedes_the_entry_and_keeps_the_earlier_one(model, alice):
    assurance.risk_record(actor=alice, model=model, entry_id="r-01", hazard="Bias", residual_level="high")
    assurance.risk_record(
        actor=alice,
        model=model,
        entry_id="r-01",
        hazard="Bias",
        residual_level="medium",
        acceptance="accepted",
        acceptance_note="Accepted by the model risk committee, 2026-03-01.",
    )
    current = assurance_current("risk", model=model)
    assert [(r.entry_id, r.revision, r.residual_level) for r in current] == [("r-01", 2, "medium")]
    assert model.risks.count() == 2


def test_accepting_a_residual_risk_says_who_and_why(model, alice):
    with pytest.raises(InvalidInput) as refused:
        assurance.risk_record(
            actor=alice, model=model, entry_id="r-01", hazard="Bias", residual_level="low", acceptance="accepted"
        )
    assert "acceptance_note" in refused.value.errors


def test_only_compliance_officers_record_validation_findings(version, alice, olga):
    with pytest.raises(Forbidden):
        assurance.finding_record(actor=alice, version=version, entry_id="f-1", title="x", severity="low")
    result = assurance.finding_record(
        actor=olga, version=version, entry_id="f-1", title="Back-test too short", severity="medium"
    )
    assert _leaf(result.ledger_key)["data"]["version"] == version.version


def test_a_pipeline_may_not_record_oversight_measures(model, pipeline):
    with pytest.raises(Forbidden):
        assurance.oversight_record(actor=pipeline, model=model, entry_id="o-1", measure="m", responsible="r")


def test_the_api_records_and_lists_each_kind(model, version, alice, olga):
    owner, officer = APIClient(), APIClient()
    owner.force_authenticate(alice)
    officer.force_authenticate(olga)
    base = f"/api/v1/models/{model.slug}"
    posted = owner.post(
        f"{base}/oversight",
        {"entry_id": "o-1", "measure": "Underwriters review declines", "responsible": "Credit operations"},
        format="json",
    )
    assert posted.status_code == 201, posted.json()
    assert posted.json()["receipt"]["seq"] is not None or posted.json()["receipt"]
    assert owner.get(f"{base}/oversight").json()["oversight_measures"][0]["measure"] == "Underwriters review declines"
    assert owner.post(f"{base}/risks", {"entry_id": "BAD ID", "hazard": "x"}, format="json").status_code == 400
    finding = {"entry_id": "f-1", "title": "Stability", "severity": "low", "state": "remediated"}
    assert owner.post(f"{base}/versions/{version.version}/findings", finding, format="json").status_code == 403
    assert officer.post(f"{base}/versions/{version.version}/findings", finding, format="json").status_code == 201
    classification = {"intended_purpose": "Score applicants.", "annex_iii": "5(b)"}
    assert owner.post(f"{base}/classification", classification, format="json").status_code == 201
    assert owner.get(f"{base}/classification").json()["classifications"][0]["annex_iii"] == "5(b)"


@pytest.mark.parametrize(
    ("kind", "table", "assignment", "field"),
    [
        ("classification", "governance_classification", "annex_iii = '4(a)'", "annex_iii"),
        ("risk entry", "governance_riskentry", "residual_level = 'low'", "residual_level"),
        ("oversight measure", "governance_oversightmeasure", "responsible = 'nobody'", "responsible"),
        ("validation finding", "governance_validationfinding", "state = 'remediated'", "state"),
    ],
)
def test_an_edited_assurance_record_is_named_by_reconciliation(
    model, version, alice, olga, kind, table, assignment, field
):
    assurance.classification_record(actor=alice, model=model, intended_purpose="p", annex_iii="5(b)")
    assurance.risk_record(actor=alice, model=model, entry_id="r-1", hazard="h", residual_level="high")
    assurance.oversight_record(actor=alice, model=model, entry_id="o-1", measure="m", responsible="ops")
    assurance.finding_record(actor=olga, version=version, entry_id="f-1", title="t", severity="high")
    ledger_services.tree_integrate_all()
    assert reconciliation.reconcile(kinds=[kind]).mismatches == []
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {assignment}")  # noqa: S608
    found = reconciliation.reconcile(kinds=[kind]).mismatches
    assert [(m.table, m.field) for m in found] == [(table, field)]


def test_an_entry_id_too_long_for_its_ledger_key_is_refused_naming_the_room_left(alice, olga, pipeline, datasets):
    long_model = registry.model_register(
        actor=alice,
        slug="m" * 100,
        name="Long",
        intended_purpose="Score applications.",
        regulated_use="credit",
        risk_tier="high",
        owner=alice,
        runbook="https://wiki/runbook",
    )
    access_services.access_grant(actor=olga, model=long_model, grantee=pipeline, actions=["register"])
    long_version = register_version(pipeline, long_model, datasets, number="1." + "0" * 62)
    # "risk.recorded:" + 100 + ":" + entry id + ":1" holds at most 200 characters: 83 for the id.
    with pytest.raises(InvalidInput) as refused:
        assurance.risk_record(actor=alice, model=long_model, entry_id="r" * 84, hazard="h", residual_level="low")
    assert refused.value.errors == {"entry_id": ["At most 83 characters for this model's risks."]}
    fits = assurance.risk_record(actor=alice, model=long_model, entry_id="r" * 83, hazard="h", residual_level="low")
    assert len(fits.ledger_key) == 200 and _leaf(fits.ledger_key)["data"]["entry_id"] == "r" * 83
    with pytest.raises(InvalidInput) as refused:
        assurance.finding_record(actor=olga, version=long_version, entry_id="f" * 20, title="t", severity="low")
    assert refused.value.errors == {"entry_id": ["At most 15 characters for this version's findings."]}
    assert not long_model.risks.filter(entry_id="r" * 84).exists()
