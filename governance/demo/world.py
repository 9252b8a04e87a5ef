"""The demo's people, constants, simulated clock and the small steps the story repeats."""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from unittest import mock

from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command

from governance.models import ModelVersion, RegisteredModel
from governance.roles import Role
from governance.services import (
    approvals,
    assurance,
    ci_evidence,
    monitoring,
    policies,
    registry,
    retraining,
)
from governance.services.identity import officers as officer_services

PASSWORD = "demo-password"  # noqa: S105 — documented demo sign-in, never a real secret


PEOPLE = {
    "demo-compliance-head": ("Grace", "Hopper-Lindqvist", Role.COMPLIANCE_OFFICER),
    "demo-owner": ("Olivia", "Okafor", Role.MODEL_OWNER),
    "demo-officer-1": ("Αθηνά", "Παπαδοπούλου", Role.COMPLIANCE_OFFICER),
    "demo-officer-2": ("Zoë", "Ångström-Núñez", Role.COMPLIANCE_OFFICER),
    "demo-auditor": ("Дмитрий", "Иванов", Role.AUDITOR),
    "demo-admin": ("Ada", "Admin", Role.ADMIN),
}


DECISIONS = 10_000


BATCH = 1_000


START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


FULL_CARD = {
    "model_details": "Gradient-boosted trees scoring consumer credit applications; owner: Olivia Okafor.",
    "intended_use": "Rank applications for manual and automated credit decisions in the EU and US.",
    "factors": "Age band, region and income band examined for disparate impact.",
    "metrics": "AUC, KS and approval-rate impact ratio by protected group (four-fifths rule).",
    "evaluation_data": "Held-out 2025 applications (test set), stratified by region.",
    "training_data": "2019-2024 applications with 24-month repayment outcomes.",
    "quantitative_analyses": "AUC 0.87 overall; impact ratios 0.86-0.97 across groups.",
    "ethical_considerations": "No protected attributes as inputs; adverse-action reasons from SHAP.",
    "caveats_and_recommendations": "Re-validate yearly and on drift alerts; not for small-business credit.",
}


# The income-band reference distribution, and how far the live one has shifted each day that
# 2.0.0 serves (0 is none; 6 and above cross the PSI threshold of 0.25).
INCOME_REFERENCE = [120, 180, 250, 200, 150, 100]


DRIFT_2_0_0 = [1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 2, 3, 4, 5, 6, 7, 7]


