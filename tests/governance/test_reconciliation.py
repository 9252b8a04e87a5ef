"""Every kind of record reconciles with its leaves; an edit made behind the services' back (a
raw SQL UPDATE, as a database administrator could) is named by `verify_ledger` exactly."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from governance import reconciliation
from governance.models import Decision, ModelUserObjectPermission
from governance.services import access as access_services
from governance.services import alerts, assurance, decisions, deployments, notifications, retraining
from governance.services.monitoring import observation_post_batch
from ledger import services as ledger_services
from ledger.models import Entry
from tests.governance.test_operations import approve, item
from tests.governance.world import make_user


@pytest.fixture
def world(version, model, pipeline, olga, oscar, alice):
    """One record of every kind, all of them written through the services."""
    approve(version, olga, oscar)
    deployment = deployments.deployment_start(actor=pipeline, version=version, environment="production", notes="n")
    now = timezone.now()
    decisions.decision_log_batch(
        actor=pipeline,
        model=model,
        items=[item(n, "1.0.0", now - timedelta(seconds=n) + timedelta(seconds=3)) for n in (1, 2, 3)],
    )
    first = Decision.objects.get(decision_id="d-1")
    decisions.decision_review(actor=olga, decision=first, action="override", reason="wrong", final_label="decline")
    decisions.decision_payload_erase(actor=olga, decision=Decision.objects.get(decision_id="d-3"), reason="Art. 17")
    observation_post_batch(
        actor=pipeline,
        model=model,
        items=[
            {
                "version": "1.0.0",
                "environment": "production",
                "window_start": timezone.now() - timedelta(hours=1),
                "window_end": timezone.now(),
                "kind": "volume",
                "count": 100,
            }
        ],
    )
    alerts.alert_open(
        model=model, kind="drift", dedupe_key="drift:x", summary="Drift on income", details={"psi": "0.3"}
    )
    retraining.retraining_request_open(model=model, rule="drift", details={"windows": 3})
    amy = make_user("amy", "model_owner")
    access_services.ownership_transfer_request(actor=alice, model=model, to_owner=amy, reason="leaving")
    assurance.classification_record(actor=alice, model=model, intended_purpose="Score credit", annex_iii="5(b)")
    assurance.risk_record(actor=alice, model=model, entry_id="r-1", hazard="Bias", residual_level="medium")
    assurance.oversight_record(actor=alice, model=model, entry_id="o-1", measure="Review", responsible="Ops")
    assurance.finding_record(actor=olga, version=version, entry_id="f-1", title="Drift", severity="low")
    webhook = notifications.webhook_create(
        actor=olga, url="https://hooks.example.com/ledger", secret="s" * 32, events=["alert.opened"], model=model
    )
    notifications.webhook_update(actor=olga, webhook=webhook, description="Pager")
    ledger_services.tree_integrate_all()
    return {"deployment": deployment}


def _sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def _seq(key: str) -> int:
    return Entry.objects.get(idempotency_key=key).seq


def _verify(capsys, *args: str) -> tuple[int, str, str]:
    try:
        call_command("verify_ledger", *args)
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_database_written_by_the_services_reconciles(world, capsys):
    result = reconciliation.reconcile()
    assert result.mismatches == []
    assert all(result.records[kind.name] > 0 for kind in reconciliation.KINDS if kind.name != "report")
    code, out, _ = _verify(capsys)
    assert code == 0
    assert "Ledger intact" in out and "Records reconciled" in out


def test_the_log_only_path_does_not_read_records(world, capsys):
    _sql("UPDATE governance_decision SET output_label = 'decline' WHERE decision_id = 'd-2'")
    code, out, _ = _verify(capsys, "--log-only")
    assert code == 0
    assert "Records reconciled" not in out


EDITS = [
    # (statement, params, table, record, field, key of the leaf it contradicts)
    (
        "UPDATE governance_registeredmodel SET risk_tier = 'low' WHERE slug = 'credit-risk'",
        [],
        "governance_registeredmodel",
        "model credit-risk",
        "risk_tier",
        "model.registered:credit-risk",
    ),
    (
        "UPDATE governance_dataset SET uri = 's3://elsewhere' WHERE name = 'train'",
        [],
        "governance_dataset",
        "dataset " + "1" * 64,
        "uri",
        "dataset.registered:" + "1" * 64,
    ),
    (
        "UPDATE governance_modelversion SET artifact_sha256 = %s WHERE version = '1.0.0'",
        ["b" * 64],
        "governance_modelversion",
        "version 1.0.0 of credit-risk",
        "artifact_sha256",
        "version.registered:credit-risk:1.0.0",
    ),
    (
        "UPDATE governance_modelcard SET content_sha256 = %s",
        ["c" * 64],
        "governance_modelcard",
        "card revision 1 of credit-risk 1.0.0",
        "content_sha256",
        "card.revised:credit-risk:1.0.0:1",
    ),
    (
        "UPDATE governance_decision SET output_label = 'decline', final_label = 'decline' WHERE decision_id = 'd-2'",
        [],
        "governance_decision",
        "decision d-2 of credit-risk",
        "output_label",
        "decision.logged:credit-risk:d-2",
    ),
]


@pytest.mark.parametrize(("statement", "params", "table", "record", "field", "key"), EDITS)
def test_verify_ledger_names_an_edited_record(world, capsys, statement, params, table, record, field, key):
    _sql(statement, params)
    code, out, err = _verify(capsys)
    assert code == 1
    assert f"{table}: {record}: {field}: stored " in out
    line = next(line for line in out.splitlines() if line.startswith(f"{table}: {record}: {field}:"))
    assert f"contradicts ledger seq {_seq(key)}, which says " in line
    assert "RECORDS DIFFER FROM THE LEDGER" in err


def _single_mismatch(kind: str):
    found = reconciliation.reconcile(kinds=[kind]).mismatches
    assert len(found) == 1, [m.line() for m in found]
    return found[0]


def _key_of(table: str, pk_column: str = "id", where: str = "") -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ledger_key FROM {table} {where} ORDER BY {pk_column} LIMIT 1")  # noqa: S608
        return cursor.fetchone()[0]


@pytest.mark.parametrize(
    ("kind", "table", "assignment", "params", "field"),
    [
        ("approval", "governance_approval", "reason = 'edited'", [], "reason"),
        ("approval", "governance_approval", "signer_name = 'Someone Else'", [], "signer_name"),
        ("status change", "governance_statuschange", "reason = 'edited'", [], "reason"),
        ("ownership transfer", "governance_ownershiptransfer", "reason = 'edited'", [], "reason"),
        ("deployment", "governance_deployment", "change_ticket = 'CHG-0'", [], "change_ticket"),
        ("deployment", "governance_deployment", "notes = 'edited'", [], "notes"),
        ("decision review", "governance_decisionreview", "reason = 'edited'", [], "reason"),
        ("threshold", "governance_metricthreshold", "value = '0.10'", [], "threshold"),
        ("monitoring policy", "governance_monitoringpolicy", "psi_threshold = '0.99'", [], "psi_threshold"),
        ("retraining policy", "governance_retrainingpolicy", "max_age_days = 999", [], "max_age_days"),
        ("CI evidence", "governance_cievidence", "passed = %s", [False], "passed"),
        ("observation", "governance_observation", "count = 5", [], "count"),
        ("alert", "governance_alert", "summary = 'edited'", [], "summary"),
        ("retraining request", "governance_retrainingrequest", "rule = 'age'", [], "rule"),
        ("model", "governance_registeredmodel", "created_at = %s", [timezone.now()], "created_at"),
        ("dataset", "governance_dataset", "registered_at = %s", [timezone.now()], "registered_at"),
        ("card", "governance_modelcard", "created_at = %s", [timezone.now()], "created_at"),
        ("ownership transfer", "governance_ownershiptransfer", "requested_at = %s", [timezone.now()], "requested_at"),
        ("ownership transfer", "governance_ownershiptransfer", "state = 'cancelled'", [], "state"),
    ],
)
def test_each_kind_names_its_edited_field(world, kind, table, assignment, params, field):
    key = _key_of(table)
    _sql(f"UPDATE {table} SET {assignment} WHERE ledger_key = %s", [*params, key])  # noqa: S608
    mismatch = _single_mismatch(kind)
    assert (mismatch.table, mismatch.field, mismatch.seq) == (table, field, _seq(key))


def test_a_changed_owner_is_named(world, olga):
    _sql("UPDATE governance_registeredmodel SET owner_id = %s", [olga.pk])
    mismatch = _single_mismatch("model")
    assert (mismatch.record, mismatch.field, mismatch.stored) == ("model credit-risk", "owner", "olga")
    assert mismatch.seq == _seq("model.registered:credit-risk")


def test_a_version_status_no_change_recorded_is_named(world):
    _sql("UPDATE governance_modelversion SET status = 'retired'")
    mismatch = _single_mismatch("version")
    assert (mismatch.field, mismatch.stored, mismatch.ledger) == ("status", "retired", "deployed")


def test_an_edited_payload_no_longer_opens_its_commitment(world):
    decision = Decision.objects.get(decision_id="d-2")
    _sql("UPDATE governance_decisionpayload SET subject_ref = 'someone-else' WHERE decision_id = %s", [decision.pk])
    mismatch = _single_mismatch("decision")
    assert (mismatch.record, mismatch.field) == ("decision d-2 of credit-risk", "payload")
    assert mismatch.seq == _seq(decision.ledger_key)


def test_a_lawfully_erased_payload_is_skipped_but_an_unlogged_erasure_is_not(world):
    assert reconciliation.reconcile(kinds=["decision"]).mismatches == []
    decision = Decision.objects.get(decision_id="d-2")
    _sql(
        "UPDATE governance_decisionpayload SET subject_ref = '', input_snapshot = NULL, erased_at = %s "
        "WHERE decision_id = %s",
        [timezone.now(), decision.pk],
    )
    mismatch = _single_mismatch("decision")
    assert (mismatch.record, mismatch.field, mismatch.seq) == ("decision d-2 of credit-risk", "payload", None)


def test_a_record_with_no_leaf_is_a_mismatch(world, capsys):
    _sql("UPDATE governance_decision SET ledger_key = 'decision.logged:forged' WHERE decision_id = 'd-2'")
    code, out, _ = _verify(capsys)
    assert code == 1
    assert (
        'governance_decision: decision d-2 of credit-risk: recorded entry: stored "decision.logged:forged" '
        "but no ledger entry records it"
    ) in out


def test_a_permission_no_grant_recorded_is_named(world, model):
    charlie = make_user("charlie")
    ModelUserObjectPermission.objects.create(
        user=charlie, permission=Permission.objects.get(codename="log_decisions"), content_object=model
    )
    mismatch = _single_mismatch("access grant")
    assert (mismatch.record, mismatch.field, mismatch.stored) == (
        "access of user:charlie to credit-risk",
        "permission",
        "log_decisions",
    )


def test_a_revoked_grant_still_held_is_named(world, model, pipeline, olga):
    _sql("DELETE FROM governance_modeluserobjectpermission WHERE user_id = %s", [pipeline.pk])
    found = reconciliation.reconcile(kinds=["access grant"]).mismatches
    assert {m.ledger for m in found} == {"view_registeredmodel", "register_version", "log_decisions"}
    assert all(m.stored is None for m in found)


def test_json_output_lists_each_mismatch(world, capsys):
    _sql("UPDATE governance_decision SET output_label = 'decline' WHERE decision_id = 'd-2'")
    code, out, _ = _verify(capsys, "--json")
    result = json.loads(out)
    assert code == 1 and result["ok"] is False and result["log"]["intact"] is True
    [mismatch] = result["records"]["mismatches"]
    assert mismatch["table"] == "governance_decision"
    assert mismatch["record"] == "decision d-2 of credit-risk"
    assert mismatch["field"] == "output_label"
    assert mismatch["stored"] == '"decline"'
    assert mismatch["seq"] == _seq("decision.logged:credit-risk:d-2")
    assert len(mismatch["stored_sha256"]) == 64


def _export(capsys, *args) -> tuple[int, str]:
    try:
        call_command("export_ledger", *args)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


def test_export_ledger_writes_a_verified_bundle(world, capsys, tmp_path):
    code, _ = _export(capsys, str(tmp_path / "bundle"))
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert code == 0
    assert manifest["verification"]["ok"] is True and manifest["verification"]["forced"] is False


def test_export_ledger_refuses_a_database_that_does_not_reconcile(world, capsys, tmp_path):
    _sql("UPDATE governance_decision SET output_label = 'decline' WHERE decision_id = 'd-2'")
    code, err = _export(capsys, str(tmp_path / "bundle"))
    assert code == 1
    assert "NOT EXPORTED" in err and "governance_decision: decision d-2 of credit-risk: output_label" in err
    assert not (tmp_path / "bundle").exists()


def test_export_ledger_with_force_writes_the_failure_into_the_manifest(world, capsys, tmp_path):
    _sql("UPDATE governance_decision SET output_label = 'decline' WHERE decision_id = 'd-2'")
    code, err = _export(capsys, str(tmp_path / "bundle"), "--force")
    verification = json.loads((tmp_path / "bundle" / "manifest.json").read_text())["verification"]
    assert code == 0 and "EXPORTED DESPITE A FAILED CHECK" in err
    assert verification["ok"] is False and verification["forced"] is True
    assert verification["first_failure"].startswith("governance_decision: decision d-2 of credit-risk: output_label")


@pytest.mark.postgres
def test_the_postgresql_fast_path_confirms_faithful_decisions_and_suspects_edited_ones(world):
    from governance.reconciliation.fast import decision_suspects

    erased = Decision.objects.get(decision_id="d-3").pk
    assert decision_suspects() == (3, [erased])  # an erased payload always takes the exact path
    edited = Decision.objects.get(decision_id="d-2").pk
    _sql("UPDATE governance_decision SET reasons = %s WHERE id = %s", ['[{"code": "X"}]', edited])
    assert sorted(decision_suspects()[1]) == sorted([erased, edited])
    mismatch = _single_mismatch("decision")
    assert (mismatch.record, mismatch.field) == ("decision d-2 of credit-risk", "reasons")


@pytest.mark.parametrize(
    ("statements", "table", "key_prefix", "record"),
    [
        (
            [
                "DELETE FROM governance_decisionpayload WHERE decision_id IN "
                "(SELECT id FROM governance_decision WHERE decision_id = 'd-2')",
                "DELETE FROM governance_decision WHERE decision_id = 'd-2'",
            ],
            "governance_decision",
            "decision.logged:credit-risk:d-2",
            "decision credit-risk:d-2 (model:credit-risk)",
        ),
        (["DELETE FROM governance_decisionreview"], "governance_decisionreview", "decision.reviewed:", None),
        (["DELETE FROM governance_cievidence"], "governance_cievidence", "ci.evidence_posted:", None),
        (["DELETE FROM governance_riskentry"], "governance_riskentry", "risk.recorded:", None),
    ],
)
def test_a_deleted_record_is_named_with_the_entry_that_created_it(
    world, capsys, statements, table, key_prefix, record
):
    [(seq, key)] = Entry.objects.filter(idempotency_key__startswith=key_prefix).values_list("seq", "idempotency_key")
    for statement in statements:
        _sql(statement)
    [mismatch] = [m for m in reconciliation.reconcile().mismatches if m.field == "row"]
    assert (mismatch.table, mismatch.seq, mismatch.ledger) == (table, seq, key)
    if record is not None:
        assert mismatch.record == record
    code, out, _ = _verify(capsys)
    assert code == 1
    assert f"no row, but ledger seq {seq} records it (deleted)" in out


@pytest.mark.parametrize(
    ("assignment", "params", "field"),
    [
        ("url = 'https://attacker.example.net/x'", [], "url_host"),
        ("events = %s", ['["alert.opened", "decision.logged"]'], "events"),
        ("description = 'edited'", [], "description"),
        ("active = %s", [False], "active"),
    ],
)
def test_an_edited_webhook_is_named_against_its_latest_leaf(world, assignment, params, field):
    _sql(f"UPDATE governance_webhook SET {assignment}", params)  # noqa: S608
    found = [m for m in reconciliation.reconcile(kinds=["webhook"]).mismatches if m.field == field]
    [updated] = Entry.objects.filter(idempotency_key__startswith="webhook.updated:").values_list("seq", flat=True)
    assert [(m.table, m.seq) for m in found] == [("governance_webhook", updated)]


def test_a_fetch_that_fails_in_the_prefetching_thread_is_raised_to_the_reconciler():
    from governance.reconciliation import fast

    class Cursor:
        calls = 0

        def fetchmany(self, size):
            self.calls += 1
            if self.calls == 1:
                return [(1,)]
            raise RuntimeError("connection lost")

    with pytest.raises(RuntimeError, match="connection lost"):
        list(fast._prefetched(Cursor()))
