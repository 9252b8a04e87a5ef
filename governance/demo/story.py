"""The demo's story: the credit-risk model from registration to a monitored, rolled-back production."""

from __future__ import annotations

from django.contrib.auth.models import User

from governance.demo.world import (
    DRIFT_2_0_0,
    FULL_CARD,
    START,
    _approve,
    _assurance,
    _ci,
    _Clock,
    _finding,
    _observe,
    _policies,
    _sha,
    _simulated,
    _version,
)
from governance.models import RegisteredModel
from governance.services import access as access_services
from governance.services import (
    alerts,
    deployments,
    registry,
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
        _assurance(owner, model)
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
        _finding(
            officers[0],
            v110,
            "f-01",
            "Impact ratio for age 65+ close to the 0.80 floor.",
            "remediated",
            "Monthly impact-ratio monitoring added to the PMM plan.",
        )
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
        _finding(
            officers[0],
            v200,
            "f-01",
            "Back-test covers only 2025 applications; the 2024 vintage is not re-scored.",
            "in_remediation",
            "Re-score the 2024 vintage and compare KS before the next release.",
        )
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
