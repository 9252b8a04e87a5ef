"""Production gates: the MLOps checklist, evaluated on the server from recorded evidence.

A version reaches a production environment (settings.PRODUCTION_ENVIRONMENTS) only when every
gate its model's risk tier requires (settings.PRODUCTION_GATES) passes. Each gate returns
`{"gate", "title", "required", "status", "passed", "reason", "evidence"}`: status is pass,
fail, or waived (failing, but not required for the tier); `passed` is false only for fail.
Deployments to other environments evaluate and record the gates without being blocked.

`deployment_start` (governance.services.deployments) calls `gates_for_deployment`: it refuses a
failing production deployment with 409 and puts the evaluated gates into its
`deployment.started` event. CI evidence is posted by governance.services.ci_evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from governance import access
from governance.conf import production_environments
from governance.models import (
    Approval,
    CiEvidence,
    MetricThreshold,
    ModelVersion,
    MonitoringPolicy,
    RegisteredModel,
    RetrainingPolicy,
)
from governance.records import rfc3339
from governance.selectors.approvals import approvals_required
from governance.validation import DECIMAL_RE, SHA256_RE

REQUIRED_ROLES = ("training", "validation", "test")


def breaches(value: str, operator: str, bound: str) -> bool:
    """Return whether `value` breaks a `min` or `max` bound (decimal strings, compared exactly)."""
    if operator == MetricThreshold.Operator.MIN:
        return Decimal(value) < Decimal(bound)
    return Decimal(value) > Decimal(bound)


@dataclass
class _Evidence:
    """What the gates read about one version, fetched once."""

    version: ModelVersion
    model: RegisteredModel
    thresholds: list[MetricThreshold]
    approvals: list[Approval]
    monitoring: MonitoringPolicy | None
    retraining: RetrainingPolicy | None
    ci: CiEvidence | None
    latest_card: Any = None
    datasets: list[tuple[str, str, str, str]] = field(default_factory=list)


GateResult = tuple[bool, str, dict[str, Any]]


def _reproducible_pipeline(e: _Evidence) -> GateResult:
    v = e.version
    evidence = {
        "code_repository": v.code_repository,
        "code_commit": v.code_commit,
        "pipeline_run_id": v.pipeline_run_id,
        "pipeline_run_url": v.pipeline_run_url,
        "environment_lock_sha256": v.environment_lock_sha256,
    }
    missing = [name for name in ("code_commit", "pipeline_run_id", "environment_lock_sha256") if not evidence[name]]
    if missing:
        return False, f"Not recorded: {', '.join(missing)}.", evidence
    return True, "Code commit, pipeline run and environment lock hash are recorded.", evidence


def _versioned_data(e: _Evidence) -> GateResult:
    evidence = {
        "datasets": [
            {"role": role, "name": name, "sha256": sha, "hash_kind": kind} for role, name, sha, kind in e.datasets
        ]
    }
    # A high-risk model's data must be identified by content: a reference hash (the content was
    # never read) proves only where the data was said to be, not what it was.
    content_only = e.model.risk_tier == RegisteredModel.RiskTier.HIGH
    roles = {
        role for role, _, sha, kind in e.datasets if SHA256_RE.match(sha) and (kind == "content" or not content_only)
    }
    missing = [role for role in REQUIRED_ROLES if role not in roles]
    if missing:
        references = sorted({name for role, name, _, kind in e.datasets if kind != "content" and role in missing})
        why = f" ({', '.join(references)}: reference hash only, content never read)" if references else ""
        kind = "content hash" if content_only else "SHA-256"
        return False, f"No {', no '.join(missing)} dataset with a {kind} is linked{why}.", evidence
    return True, "Every training, validation and test dataset is identified by its SHA-256.", evidence


def _artifact_hash(e: _Evidence) -> GateResult:
    v = e.version
    evidence = {"artifact_sha256": v.artifact_sha256, "artifact_uri": v.artifact_uri}
    if not SHA256_RE.match(v.artifact_sha256 or ""):
        return False, "The artifact has no SHA-256.", evidence
    return True, "The artifact is identified by its SHA-256.", evidence


def _evaluation_metrics(e: _Evidence) -> GateResult:
    if not e.thresholds:
        return False, "No metric thresholds are declared for the model.", {"checks": []}
    results, failing = [], []
    for threshold in e.thresholds:
        values = [
            m.get("value")
            for m in e.version.metrics
            if m.get("name") == threshold.metric and m.get("slice", "") == threshold.slice
        ]
        ok = bool(values) and all(
            isinstance(value, str)
            and DECIMAL_RE.match(value)
            and not breaches(value, threshold.operator, threshold.value)
            for value in values
        )
        label = f"{threshold.metric}{f'[{threshold.slice}]' if threshold.slice else ''}"
        results.append(
            {
                "metric": threshold.metric,
                "slice": threshold.slice,
                "operator": threshold.operator,
                "threshold": threshold.value,
                "values": values,
                "passed": ok,
            }
        )
        if not ok:
            bound = f"{'≥' if threshold.operator == 'min' else '≤'} {threshold.value}"
            failing.append(f"{label} {', '.join(values) or 'not reported'} (needs {bound})")
    if failing:
        return False, f"Below the declared thresholds: {'; '.join(failing)}.", {"checks": results}
    return True, f"All {len(results)} declared thresholds are met.", {"checks": results}


def _model_card(e: _Evidence) -> GateResult:
    card = e.latest_card
    if card is None:
        return False, "The version has no model card.", {"revision": None}
    frozen_by = [a.ledger_key for a in e.approvals if a.card_id == card.pk and a.meaning in _APPROVING]
    evidence = {
        "revision": card.revision,
        "content_sha256": card.content_sha256,
        "missing_sections": card.missing_sections,
        "frozen_by": frozen_by,
    }
    problems = []
    if card.missing_sections:
        problems.append(f"sections not filled: {', '.join(card.missing_sections)}")
    if not frozen_by:
        problems.append(f"revision {card.revision} is not frozen by an approval")
    if problems:
        return False, f"Model card: {'; '.join(problems)}.", evidence
    return True, f"Revision {card.revision} is complete and frozen by approval.", evidence


_APPROVING = frozenset({Approval.Meaning.APPROVED, Approval.Meaning.RISK_ACCEPTED})


def _approvals(e: _Evidence) -> GateResult:
    required = approvals_required(e.model)
    valid = [
        a
        for a in e.approvals
        if a.meaning == Approval.Meaning.APPROVED and all(check.get("passed") for check in a.sod_checks)
    ]
    approvers = sorted({a.signer.get_username() for a in valid})
    rejected = [a.ledger_key for a in e.approvals if a.meaning == Approval.Meaning.REJECTED]
    evidence = {
        "required": required,
        "risk_tier": e.model.risk_tier,
        "approvers": approvers,
        "signatures": [a.ledger_key for a in valid],
        "rejections": rejected,
    }
    if rejected:
        return False, "The version was rejected.", evidence
    if len(approvers) < required:
        return (
            False,
            f"{len(approvers)} of {required} approvals from distinct officers (separation of duties held).",
            evidence,
        )
    return True, f"{len(approvers)} of {required} approvals, separation of duties held.", evidence


def _ownership(e: _Evidence) -> GateResult:
    owner = e.model.owner
    is_owner = access.may_own(owner)
    evidence = {"owner": owner.get_username(), "owner_active": owner.is_active, "runbook": e.model.runbook}
    problems = []
    if not is_owner:
        problems.append(f"{owner.get_username()} is not an active model owner")
    if not e.model.runbook.strip():
        problems.append("no runbook is recorded")
    if problems:
        return False, f"Ownership: {'; '.join(problems)}.", evidence
    return True, f"Owned by {owner.get_username()}, with a runbook.", evidence


def _monitoring(e: _Evidence) -> GateResult:
    policy = e.monitoring
    if policy is None:
        return False, "No monitoring policy (thresholds and expected observation interval).", {}
    evidence = {
        "expected_interval_minutes": policy.expected_interval_minutes,
        "psi_threshold": policy.psi_threshold,
        "ks_threshold": policy.ks_threshold,
        "min_volume": policy.min_volume,
        "set_at": rfc3339(policy.set_at),
        "policy": policy.ledger_key,
    }
    return (
        True,
        f"Drift thresholds set; observations expected every {policy.expected_interval_minutes} minutes.",
        (evidence),
    )


def _retraining_policy(e: _Evidence) -> GateResult:
    policy = e.retraining
    if policy is None:
        return False, "No retraining policy is defined.", {}
    rules = [
        name
        for name, on in (
            ("drift", policy.drift_windows),
            ("accuracy", policy.accuracy_floor),
            ("age", policy.max_age_days),
            ("new_data", policy.new_data_uri_prefix),
        )
        if on
    ]
    evidence = {"rules": rules, "set_at": rfc3339(policy.set_at), "policy": policy.ledger_key}
    if not rules:
        return False, "The retraining policy has no rule turned on.", evidence
    return True, f"Retraining rules: {', '.join(rules)}.", evidence


def _ci_evidence(e: _Evidence) -> GateResult:
    ci = e.ci
    if ci is None:
        return False, "No CI test report was posted for the version.", {}
    evidence = {
        "run_id": ci.run_id,
        "url": ci.url,
        "test_report_sha256": ci.test_report_sha256,
        "passed": ci.passed,
        "tests": ci.tests,
        "failures": ci.failures,
        "errors": ci.errors,
        "skipped": ci.skipped,
        "posted_by": ci.posted_by.get_username(),
        "posted_at": rfc3339(ci.posted_at),
        "evidence": ci.ledger_key,
    }
    if ci.tests is None:
        counts = ""
    else:
        counts = f": {ci.tests} tests, {ci.failures} failed, {ci.errors} errors, {ci.skipped} skipped"
    if not ci.passed:
        return False, f"The latest CI run ({ci.run_id}) did not pass{counts}.", evidence
    return True, f"CI run {ci.run_id} passed{counts}; its test report hash is recorded.", evidence


# The gates in checklist order: name → (title, check).
GATES: dict[str, tuple[str, Callable[[_Evidence], GateResult]]] = {
    "reproducible_pipeline": ("Reproducible pipeline", _reproducible_pipeline),
    "versioned_data": ("Versioned data", _versioned_data),
    "artifact_hash": ("Artifact hash", _artifact_hash),
    "evaluation_metrics": ("Evaluation metrics meet thresholds", _evaluation_metrics),
    "model_card": ("Model card complete and frozen", _model_card),
    "approvals": ("Approvals satisfied", _approvals),
    "ownership": ("Named owner with runbook", _ownership),
    "monitoring": ("Monitoring configured", _monitoring),
    "retraining_policy": ("Retraining policy defined", _retraining_policy),
    "ci_evidence": ("CI evidence", _ci_evidence),
}


def required_gates(risk_tier: str) -> frozenset[str]:
    """Return the gates a model of `risk_tier` must pass (settings.PRODUCTION_GATES)."""
    names = settings.PRODUCTION_GATES.get(risk_tier, ["all"])
    return frozenset(GATES) if "all" in names else frozenset(names) & frozenset(GATES)


@dataclass(frozen=True)
class GateReport:
    """The gates of one version for one environment; `passed` when none fails."""

    model: str
    version: str
    environment: str
    production: bool
    risk_tier: str
    passed: bool
    gates: list[dict[str, Any]]
    evaluated_at: str

    @property
    def failing(self) -> list[str]:
        return [gate["gate"] for gate in self.gates if not gate["passed"]]


def _gather(version: ModelVersion) -> _Evidence:
    model = RegisteredModel.objects.select_related("owner").get(pk=version.model_id)
    return _Evidence(
        version=version,
        model=model,
        thresholds=list(MetricThreshold.objects.filter(model=model, superseded_at__isnull=True)),
        approvals=list(version.approvals.select_related("signer").order_by("signed_at")),
        monitoring=MonitoringPolicy.objects.filter(model=model, superseded_at__isnull=True).first(),
        retraining=RetrainingPolicy.objects.filter(model=model, superseded_at__isnull=True).first(),
        ci=version.ci_evidence.select_related("posted_by").order_by("-posted_at", "-pk").first(),
        latest_card=version.cards.order_by("-revision").first(),
        datasets=sorted(
            (link.role, link.dataset.name, link.dataset.sha256, link.dataset.hash_kind)
            for link in version.dataset_links.select_related("dataset")
        ),
    )


def gates_evaluate(*, version: ModelVersion, environment: str = "production") -> GateReport:
    """Evaluate every gate of `version` for `environment` from what is recorded now.

    Reads only; the caller decides what a failure means (deployment_start refuses it).
    """
    evidence = _gather(version)
    required = required_gates(evidence.model.risk_tier)
    gates = []
    for name, (title, check) in GATES.items():
        ok, reason, details = check(evidence)
        status = "pass" if ok else ("fail" if name in required else "waived")
        gates.append(
            {
                "gate": name,
                "title": title,
                "required": name in required,
                "status": status,
                "passed": status != "fail",
                "reason": reason
                if status != "waived"
                else f"Not required for {evidence.model.risk_tier} risk: {reason}",
                "evidence": details,
            }
        )
    return GateReport(
        model=evidence.model.slug,
        version=version.version,
        environment=environment,
        production=environment in production_environments(),
        risk_tier=evidence.model.risk_tier,
        passed=all(gate["passed"] for gate in gates),
        gates=gates,
        evaluated_at=rfc3339(timezone.now()),
    )


def gates_for_deployment(version: ModelVersion, environment: str) -> tuple[bool, list[dict[str, Any]]]:
    """The deployment hook: (may deploy, gates to record). Only production environments block."""
    report = gates_evaluate(version=version, environment=environment)
    return (report.passed or not report.production), report.gates
