"""The demo story behind `manage.py seed_demo`: one high-risk credit model's life.

credit-risk (owned by demo-owner) has four versions: 1.0.0 (approved, deployed, later retired),
1.1.0 (approved by both officers, serving production), 2.0.0 (approved, deployed, rolled back to
1.1.0 after an alert) and 2.1.0 (registered by the pipeline, card incomplete, no approvals: the
review candidate), plus 10,000 decisions on the versions deployed at their times.

The owner declares the metric thresholds, the monitoring policy and the retraining policy before
the first deployment, and the pipeline posts CI evidence for each version it promotes, so 1.1.0
clears every production gate while 2.1.0 fails several (card, approvals, CI). The monitoring
sources post daily observations; on 2.0.0 the income band drifts until the evaluation job opens
a drift alert, the owner acknowledges it, three drifted windows open a retraining request, the
owner rolls back to 1.1.0 and resolves the alert, and 2.1.0 is registered to answer the request.

The story is dated over past months: the services run under a simulated clock so deployments
and signatures carry those dates. Ledger integration times are real.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from unittest import mock

from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.db import transaction

from governance.models import ModelVersion, RegisteredModel
from governance.roles import Role
from governance.services import access as access_services
from governance.services import (
    alerts,
    approvals,
    ci_evidence,
    decisions,
    deployments,
    monitoring,
    policies,
    registry,
    retraining,
)
from governance.services.identity import officers as officer_services
from ledger import services as ledger_services
from model_ledger_verify import canonical

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


def story(users: dict[str, User], password: str) -> RegisteredModel:
    """Write the credit-risk story through the services; return the model."""
    owner, pipeline = users["demo-owner"], users["demo-pipeline"]
    officers = [users["demo-officer-1"], users["demo-officer-2"]]
    clock = _Clock(START)
    with _simulated(clock):
        model = registry.model_register(
            actor=owner,
            slug="credit-risk",
            name="Consumer credit risk",
            owner=owner,
            risk_tier="high",
            regulated_use="credit",
            intended_purpose="Estimate 24-month default risk of consumer credit applicants.",
            out_of_scope_uses="Small-business credit; employment or insurance decisions.",
            provider="Example Bank plc, 1 Bank Street, London",
            runbook="https://wiki.example.com/runbooks/credit-risk",
        )
        access_services.access_grant(
            actor=officers[0],
            model=model,
            grantee=pipeline,
            actions=["register", "log"],
            reason="Training and serving pipeline",
        )
        _policies(owner, model)
        sets = {}
        for name, rows in (
            ("train-2024", 1_200_000),
            ("validation-2024", 150_000),
            ("test-2024", 150_000),
            ("train-2025", 1_400_000),
        ):
            sets[name], _ = registry.dataset_register(
                actor=pipeline,
                name=f"credit-{name}",
                uri=f"s3://data/credit/{name}.parquet",
                sha256=_sha(name),
                size_bytes=rows * 120,
                row_count=rows,
                provenance="Core banking exports, pseudonymised.",
                preparation="Deduplicated; outcomes joined at 24 months.",
            )

        def links(train: str) -> list[dict[str, str]]:
            return [
                {"sha256": sets[train].sha256, "role": "training"},
                {"sha256": sets["validation-2024"].sha256, "role": "validation"},
                {"sha256": sets["test-2024"].sha256, "role": "test"},
            ]

        v100 = _version(pipeline, model, "1.0.0", None, "0.8512", links("train-2024"))
        registry.card_revise(actor=pipeline, version=v100, content=FULL_CARD)
        _ci(pipeline, v100)
        clock.advance(days=3)
        _approve(v100, officers, password)
        deployments.deployment_start(
            actor=pipeline,
            version=v100,
            environment="production",
            change_ticket="CHG-1001",
            ci_run_id="ci-100",
        )
        clock.advance(days=60)
        v110 = _version(pipeline, model, "1.1.0", "1.0.0", "0.8731", links("train-2024"))
        registry.card_revise(actor=pipeline, version=v110, content=FULL_CARD)
        _ci(pipeline, v110)
        clock.advance(days=2)
        _approve(v110, officers, password)
        deployments.deployment_start(
            actor=pipeline,
            version=v110,
            environment="production",
            change_ticket="CHG-1002",
            ci_run_id="ci-110",
        )
        clock.advance(days=1)
        deployments.version_retire(actor=owner, version=v100, reason="Superseded by 1.1.0.")
        for day in range(14):
            _observe(pipeline, model, "1.1.0", clock, day, shift=day % 2)
        clock.advance(days=76)
        v200 = _version(pipeline, model, "2.0.0", "1.1.0", "0.8804", links("train-2025"))
        registry.card_revise(actor=pipeline, version=v200, content=FULL_CARD)
        _ci(pipeline, v200)
        clock.advance(days=4)
        _approve(v200, officers, password)
        deployments.deployment_start(
            actor=pipeline,
            version=v200,
            environment="production",
            change_ticket="CHG-1003",
            ci_run_id="ci-200",
        )
        drift_alert = None
        for day, shift in enumerate(DRIFT_2_0_0):
            _observe(pipeline, model, "2.0.0", clock, day, shift)
            drift_alert = drift_alert or model.alerts.filter(kind="drift", version=v200).first()
            if drift_alert is not None and drift_alert.state == "open":
                clock.advance(hours=3)
                drift_alert = alerts.alert_acknowledge(
                    actor=owner, alert=drift_alert, note="Income band shifting since the 2025 data refresh; watching."
                ).record
        assert drift_alert is not None, "the demo drift must open an alert before the rollback"
        clock.advance(hours=2)
        v110.refresh_from_db()
        deployments.deployment_start(
            actor=owner,
            version=v110,
            environment="production",
            change_ticket="CHG-1004",
            reason=f"Rollback: input drift alert {drift_alert.pk} on 2.0.0.",
        )
        clock.advance(hours=1)
        alerts.alert_resolve(
            actor=owner,
            alert=drift_alert,
            note="Rolled back to 1.1.0 under CHG-1004; retraining requested on the drift rule.",
        )
        for day in range(10):
            _observe(pipeline, model, "1.1.0", clock, day, shift=day % 2)
        clock.advance(days=20)
        request = model.retraining_requests.get(state="open")
        v210 = _version(
            pipeline, model, "2.1.0", "2.0.0", "0.8822", links("train-2025"), retraining_request=request.pk
        )
        partial = {k: v for k, v in FULL_CARD.items() if k not in ("quantitative_analyses", "ethical_considerations")}
        registry.card_revise(actor=pipeline, version=v210, content=partial)
    return model


def decision_items(model: RegisteredModel, count: int = DECISIONS) -> Iterator[list[dict]]:
    """Yield batches of demo decisions, each on the version serving production at its time."""
    spans = list(model.deployments.filter(environment="production").select_related("version").order_by("started_at"))
    first, last = (
        spans[0].started_at,
        (spans[-1].ended_at or spans[-1].started_at + timedelta(days=30)),
    )
    step = (last - first) / (count + 1)
    batch: list[dict] = []
    for n in range(1, count + 1):
        at = first + step * n
        serving = next(d for d in reversed(spans) if d.started_at <= at)
        score = (n * 7919) % 1000
        label = "approve" if score < 700 else "decline"
        overridden = n % 97 == 0
        features = {
            "income_band": str(n % 7),
            "region": ["north", "south", "east", "west"][n % 4],
            "utilisation": f"0.{(n * 31) % 100:02d}",
        }
        batch.append(
            {
                "decision_id": f"demo-{n:05d}",
                "version": serving.version.version,
                "occurred_at": at,
                "subject_ref": f"applicant-{(n * 104729) % 50000:05d}",
                "input_snapshot": features,
                "input_sha256": hashlib.sha256(canonical.dumps(features)).hexdigest(),
                "output_label": label,
                "output_score": f"0.{score:03d}",
                "reasons": [
                    {"code": "R01", "text": "Credit utilisation is high", "contribution": "0.31"},
                    {"code": "R07", "text": "Short credit history", "contribution": "0.12"},
                ],
                "mode": "human_reviewed" if overridden else "automated",
                "reviewer": "underwriter-7" if overridden else "",
                "overridden": overridden,
                "override_reason": "Verified income documents" if overridden else "",
                "final_label": "approve" if overridden else label,
            }
        )
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def seed(password: str = PASSWORD, progress=None, decision_count: int = DECISIONS) -> tuple[int, int]:
    """Create the demo data if missing; return (new decisions, total decisions)."""
    with transaction.atomic():
        users = people(password)
    ledger_services.tree_integrate_all()  # the officers' role grants have their seq before they sign
    with transaction.atomic():
        model = RegisteredModel.objects.filter(slug="credit-risk").first()
        if model is None:
            model = story(users, password)
    created = 0
    for batch in decision_items(model, decision_count):
        created += decisions.decision_log_batch(actor=users["demo-pipeline"], model=model, items=batch).created
        if progress:
            progress(int(batch[-1]["decision_id"].split("-")[1]), decision_count)
    return created, decision_count
