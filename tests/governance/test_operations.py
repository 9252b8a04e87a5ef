"""Deployments, rollbacks, the decision log, erasure, and the demo story."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from governance import selectors as gov_selectors
from governance.errors import Conflict, Forbidden, InvalidInput
from governance.models import Decision, DecisionPayload, ModelVersion
from governance.services import approvals, decisions, deployments
from ledger import selectors
from ledger import services as ledger_services
from ledger.integrity import verify_database
from ledger.models import Entry, Submission
from model_ledger_verify import canonical
from tests.governance.conftest import PASSWORD, register_version


def approve(version, *officers):
    for officer in officers:
        approvals.approval_sign(signer=officer, version=version, password=PASSWORD, meaning="approved", reason="ok")


def item(n: int, version: str, at, **extra) -> dict:
    features = {"income": str(n)}
    return {
        "decision_id": f"d-{n}",
        "version": version,
        "occurred_at": at,
        "subject_ref": f"subject-{n % 3}",
        "input_snapshot": features,
        "input_sha256": hashlib.sha256(canonical.dumps(features)).hexdigest(),
        "output_label": "approve",
        "output_score": "0.42",
        "reasons": [],
        "mode": "automated",
        **extra,
    }


@pytest.fixture
def serving(version, pipeline, olga, oscar):
    approve(version, olga, oscar)
    return deployments.deployment_start(actor=pipeline, version=version, environment="production")


def test_only_approved_versions_are_deployed(pipeline, model, datasets):
    version = register_version(pipeline, model, datasets, number="0.1.0")
    with pytest.raises(Conflict, match="only approved versions"):
        deployments.deployment_start(actor=pipeline, version=version, environment="production")


def test_an_officer_cannot_deploy(version, olga, oscar):
    approve(version, olga, oscar)
    with pytest.raises(Forbidden):
        deployments.deployment_start(actor=olga, version=version, environment="production")


def test_deploying_an_older_version_is_a_rollback(serving, pipeline, model, datasets, olga, oscar):
    newer = register_version(pipeline, model, datasets, number="2.0.0", parent="1.0.0")
    approve(newer, olga, oscar)
    second = deployments.deployment_start(actor=pipeline, version=newer, environment="production")
    rollback = deployments.deployment_start(actor=pipeline, version=serving.version, environment="production")
    assert rollback.rollback_of == second
    second.refresh_from_db()
    newer.refresh_from_db()
    assert second.ended_at is not None
    assert newer.status == ModelVersion.Status.APPROVED  # rolled back: approved, serving nowhere
    now = timezone.now()
    assert gov_selectors.deployment_at(model, "production", now).version == serving.version
    assert gov_selectors.deployment_at(model, "production", second.started_at + timedelta(microseconds=1)) == second


def test_a_decision_batch_is_logged_with_one_entry_each(serving, pipeline, model):
    at = timezone.now()
    result = decisions.decision_log_batch(actor=pipeline, model=model, items=[item(n, "1.0.0", at) for n in range(5)])
    assert result.created == 5
    ledger_services.tree_integrate_all()
    leaves = [json.loads(bytes(e.leaf)) for e in Entry.objects.filter(idempotency_key__in=result.ledger_keys)]
    assert len(leaves) == 5
    for leaf in leaves:
        # No personal data in the leaf: only the commitment to the erasable payload.
        assert "subject_ref" not in leaf["data"] and "input_snapshot" not in leaf["data"]
        assert len(leaf["data"]["payload_commitment"]) == 64


def test_a_logged_decision_is_its_rows_its_leaf_and_an_opening_commitment(serving, pipeline, model):
    at = timezone.now()
    reasons = [{"code": "R01", "text": "Utilisation élevée", "contribution": "0.31"}, {"code": "R02", "text": "t"}]
    batch = [
        item(1, "1.0.0", at, reasons=reasons, subject_ref="søren-1", reviewer="ana", final_label="decline"),
        {**item(2, "1.0.0", at, overridden=True, override_reason="Manual check"), "input_snapshot": None},
        {key: value for key, value in item(3, "1.0.0", at).items() if key not in ("subject_ref", "output_score")},
    ]
    result = decisions.decision_log_batch(actor=pipeline, model=model, items=batch)
    assert result.created == 3 and [d.decision_id for d in result.decisions] == ["d-1", "d-2", "d-3"]
    ledger_services.tree_integrate_all()
    for sent, decision in zip(batch, result.decisions, strict=True):
        payload = DecisionPayload.objects.get(decision=decision)
        assert (payload.subject_ref, payload.input_snapshot) == (sent.get("subject_ref", ""), sent["input_snapshot"])
        assert decision.payload_commitment == decisions.commitment(
            bytes(payload.salt), payload.subject_ref, payload.input_snapshot
        )
        assert (decision.reasons, decision.occurred_at, decision.posted_by) == (sent["reasons"], at, pipeline)
        entry = Entry.objects.get(idempotency_key=decision.ledger_key)
        # The leaf's data is the row as the service has always written it, in canonical bytes.
        expected = {
            "model": model.slug,
            "version": "1.0.0",
            "decision_id": decision.decision_id,
            "occurred_at": at.isoformat().replace("+00:00", "Z"),
            "input_sha256": decision.input_sha256,
            "output_label": decision.output_label,
            "output_score": decision.output_score,
            "reasons": decision.reasons,
            "mode": decision.mode,
            "reviewer": decision.reviewer,
            "overridden": decision.overridden,
            "override_reason": decision.override_reason,
            "final_label": decision.final_label,
            "payload_commitment": decision.payload_commitment,
            "posted_at": decision.posted_at.isoformat().replace("+00:00", "Z"),
        }
        assert canonical.dumps(json.loads(bytes(entry.leaf))["data"]) == canonical.dumps(expected)
    assert verify_database().entries == selectors.tree_size()


def test_resending_a_batch_changes_nothing(serving, pipeline, model):
    at = timezone.now()
    batch = [item(n, "1.0.0", at) for n in range(3)]
    decisions.decision_log_batch(actor=pipeline, model=model, items=batch)
    again = decisions.decision_log_batch(actor=pipeline, model=model, items=batch)
    assert again.created == 0
    assert Decision.objects.count() == 3


def test_a_decision_outside_any_deployment_is_refused_and_nothing_is_written(serving, pipeline, model):
    at = timezone.now()
    batch = [item(1, "1.0.0", at), item(2, "1.0.0", serving.started_at - timedelta(days=1))]
    with pytest.raises(Conflict) as refused:
        decisions.decision_log_batch(actor=pipeline, model=model, items=batch)
    assert list(refused.value.errors) == ["1"]
    assert not Decision.objects.exists()


def test_a_snapshot_must_match_its_input_hash(serving, pipeline, model):
    bad = item(1, "1.0.0", timezone.now(), input_sha256="0" * 64)
    with pytest.raises(InvalidInput) as refused:
        decisions.decision_log_batch(actor=pipeline, model=model, items=[bad])
    assert "input_sha256" in refused.value.errors["0"]


def test_erasing_a_payload_keeps_the_ledger_intact(serving, pipeline, model, olga):
    decisions.decision_log_batch(actor=pipeline, model=model, items=[item(1, "1.0.0", timezone.now())])
    decision = Decision.objects.get()
    decisions.decision_payload_erase(actor=olga, decision=decision, reason="GDPR Art. 17 request")
    payload = DecisionPayload.objects.get()
    assert payload.subject_ref == "" and payload.input_snapshot is None and bytes(payload.salt) == b""
    ledger_services.tree_integrate_all()
    ledger_services.checkpoint_sign()
    assert verify_database().entries == selectors.tree_size()
    assert not gov_selectors.decision_list(olga).filter(payload__subject_ref="subject-1").exists()


def test_retiring_a_version_ends_its_deployments(serving, pipeline):
    deployments.version_retire(actor=pipeline, version=serving.version, reason="superseded")
    serving.refresh_from_db()
    assert serving.ended_at is not None
    assert serving.version.status == ModelVersion.Status.RETIRED


def test_lineage_walks_ancestors_and_descendants(version, pipeline, model, datasets):
    child = register_version(pipeline, model, datasets, number="1.1.0", parent="1.0.0")
    grandchild = register_version(pipeline, model, datasets, number="1.2.0", parent="1.1.0")
    assert gov_selectors.version_ancestors(grandchild) == [child, version]
    assert gov_selectors.version_descendants(version) == [child, grandchild]


def test_the_demo_story_is_idempotent(db, capsys):
    call_command("seed_demo", "--decisions", "40")
    first = Entry.objects.count() + Submission.objects.count()
    call_command("seed_demo", "--decisions", "40")
    ledger_services.tree_integrate_all()
    assert Entry.objects.count() == first
    statuses = dict(ModelVersion.objects.values_list("version", "status"))
    assert statuses == {"1.0.0": "retired", "1.1.0": "deployed", "2.0.0": "approved", "2.1.0": "registered"}
    assert Decision.objects.count() == 40
    assert "Demo data ready: 0 new decisions of 40" in capsys.readouterr().out
