"""Production gates: each passes on recorded evidence, each fails alone, and failures block
production deployments (and only those)."""

from __future__ import annotations

import hashlib
from functools import cached_property

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone

from governance.demo import FULL_CARD
from governance.errors import Conflict, Forbidden, InvalidInput
from governance.models import Deployment, MonitoringPolicy, RetrainingPolicy
from governance.selectors import gates as gate_selectors
from governance.selectors.gates import GATES
from governance.services import ci_evidence, deployments, policies, registry
from tests.governance import readiness
from tests.governance.conftest import PASSWORD, register_version

PARTIAL_CARD_SECTIONS = ("quantitative_analyses", "ethical_considerations")


@pytest.fixture
def ready(version, olga, oscar):
    """A high-risk version with every piece of evidence on record, approved by two officers."""
    readiness.approve(version, olga, oscar, password=PASSWORD)
    version.refresh_from_db()
    return version


def _register(pipeline, model, sets, **overrides):
    """Register 2.0.0 like the fixtures do, with some fields overridden."""
    fields = {
        "actor": pipeline,
        "model": model,
        "version": "2.0.0",
        "artifact_sha256": "b" * 64,
        "artifact_uri": "s3://m2",
        "datasets": [
            {"sha256": d.sha256, "role": role}
            for d, role in zip(sets, ("training", "validation", "test"), strict=True)
        ],
        "metrics": [{"name": "auc", "value": "0.87"}],
        **readiness.reproducible("2.0.0"),
        **overrides,
    }
    version = registry.version_register(**fields)
    readiness.post_ci(version, pipeline)
    registry.card_revise(actor=pipeline, version=version, content=card())
    return version


def card(missing: tuple[str, ...] = ()) -> dict[str, str]:
    return {k: v for k, v in FULL_CARD.items() if k not in missing}


# Each case leaves exactly one gate failing. Setup shortcuts that no service offers (a policy
# withdrawn, an artifact without a hash) are made directly and say so.
def _no_lock(ctx):
    v = _register(ctx.pipeline, ctx.model, ctx.datasets, environment_lock_sha256="")
    readiness.approve(v, ctx.olga, ctx.oscar, password=PASSWORD)
    return v


def _training_only(ctx):
    v = _register(
        ctx.pipeline, ctx.model, ctx.datasets, datasets=[{"sha256": ctx.datasets[0].sha256, "role": "training"}]
    )
    readiness.approve(v, ctx.olga, ctx.oscar, password=PASSWORD)
    return v


def _no_artifact_hash(ctx):
    # The database refuses such a version (a named constraint); the gate still says so if it meets one.
    ctx.ready.artifact_sha256 = ""
    return ctx.ready


def _metric_below_threshold(ctx):
    policies.thresholds_set(
        actor=ctx.alice, model=ctx.model, thresholds=[{"metric": "auc", "operator": "min", "value": "0.90"}]
    )
    return ctx.ready


def _incomplete_card(ctx):
    v = registry.version_register(
        actor=ctx.pipeline,
        model=ctx.model,
        version="2.0.0",
        artifact_sha256="b" * 64,
        artifact_uri="s3://m2",
        datasets=[
            {"sha256": d.sha256, "role": r}
            for d, r in zip(ctx.datasets, ("training", "validation", "test"), strict=True)
        ],
        metrics=[{"name": "auc", "value": "0.87"}],
        **readiness.reproducible("2.0.0"),
    )
    readiness.post_ci(v, ctx.pipeline)
    registry.card_revise(actor=ctx.pipeline, version=v, content=card(PARTIAL_CARD_SECTIONS))
    readiness.approve(v, ctx.olga, ctx.oscar, password=PASSWORD)
    return v


def _one_approval(ctx):
    readiness.approve(ctx.version, ctx.olga, password=PASSWORD)
    return ctx.version


def _owner_deactivated(ctx):
    ctx.alice.is_active = False
    ctx.alice.save(update_fields=["is_active"])
    return ctx.ready


def _monitoring_withdrawn(ctx):
    # No service withdraws a policy without a replacement; supersede it directly.
    MonitoringPolicy.objects.filter(model=ctx.model).update(superseded_at=timezone.now())
    return ctx.ready


