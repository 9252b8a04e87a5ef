"""`?verify=true` on version, decision and approval reads: each fact against its leaf."""

from __future__ import annotations

import pytest
from django.db import connection

from ledger import services as ledger_services
from ledger.models import Entry

VERSION = "/api/v1/models/credit-risk/versions/1.0.0"
DECISION = "/api/v1/models/credit-risk/decisions/d-00001"
APPROVALS = "/api/v1/models/credit-risk/versions/1.0.0/approvals"


@pytest.fixture
def sequenced(world):
    ledger_services.tree_integrate_all()
    return world


def _sql(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _facts(verification: dict) -> dict[str, dict]:
    return {fact["field"]: fact for fact in verification["facts"]}


def test_a_version_read_with_verify_reports_each_fact_against_its_leaf(sequenced, client_for):
    body = client_for("auditor").get(VERSION, {"verify": "true"}).json()
    facts = _facts(body["verification"])
    assert body["verification"]["verified"] is True and body["verification"]["differs_from"] is None
    seq = Entry.objects.get(idempotency_key=sequenced.v100.ledger_key).seq
    assert facts["artifact_sha256"] == {"field": "artifact_sha256", "ok": True, "seq": seq}
    assert {"status", "metrics", "datasets", "registered_by"} <= set(facts)


def test_without_verify_a_read_carries_no_verification(sequenced, client_for):
    assert "verification" not in client_for("auditor").get(VERSION).json()
    assert "verification" not in client_for("auditor").get(VERSION, {"verify": "false"}).json()


def test_verify_takes_only_true_or_false(sequenced, client_for):
    response = client_for("auditor").get(VERSION, {"verify": "yes"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"verify": ["verify must be true or false."]}


def test_an_edited_decision_reads_as_differing_from_its_entry(sequenced, client_for):
    decision = sequenced.decisions[0]
    _sql("UPDATE governance_decision SET output_label = 'decline' WHERE id = %s", [decision.pk])
    body = client_for("officer_1").get(DECISION, {"verify": "true"}).json()
    seq = Entry.objects.get(idempotency_key=decision.ledger_key).seq
    assert body["output_label"] == "decline"
    assert body["verification"]["verified"] is False
    assert body["verification"]["differs_from"] == seq
    assert _facts(body["verification"])["output_label"] == {
        "field": "output_label",
        "ok": False,
        "seq": seq,
        "stored": '"decline"',
        "stored_sha256": _facts(body["verification"])["output_label"]["stored_sha256"],
        "ledger": '"approve"',
    }


def test_each_approval_in_the_list_carries_its_verification(sequenced, client_for):
    approval = sequenced.v100.approvals.order_by("signed_at").first()
    _sql("UPDATE governance_approval SET reason = 'edited' WHERE id = %s", [approval.pk])
    results = client_for("auditor").get(APPROVALS, {"verify": "true"}).json()["results"]
    verified = [item["verification"]["verified"] for item in results]
    assert verified == [False, True]
    assert _facts(results[0]["verification"])["reason"]["ok"] is False


def test_a_record_not_yet_sequenced_is_not_verified(world, client_for):
    body = client_for("auditor").get(VERSION, {"verify": "true"}).json()
    assert body["verification"]["verified"] is False
    assert _facts(body["verification"])["recorded entry"]["seq"] is None