class _Clock:
    """A clock that only moves forward when told; stands in for timezone.now during the story."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@contextlib.contextmanager
def _simulated(clock: _Clock) -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", clock):
        yield


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def people(password: str) -> dict[str, User]:
    """Create (or refresh) the demo users and role groups; return them by username.

    The officers are made as in a real installation: the head of compliance is bootstrapped by
    `manage.py bootstrap_officer`, and the two reviewing officers are proposed by the admin and
    confirmed by the head, so neither reviewer confirmed the other (they co-sign high-risk models).
    """
    groups = {role: Group.objects.get_or_create(name=role)[0] for role in Role.values}
    read_ledger = Permission.objects.get(codename="view_entry")
    for role in (Role.AUDITOR, Role.COMPLIANCE_OFFICER, Role.ADMIN):
        groups[role].permissions.add(read_ledger)
    users: dict[str, User] = {}
    for username, (first, last, role) in PEOPLE.items():
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last}
        )
        if created or not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        if role != Role.COMPLIANCE_OFFICER:
            user.groups.add(groups[role])
        users[username] = user
    admin = users["demo-admin"]
    if not admin.is_staff:
        admin.is_staff = admin.is_superuser = True
        admin.save(update_fields=["is_staff", "is_superuser"])
    _officers(users)
    pipeline, created = User.objects.get_or_create(username="demo-pipeline", defaults={"first_name": "Pipeline"})
    if created:
        pipeline.set_unusable_password()  # a service account: it signs in with API tokens only
        pipeline.save(update_fields=["password"])
    pipeline.groups.add(groups[Role.PIPELINE])
    users["demo-pipeline"] = pipeline
    return users


def _officers(users: dict[str, User]) -> None:
    """Bootstrap the head of compliance, then propose and confirm the two reviewing officers,
    dated before the story starts (every signature comes after its signer's role grant)."""
    head = users["demo-compliance-head"]
    clock = _Clock(START - timedelta(days=14))
    with _simulated(clock):
        if not officer_services.is_officer(head):
            call_command("bootstrap_officer", head.get_username(), reason="head of compliance", stdout=io.StringIO())
        for name in ("demo-officer-1", "demo-officer-2"):
            if officer_services.is_officer(users[name]):
                continue
            clock.advance(hours=1)
            grant = officer_services.officer_propose(
                actor=users["demo-admin"], grantee=users[name], reason="credit model reviewer", via="command"
            )
            clock.advance(hours=2)
            officer_services.officer_confirm(actor=head, grant=grant, via="command")


def _version(
    pipeline: User,
    model: RegisteredModel,
    number: str,
    parent: str | None,
    auc: str,
    datasets: list[dict[str, str]],
    retraining_request: int | None = None,
) -> ModelVersion:
    return registry.version_register(
        actor=pipeline,
        model=model,
        version=number,
        parent=parent,
        artifact_sha256=_sha(f"credit-risk-{number}-weights"),
        artifact_uri=f"s3://models/credit-risk/{number}/model.tar.gz",
        datasets=datasets,
        code_repository="https://git.example.com/risk/credit-risk",
        code_commit=_sha(number)[:40],
        pipeline_run_id=f"run-{number}",
        pipeline_run_url=f"https://ci.example.com/runs/{number}",
        environment_lock_sha256=_sha(f"lock-{number}"),
        hyperparameters={"max_depth": "6", "learning_rate": "0.05", "n_estimators": "400"},
        metrics=[
            {"name": "auc", "value": auc},
            {"name": "ks", "value": "0.52"},
            {"name": "impact_ratio", "value": "0.86", "slice": "age_band=65+"},
        ],
        description=f"credit-risk {number}",
        retraining_request=retraining_request,
    )


def _policies(owner: User, model: RegisteredModel) -> None:
    """Declare what the production gates and the watch jobs judge the model by."""
    policies.thresholds_set(
        actor=owner,
        model=model,
        thresholds=[
            {"metric": "auc", "operator": "min", "value": "0.85"},
            {"metric": "ks", "operator": "min", "value": "0.40"},
            {"metric": "impact_ratio", "slice": "age_band=65+", "operator": "min", "value": "0.80"},
        ],
    )
    policies.monitoring_policy_set(
        actor=owner,
        model=model,
        expected_interval_minutes=24 * 60,
        psi_threshold="0.25",
        ks_threshold="0.20",
        min_volume=500,
    )
    policies.retraining_policy_set(
        actor=owner,
        model=model,
        drift_windows=3,
        accuracy_metric="auc",
        accuracy_floor="0.82",
        max_age_days=365,
        new_data_uri_prefix="s3://data/credit/train-",
    )


def _ci(pipeline: User, version: ModelVersion) -> None:
    cases = "".join(f'<testcase classname="credit_risk.tests" name="test_{n}"/>' for n in range(48))
    report = f'<testsuite name="credit-risk {version.version}" tests="48" failures="0" errors="0">{cases}</testsuite>'
    ci_evidence.ci_evidence_post(
        actor=pipeline,
        version=version,
        run_id=f"ci-{version.version}",
        url=f"https://ci.example.com/runs/ci-{version.version}",
        report=report.encode(),
    )


def _observe(pipeline: User, model: RegisteredModel, version: str, clock: _Clock, day: int, shift: int) -> None:
    """Post one day's observations of `version` in production: the income band shifted by
    `shift` (server-side PSI and KS from bins), two stable features, predictions and volume,
    and weekly the live AUC once labels arrive. Then run the watch jobs as beat would."""
    end = clock.advance(days=1)
    window = {"version": version, "window_start": end - timedelta(days=1), "window_end": end}
    income = [count * (40 + shift * (2 * i - 5)) // 40 for i, count in enumerate(INCOME_REFERENCE)]
    items = [
        {
            **window,
            "kind": "feature_drift",
            "feature": "income_band",
            "bins": {"reference": INCOME_REFERENCE, "live": income},
        },
        {**window, "kind": "feature_drift", "feature": "utilisation", "psi": f"0.0{day % 4 + 2}", "ks": "0.031"},
        {**window, "kind": "feature_drift", "feature": "region", "psi": "0.012", "ks": "0.018"},
        {**window, "kind": "prediction_drift", "psi": f"0.0{min(shift, 9)}5", "ks": f"0.0{min(shift, 9)}4"},
        {**window, "kind": "volume", "count": 1_350 + (day * 37) % 120},
    ]
    if day % 7 == 6:
        items.append({**window, "kind": "performance", "metric": "auc", "value": f"0.8{7 - shift // 4}{day % 10}"})
    monitoring.observation_post_batch(actor=pipeline, model=model, items=items)
    monitoring.monitoring_evaluate()
    retraining.retraining_evaluate()


def _approve(version: ModelVersion, officers: list[User], password: str) -> None:
    for officer in officers:
        approvals.approval_sign(
            signer=officer,
            version=version,
            password=password,
            meaning="approved",
            reason="Validation report reviewed; metrics within thresholds.",
        )


def _assurance(owner: User, model: RegisteredModel) -> None:
    """The owner classifies the model, keeps its risk register and names its oversight measures."""
    assurance.classification_record(
        actor=owner,
        model=model,
        intended_purpose="Estimate 24-month default risk of consumer credit applicants for credit decisions.",
        annex_iii="5(b)",
        rationale="Evaluates the creditworthiness of natural persons.",
        role="provider",
    )
    assurance.risk_record(
        actor=owner,
        model=model,
        entry_id="r-01",
        hazard="Proxy discrimination through region and income band.",
        affected="Applicants aged 65+ and applicants from rural regions.",
        mitigation="Impact ratios by group gated at 0.80; no protected attributes as inputs.",
        residual_level="medium",
        acceptance="accepted",
        acceptance_note="Accepted by the model risk committee (minutes MRC-2026-01), Grace Hopper-Lindqvist chairing.",
    )
    assurance.risk_record(
        actor=owner,
        model=model,
        entry_id="r-02",
        hazard="Input drift after data refreshes degrades ranking quality.",
        affected="All applicants.",
        mitigation="Daily PSI and KS monitoring; retraining after three drifted windows.",
        residual_level="medium",
        acceptance="pending",
    )
    assurance.oversight_record(
        actor=owner,
        model=model,
        entry_id="o-01",
        measure="Underwriters review every decline before notice; they may override with a reason code.",
        responsible="Credit underwriting team lead",
    )
    assurance.oversight_record(
        actor=owner,
        model=model,
        entry_id="o-02",
        measure="The model owner may roll production back to the last approved version at any time.",
        responsible="Model owner",
    )


def _finding(officer: User, version: ModelVersion, entry_id: str, title: str, state: str, remediation: str) -> None:
    assurance.finding_record(
        actor=officer,
        version=version,
        entry_id=entry_id,
        title=title,
        severity="medium",
        remediation=remediation,
        state=state,
    )