def _retraining_withdrawn(ctx):
    RetrainingPolicy.objects.filter(model=ctx.model).update(superseded_at=timezone.now())
    return ctx.ready


def _ci_failed_last(ctx):
    readiness.post_ci(ctx.ready, ctx.pipeline, passed=False)
    return ctx.ready


FAILING = {
    "reproducible_pipeline": (_no_lock, "Not recorded: environment_lock_sha256."),
    "versioned_data": (_training_only, "No validation, no test dataset with a content hash is linked."),
    "artifact_hash": (_no_artifact_hash, "The artifact has no SHA-256."),
    "evaluation_metrics": (_metric_below_threshold, "Below the declared thresholds: auc 0.87 (needs ≥ 0.90)."),
    "model_card": (
        _incomplete_card,
        "Model card: sections not filled: quantitative_analyses, ethical_considerations.",
    ),
    "approvals": (_one_approval, "1 of 2 approvals from distinct officers (separation of duties held)."),
    "ownership": (_owner_deactivated, "Ownership: alice is not an active model owner."),
    "monitoring": (_monitoring_withdrawn, "No monitoring policy (thresholds and expected observation interval)."),
    "retraining_policy": (_retraining_withdrawn, "No retraining policy is defined."),
    "ci_evidence": (
        _ci_failed_last,
        "The latest CI run (ci-1.0.0) did not pass: 12 tests, 2 failed, 0 errors, 0 skipped.",
    ),
}


class Ctx:
    """The personas, the model and a registered 1.0.0; `ready` approves 1.0.0 on first use."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    @cached_property
    def ready(self):
        readiness.approve(self.version, self.olga, self.oscar, password=PASSWORD)
        self.version.refresh_from_db()
        return self.version


@pytest.fixture
def ctx(pipeline, model, datasets, version, alice, olga, oscar):
    return Ctx(pipeline=pipeline, model=model, datasets=datasets, version=version, alice=alice, olga=olga, oscar=oscar)


def test_every_gate_lists_the_checklist_in_order():
    assert list(GATES) == [
        "reproducible_pipeline",
        "versioned_data",
        "artifact_hash",
        "evaluation_metrics",
        "model_card",
        "approvals",
        "ownership",
        "monitoring",
        "retraining_policy",
        "ci_evidence",
    ]


def test_a_version_with_all_its_evidence_passes_every_gate(ready):
    report = gate_selectors.gates_evaluate(version=ready)
    assert report.passed and report.production
    assert [(g["gate"], g["status"]) for g in report.gates] == [(name, "pass") for name in GATES]
    by_name = {g["gate"]: g for g in report.gates}
    assert by_name["approvals"]["evidence"]["approvers"] == ["olga", "oscar"]
    assert by_name["evaluation_metrics"]["evidence"]["checks"][0] == {
        "metric": "auc",
        "slice": "",
        "operator": "min",
        "threshold": "0.80",
        "values": ["0.87"],
        "passed": True,
    }
    assert by_name["ci_evidence"]["evidence"]["passed"] is True


@pytest.mark.parametrize("gate", list(FAILING))
def test_each_gate_fails_alone_with_its_reason(ctx, gate):
    breaker, reason = FAILING[gate]
    version = breaker(ctx)
    report = gate_selectors.gates_evaluate(version=version)
    assert report.failing == [gate]
    failing = next(g for g in report.gates if g["gate"] == gate)
    assert failing["status"] == "fail" and failing["passed"] is False
    assert failing["reason"].startswith(reason.rstrip("."))


def test_a_model_without_thresholds_fails_the_metrics_gate(ready, alice, model):
    policies.thresholds_set(actor=alice, model=model, thresholds=[])
    report = gate_selectors.gates_evaluate(version=ready)
    assert report.failing == ["evaluation_metrics"]
    assert "No metric thresholds are declared" in report.gates[3]["reason"]


def test_a_card_revision_nobody_approved_is_not_frozen(pipeline, model, datasets, olga):
    version = register_version(pipeline, model, datasets, number="3.0.0")
    report = gate_selectors.gates_evaluate(version=version)
    card = next(g for g in report.gates if g["gate"] == "model_card")
    assert card["status"] == "fail" and "not frozen by an approval" in card["reason"]


def test_a_missing_ci_report_fails_the_ci_gate(pipeline, model, datasets):
    version = register_version(pipeline, model, datasets, number="3.0.0", ci=False)
    ci = next(g for g in gate_selectors.gates_evaluate(version=version).gates if g["gate"] == "ci_evidence")
    assert ci["status"] == "fail" and ci["reason"] == "No CI test report was posted for the version."


def test_a_failing_production_deployment_is_refused_with_its_gates(ctx):
    version = _ci_failed_last(ctx)
    with pytest.raises(Conflict) as refused:
        deployments.deployment_start(actor=ctx.pipeline, version=version, environment="production")
    assert refused.value.message == "Deployment blocked by failing gates: ci_evidence."
    failing = [g for g in refused.value.errors["gates"] if not g["passed"]]
    assert [g["gate"] for g in failing] == ["ci_evidence"]
    assert not Deployment.objects.exists()


def test_every_configured_production_environment_is_gated(ctx, settings):
    settings.PRODUCTION_ENVIRONMENTS = ["live"]
    version = _ci_failed_last(ctx)
    with pytest.raises(Conflict):
        deployments.deployment_start(actor=ctx.pipeline, version=version, environment="live")
    # "production" is no longer a production environment: recorded, not blocked.
    assert deployments.deployment_start(actor=ctx.pipeline, version=version, environment="production")


def test_other_environments_are_not_blocked_but_record_the_gates(ctx):
    version = _ci_failed_last(ctx)
    deployment = deployments.deployment_start(actor=ctx.pipeline, version=version, environment="staging")
    statuses = {g["gate"]: g["status"] for g in deployment.gates}
    assert statuses["ci_evidence"] == "fail"
    assert len(statuses) == len(GATES)


def test_the_deployment_event_carries_the_evaluated_gates(ready, pipeline):
    deployment = deployments.deployment_start(actor=pipeline, version=ready, environment="production")
    data = readiness.leaf(deployment.ledger_key)["data"]
    assert [(g["gate"], g["passed"]) for g in data["gates"]] == [(name, True) for name in GATES]
    assert data["gates"] == deployment.gates


def test_a_tier_may_waive_a_gate_which_then_does_not_block(ctx, settings):
    settings.PRODUCTION_GATES = {**settings.PRODUCTION_GATES, "high": [n for n in GATES if n != "ci_evidence"]}
    version = _ci_failed_last(ctx)
    report = gate_selectors.gates_evaluate(version=version)
    ci = next(g for g in report.gates if g["gate"] == "ci_evidence")
    assert (ci["required"], ci["status"], ci["passed"]) == (False, "waived", True)
    assert ci["reason"].startswith("Not required for high risk: The latest CI run")
    assert report.passed
    assert deployments.deployment_start(actor=ctx.pipeline, version=version, environment="production")


def test_a_low_risk_model_needs_one_approval(pipeline, datasets, alice, olga):
    from governance.services.access import access_grant

    low = registry.model_register(
        actor=alice,
        slug="low",
        name="Low",
        intended_purpose="x",
        regulated_use="other",
        risk_tier="low",
        owner=alice,
        runbook="https://wiki/low",
    )
    access_grant(actor=olga, model=low, grantee=pipeline, actions=["register"])
    readiness.declare_policies(low, alice)
    version = register_version(pipeline, low, datasets)
    readiness.approve(version, olga, password=PASSWORD)
    report = gate_selectors.gates_evaluate(version=version)
    assert report.passed
    assert report.gates[5]["evidence"]["required"] == 1


def test_an_unknown_gate_name_in_the_settings_stops_the_checks(settings):
    settings.PRODUCTION_GATES = {"high": ["all"], "medium": ["ci_evidense"], "low": ["all"]}
    with pytest.raises(SystemCheckError, match="PRODUCTION_GATES_MEDIUM names unknown gates: ci_evidense"):
        call_command("check")


def test_only_those_who_may_register_post_ci_evidence(version, olga):
    with pytest.raises(Forbidden):
        ci_evidence.ci_evidence_post(actor=olga, version=version, run_id="ci-x", report=readiness.junit_report())


def _ci(version, pipeline, report: bytes, **extra):
    return ci_evidence.ci_evidence_post(actor=pipeline, version=version, run_id="ci-2", report=report, **extra)


def _ci_gate(version):
    return next(g for g in gate_selectors.gates_evaluate(version=version).gates if g["gate"] == "ci_evidence")


@pytest.mark.parametrize(
    ("counts", "passed"),
    [
        ({"tests": 40, "skipped": 3}, True),
        ({"tests": 40, "failures": 2}, False),
        ({"tests": 40, "errors": 1}, False),
        ({"tests": 0}, False),
    ],
)
def test_the_ci_gate_judges_the_parsed_report(version, pipeline, counts, passed):
    evidence = _ci(version, pipeline, readiness.junit_report(**counts))
    expected = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, **counts}
    assert {k: getattr(evidence, k) for k in expected} == expected
    assert evidence.passed is passed and _ci_gate(version)["passed"] is passed


def test_a_failures_attribute_alone_fails_the_gate(version, pipeline):
    report = b'<testsuite name="s" tests="3" failures="2"><testcase name="a"/></testsuite>'
    evidence = _ci(version, pipeline, report)
    assert (evidence.tests, evidence.failures, evidence.passed) == (3, 2, False)
    assert (
        _ci_gate(version)["reason"] == "The latest CI run (ci-2) did not pass: 3 tests, 2 failed, 0 errors, 0 skipped."
    )


def test_a_failing_test_case_fails_the_gate_whatever_the_totals_say(version, pipeline):
    report = b'<testsuites tests="2" failures="0"><testsuite name="s"><testcase name="a"/>'
    report += b'<testcase name="b"><failure/></testcase></testsuite></testsuites>'
    assert _ci(version, pipeline, report).failures == 1


def test_nested_suites_are_summed(version, pipeline):
    report = b'<testsuites><testsuite name="outer"><testsuite name="a" tests="5" errors="1"/>'
    report += b'<testsuite name="b" tests="7" skipped="2"/></testsuite></testsuites>'
    evidence = _ci(version, pipeline, report)
    assert (evidence.tests, evidence.errors, evidence.skipped) == (12, 1, 2)


@pytest.mark.parametrize(
    ("report", "message"),
    [
        (b"passed: 12", "not well-formed XML"),
        (b"<html><body>CI</body></html>", "root is <html>"),
        (b'<testsuite tests="many"/>', "non-integer tests='many'"),
        (b'<!DOCTYPE t [<!ENTITY a "aaaa">]><testsuite tests="1">&a;</testsuite>', "forbidden XML feature"),
    ],
)
def test_a_report_that_cannot_be_parsed_is_refused(version, pipeline, report, message):
    with pytest.raises(InvalidInput) as refused:
        _ci(version, pipeline, report)
    assert message in refused.value.errors["report"][0]
    assert not version.ci_evidence.filter(run_id="ci-2").exists()


def test_a_stated_hash_must_be_the_reports(version, pipeline):
    with pytest.raises(InvalidInput) as refused:
        _ci(version, pipeline, readiness.junit_report(), test_report_sha256="c" * 64)
    assert refused.value.errors == {"test_report_sha256": ["Is not the SHA-256 of the report sent."]}


def test_ci_evidence_is_a_ledger_event(version, pipeline):
    evidence = readiness.post_ci(version, pipeline)
    data = readiness.leaf(evidence.ledger_key)["data"]
    assert data == {
        "model": "credit-risk",
        "version": "1.0.0",
        "run_id": "ci-1.0.0",
        "url": "https://ci.example/1.0.0",
        "test_report_sha256": hashlib.sha256(readiness.junit_report(name="1.0.0")).hexdigest(),
        "passed": True,
        "tests": 12,
        "failures": 0,
        "errors": 0,
        "skipped": 0,
        "posted_at": data["posted_at"],
    }


def test_deploying_an_unapproved_version_names_every_failing_gate(version, pipeline):
    with pytest.raises(Conflict) as refused:
        deployments.deployment_start(actor=pipeline, version=version, environment="production")
    assert str(refused.value) == (
        "credit-risk 1.0.0 is registered; only approved versions are deployed. Failing gates: model_card, approvals."
    )
    gates_listed = refused.value.errors["gates"]
    assert [g["gate"] for g in gates_listed] == list(GATES)
    assert [g["gate"] for g in gates_listed if not g["passed"]] == ["model_card", "approvals"]
